// SPDX-License-Identifier: MIT
// configureAssets(), the escape hatch for hosts that moved the package's files: bad options are
// TypeErrors naming the option; kernel bytes or a kernel or network folder given by the caller are
// what runs, and only the build that runs is read; a wrong folder fails with the URL it tried and the
// option that fixes it. The kernel module is cached per process,
// so each case runs in a fresh Node process.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { cleanup, ROOT, tempDir } from "./pack.js";

const test = suite("configureAssets");
let dir: string;
test.before(() => { dir = tempDir("assets"); });
test.after(() => cleanup(dir));

/** Runs `body` (an async function body with `srgan` = src/index.browser.ts) in a fresh process; returns its JSON. */
function inFreshProcess(body: string): unknown {
  const entry = pathToFileURL(join(ROOT, "src/index.browser.ts")).href;
  const code = `const srgan = await import(${JSON.stringify(entry)});\nconst result = await (async () => {${body}})();\nconsole.log(JSON.stringify(result));`;
  const out = execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
  return JSON.parse(out.trim().split("\n").pop()!);
}

test("bad options are TypeErrors that name the option", () => {
  const r = inFreshProcess(`
    const errs = [];
    for (const o of [null, { wasmBaseUrl: "file:///no/slash" }, { wasmBaseUrl: 42 }, { workerUrl: "" },
      { wasmBytes: { simd: "bytes" } }, { wasmBytes: { simd: new Uint8Array(new SharedArrayBuffer(8)) } },
      { wasmBaseUrl: "file:///x/", wasmBytes: { simd: new Uint8Array(8) } }, { modelBaseUrl: "file:///models" }]) {
      try { srgan.configureAssets(o); errs.push("no error"); } catch (e) { errs.push(e.name + ": " + e.message); }
    }
    return errs;`) as string[];
  assert.is(r.length, 8);
  for (const e of r) assert.match(e, /^TypeError: /);
  assert.match(r[1], /options\.wasmBaseUrl must name a folder/);
  assert.match(r[2], /options\.wasmBaseUrl/);
  assert.match(r[3], /options\.workerUrl/);
  assert.match(r[4], /options\.wasmBytes\.simd/);
  assert.match(r[5], /not shared/);
  assert.match(r[6], /not both/);
  assert.match(r[7], /options\.modelBaseUrl must name a folder/);
});

test("wasmBytes: the given SIMD build runs (no relaxed build given, so 'auto' picks simd)", () => {
  const r = inFreshProcess(`
    const { readFile } = await import("node:fs/promises");
    srgan.configureAssets({ wasmBytes: { simd: await readFile(${JSON.stringify(join(ROOT, "wasm/kernels.simd.wasm"))}) } });
    const up = await srgan.createUpscaler({ model: "nearest", threads: 0 });
    const out = await up.upscale({ data: new Uint8ClampedArray([10, 20, 30, 255]), width: 1, height: 1 });
    return { variant: up.info().wasmVariant, first: Array.from(out.data.slice(0, 4)), width: out.width };`);
  assert.equal(r, { variant: "simd", first: [10, 20, 30, 255], width: 4 });
});

test("one kernel build is fetched: the engine is asked for relaxed SIMD first, then only that build is read", () => {
  const r = inFreshProcess(`
    const { readFile } = await import("node:fs/promises");
    const fetched = [];
    // The browsers' path (fetch), served from the checkout's wasm/ and counted.
    globalThis.fetch = async (url) => {
      const name = new URL(url).pathname.split("/").pop();
      fetched.push(name);
      return new Response(await readFile(${JSON.stringify(join(ROOT, "wasm"))} + "/" + name));
    };
    srgan.configureAssets({ wasmBaseUrl: "https://cdn.example/srgan/" });
    const auto = await srgan.createUpscaler({ model: "nearest", threads: 0 });
    const afterAuto = [...fetched];
    const simd = await srgan.createUpscaler({ model: "nearest", threads: 0, wasmVariant: "simd" });
    return { afterAuto, all: fetched, variants: [auto.info().wasmVariant, simd.info().wasmVariant] };`);
  // Node 20.16+ gets relaxed SIMD from the V8 flag module.ts sets; 22+ has it without.
  assert.equal(r, { afterAuto: ["kernels.relaxed.wasm"], all: ["kernels.relaxed.wasm", "kernels.simd.wasm"], variants: ["relaxed", "simd"] });
});

test("wasmBaseUrl: kernels load from the given folder; a folder without them names the URL and the fix", () => {
  const good = join(dir, "kernels");
  mkdirSync(good);
  for (const f of ["kernels.simd.wasm", "kernels.relaxed.wasm"]) copyFileSync(join(ROOT, "wasm", f), join(good, f));
  const r = inFreshProcess(`
    srgan.configureAssets({ wasmBaseUrl: ${JSON.stringify(pathToFileURL(join(dir, "empty")).href + "/")} });
    let error;
    try { await srgan.createUpscaler({ model: "nearest", threads: 0, wasmVariant: "simd" }); } catch (e) { error = { code: e.code, message: e.message }; }
    srgan.configureAssets({ wasmBaseUrl: ${JSON.stringify(pathToFileURL(good).href + "/")} });
    const up = await srgan.createUpscaler({ model: "nearest", threads: 0, wasmVariant: "simd" });
    return { error, variant: up.info().wasmVariant };`) as { error: { code: string; message: string }; variant: string };
  assert.is(r.error.code, "ERR_UNSUPPORTED");
  assert.match(r.error.message, /empty\/kernels\.simd\.wasm/);
  assert.match(r.error.message, /configureAssets/);
  assert.is(r.variant, "simd");
});

test("modelBaseUrl: built-in networks load from the given folder; a folder without them names modelBaseUrl, not wasmBaseUrl", () => {
  const good = join(dir, "models");
  mkdirSync(good);
  copyFileSync(join(ROOT, "models/natural-fast-x4.srnet"), join(good, "natural-fast-x4.srnet"));
  const r = inFreshProcess(`
    srgan.configureAssets({ modelBaseUrl: ${JSON.stringify(pathToFileURL(join(dir, "nowhere")).href + "/")} });
    let error;
    try { await srgan.createUpscaler({ model: "natural-fast", threads: 0 }); } catch (e) { error = { code: e.code, message: e.message }; }
    srgan.configureAssets({ modelBaseUrl: ${JSON.stringify(pathToFileURL(good).href + "/")} });
    const up = await srgan.createUpscaler({ model: "natural-fast", threads: 0 });
    return { error, model: up.info().model };`) as { error: { code: string; message: string }; model: string };
  assert.is(r.error.code, "ERR_UNSUPPORTED");
  assert.match(r.error.message, /nowhere\/natural-fast-x4\.srnet/);
  assert.match(r.error.message, /configureAssets\(\{ modelBaseUrl \}\)/);
  assert.not.match(r.error.message, /wasmBaseUrl/);
  assert.is(r.model, "natural-fast");
});

test.run();
