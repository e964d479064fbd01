// SPDX-License-Identifier: MIT
// The published package, not the checkout: `npm pack` holds every file the code points at (each
// literal new URL(…, import.meta.url) and each "exports" target), and a fresh Node project that
// installs the tarball upscales through `import` and `require` with worker threads, byte for byte as
// src/ does, and type-checks against the shipped declarations.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync } from "node:child_process";
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { join, posix } from "node:path";
import { assertBuilt, cleanup, installInto, pack, ROOT, tarballFiles, tempDir } from "./pack.js";
import { firstDiff, nodeReference, sampleImage } from "./fixtures.js";

const test = suite("npm pack");
let dir: string;
let tarball: string;
let files: string[];

test.before(() => {
  assertBuilt();
  dir = tempDir("pack");
  tarball = pack(dir);
  files = tarballFiles(tarball);
});
test.after(() => cleanup(dir));

test("the tarball ships the kernels, both entries' workers and the platform entries, and no sources of the build", () => {
  for (const f of ["wasm/kernels.simd.wasm", "wasm/kernels.relaxed.wasm", "dist/worker/web-entry.js", "dist/worker/node-entry.js",
    "dist/index.js", "dist/index.browser.js", "dist/index.deno.js", "dist/platform/pool-web.js", "package.json"]) {
    assert.ok(files.includes(f), `${f} is packed`);
  }
  for (const f of files) assert.not.match(f, /^(test|assembly|scripts|bench|demo|node_modules|packages)\/|\.wat$|\.tgz$/, `${f} should not be packed`);
});

test("every literal new URL(…, import.meta.url) in dist/ and every exports target resolves inside the package", () => {
  const packed = new Set(files);
  let urls = 0;
  for (const f of files.filter((p) => p.startsWith("dist/") && p.endsWith(".js"))) {
    const code = readFileSync(join(ROOT, f), "utf8");
    for (const m of code.matchAll(/new URL\(\s*["'`](\.{1,2}\/[^"'`]+)["'`]\s*,\s*import\.meta\.url\s*\)/g)) {
      const target = posix.normalize(posix.join(posix.dirname(f), m[1]));
      // Only the .js form ships; the .ts form is what tests under tsx load.
      if (target.endsWith(".ts")) continue;
      assert.ok(packed.has(target), `${f} points at ${m[1]} = ${target}, which is not packed`);
      urls++;
    }
  }
  assert.ok(urls >= 4, `found ${urls} asset URLs (wasm ×2, web worker, node worker)`);
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
  const targets: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === "string") targets.push(v);
    else if (v && typeof v === "object") Object.values(v).forEach(walk);
  };
  walk(pkg.exports);
  for (const t of targets) {
    if (t.includes("*")) {
      const re = new RegExp(`^${t.slice(2).replace(/[.]/g, "\\.").replace("*", ".+")}$`);
      assert.ok(files.some((f) => re.test(f)), `exports pattern ${t} matches a packed file`);
    } else assert.ok(packed.has(t.slice(2)), `exports target ${t} is packed`);
  }
  for (const from of Object.keys(pkg.browser ?? {})) assert.ok(packed.has(from.slice(2)), `browser field key ${from} is a packed file`);
});

test("installed from the tarball: import and require both upscale with 2 worker threads, identical to src/", async () => {
  const proj = join(dir, "consumer");
  installInto(proj, tarball);
  const image = sampleImage(41, 29, 7, true);
  writeFileSync(join(proj, "in.rgba"), image.data);
  const body = (load: string) => `${load}
const { readFileSync, writeFileSync } = await import("node:fs");
const [input, w, h, output] = process.argv.slice(2);
const up = await createUpscaler({ model: "bicubic", threads: 2 });
const out = await up.upscale({ data: new Uint8ClampedArray(readFileSync(input)), width: +w, height: +h });
writeFileSync(output, out.data);
console.log(JSON.stringify({ threads: up.info().threads, width: out.width, height: out.height }));
await up.dispose();
`;
  writeFileSync(join(proj, "esm.mjs"), body(`import { createUpscaler } from "srgan-wasm";`));
  // require(esm) (Node ≥ 20.19 / 22.12) loads the ESM-only package from CommonJS.
  writeFileSync(join(proj, "cjs.cjs"), `(async () => {\nconst { createUpscaler } = require("srgan-wasm");\n${body("").replace(/await import\("node:fs"\)/, 'require("node:fs")')}\n})().catch((e) => { console.error(e); process.exit(1); });`);
  const expected = await nodeReference(image, "bicubic");
  for (const script of ["esm.mjs", "cjs.cjs"]) {
    const out = join(proj, `${script}.out`);
    const stdout = execFileSync(process.execPath, [script, "in.rgba", "41", "29", out], { cwd: proj, encoding: "utf8", timeout: 60_000 });
    const info = JSON.parse(stdout.trim().split("\n").pop()!);
    assert.equal(info, { threads: 2, width: 164, height: 116 }, script);
    const got = readFileSync(out);
    assert.is(firstDiff(got, expected.data), -1, `${script}: bytes differ from src/'s result`);
  }
});

test("installed from the tarball: an ONNX file runs (the ONNX reader and its schema package load on demand)", () => {
  const proj = join(dir, "consumer");
  copyFileSync(join(ROOT, "test/fixtures/onnx/tiny-torch.onnx"), join(proj, "tiny.onnx"));
  writeFileSync(join(proj, "onnx.mjs"), `import { createUpscaler } from "srgan-wasm";
const up = await createUpscaler({ model: "tiny.onnx", threads: 0 });
const out = await up.upscale({ data: new Uint8ClampedArray(12 * 16 * 4).fill(200), width: 16, height: 12 });
console.log(JSON.stringify({ model: up.info().model, width: out.width, height: out.height }));
await up.dispose();
`);
  const stdout = execFileSync(process.execPath, ["onnx.mjs"], { cwd: proj, encoding: "utf8", timeout: 60_000 });
  assert.equal(JSON.parse(stdout.trim().split("\n").pop()!), { model: "tiny.onnx", width: 64, height: 48 });
});

test("consumers type-check against the shipped declarations, browser helpers from the root (node16, nodenext, bundler with and without the browser condition)", () => {
  const proj = join(dir, "consumer");
  writeFileSync(join(proj, "consumer.ts"), `
import { createUpscaler, type Upscaler, type UpscalerOptions, SrganError, readImage, toBlob, toCanvas, toImageData, configureAssets } from "srgan-wasm";
import * as byName from "srgan-wasm/browser";
export async function run(file: Blob): Promise<Blob> {
  const same: typeof readImage = byName.readImage;
  void same;
  configureAssets({ wasmBaseUrl: "/assets/", modelBaseUrl: "/assets/models/", workerUrl: "/assets/worker.js" });
  const options: UpscalerOptions = { model: "bicubic", threads: 2 };
  const up: Upscaler = await createUpscaler(options);
  const out = await up.upscale(await readImage(file), { onProgress: (p) => p.fraction });
  const data: ImageData = toImageData(out);
  const canvas: HTMLCanvasElement = toCanvas(out);
  void data; void canvas; void SrganError;
  // @ts-expect-error: unknown options are rejected
  await createUpscaler({ nope: true });
  return toBlob(out, { type: "image/png" });
}
`);
  const tsc = join(ROOT, "node_modules/typescript/bin/tsc");
  for (const [module, resolution, customConditions] of [["node16", "node16", []], ["nodenext", "nodenext", []], ["esnext", "bundler", []], ["esnext", "bundler", ["browser"]]]) {
    writeFileSync(join(proj, "tsconfig.json"), JSON.stringify({
      compilerOptions: { noEmit: true, strict: true, skipLibCheck: true, types: [], target: "es2022", lib: ["es2022", "dom"], module, moduleResolution: resolution, customConditions },
      files: ["consumer.ts"],
    }));
    try {
      execFileSync(process.execPath, [tsc, "-p", "tsconfig.json"], { cwd: proj, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    } catch (e) {
      assert.unreachable(`tsc (${resolution} ${customConditions}) failed:\n${(e as { stdout?: string }).stdout}`);
    }
  }
});

test.run();
