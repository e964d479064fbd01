// SPDX-License-Identifier: MIT
// The WebGL2 backend in a real browser: bundles test/browser/webgl-page.ts, serves it cross-origin
// isolated (so the wasm Upscaler gets its shared memory) and drives headless Chromium on SwiftShader
// WebGL2, all through the harness in ./chromium.ts. Asserts that WebGL agrees with the reference ops
// on the op-case corpus (test/ops/cases.ts), with the wasm backend within ±1 (u8) on the built-in
// networks and the shipped `natural` (models/natural-x4.srnet), that tiles respect MAX_TEXTURE_SIZE,
// that context loss gives ContextLostError and recovers, that dispose() returns every texture, and that
// transparent edges keep their colour on every built-in (the red disc of test/alpha-disc.ts).
// Without Chromium this file skips with one line, unless CI is set (then it fails).
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { fileURLToPath } from "node:url";
import { bundle, callPage, haveChromium, launch, modulePage, servePage } from "./chromium.js";
import { caseNames, opCase, mismatch, type Comparison } from "../ops/cases.js";

const TOL = 1e-3;
const test = suite("WebGL2 backend (headless Chromium)");

if (haveChromium("the WebGL2 browser tests")) await defineBrowserTests();
else test.skip("WebGL2 browser tests", () => {});
test.run();

async function defineBrowserTests(): Promise<void> {
  const started = Date.now();
  const js = await bundle({ entryPoints: [fileURLToPath(new URL("webgl-page.ts", import.meta.url))] });
  const [server, browser] = await Promise.all([servePage({ "index.html": modulePage("webgl test"), "page.js": js }, { fixtures: fileURLToPath(new URL("../fixtures/community/synthetic", import.meta.url)) }), launch({ angle: "swiftshader" })]);
  const page = browser.context.pages()[0] ?? await browser.context.newPage();
  const pageErrors: string[] = [];
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") pageErrors.push(m.text()); });
  await page.goto(`${server.url}index.html`);
  await page.waitForFunction(() => (globalThis as { webglTestReady?: boolean }).webglTestReady === true, undefined, { timeout: 30_000 });
  console.log(`  (setup: bundle + server + Chromium in ${Date.now() - started} ms)`);

  const timings: Record<string, { ms: number; n: number }> = {};
  /** Calls webglTest[fn](...args) in the page, with a timeout so a hung GPU call fails the test. */
  const call = async <T>(fn: string, ...args: unknown[]): Promise<T> => {
    const run = callPage<T>(page, "webglTest", fn, ...args);
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${fn} timed out after 60 s`)), 60_000); });
    const t0 = Date.now();
    try { return (await Promise.race([run, limit])) as T; } finally {
      const t = (timings[fn] ??= { ms: 0, n: 0 }); t.ms += Date.now() - t0; t.n++; clearTimeout(timer); if (pageErrors.length) console.log(`  page errors: ${pageErrors.splice(0).join(" | ")}`); }
  };

  test.after(async () => {
    console.log(`  worst relative error vs reference (float32 paths): ${worstSeen.toExponential(1)}`);
    console.log(`  page time: ${Object.entries(timings).map(([f, t]) => `${f} ${t.ms} ms${t.n > 1 ? ` (${t.n} calls)` : ""}`).join(", ")}`);
    await browser.close();
    await server.close();
  });

  type Cmp = Comparison;
  let worstSeen = 0;
  const close = (c: Cmp, label: string, tol = TOL) => {
    worstSeen = Math.max(worstSeen, c.worst);
    const why = mismatch(c, tol);
    if (why) assert.unreachable(`${label}: ${why}`);
  };

  test("Chromium offers WebGL2 with float render targets, and cross-origin isolation", async () => {
    const caps = await call<{ renderer: string; maxTextureSize: number; colorBufferFloat: boolean; crossOriginIsolated: boolean } | null>("capabilities");
    assert.ok(caps, "no WebGL2 context in headless Chromium");
    assert.ok(caps.colorBufferFloat, "EXT_color_buffer_float missing");
    assert.ok(caps.crossOriginIsolated, "the page is not cross-origin isolated (COOP/COEP headers)");
    console.log(`  renderer: ${caps.renderer}, MAX_TEXTURE_SIZE ${caps.maxTextureSize}`);
  });

  test("requireHardware (what backend: 'auto' asks for) refuses SwiftShader with UnsupportedError", async () => {
    const r = await call<string>("requireHardware");
    assert.match(r, /^UnsupportedEnvironmentError: .*(hardware GPU|software renderer).*backend: 'wasm'/);
  });

  for (const name of caseNames()) {
    const { sizes, tol } = opCase(name);
    test(`op case ${name}: WebGL = reference within ${tol.webgl} at ${sizes.map(([h, w]) => `${h}×${w}`).join(", ")} (whole image, texture weights; 8-pixel tiles, uniform-buffer weights)`, async () => {
      for (const r of await call<Array<{ h: number; w: number; whole: Cmp; tiled: Cmp }>>("opCase", name)) {
        close(r.whole, `${r.h}×${r.w} whole`, tol.webgl);
        close(r.tiled, `${r.h}×${r.w} tiled`, tol.webgl);
      }
    });
  }

  for (const name of ["bicubic", "bilinear", "nearest"]) {
    for (const [opaque, tileSize] of [[false, 8], [true, 256]] as const) {
      test(`built-in ${name} ×4 (${opaque ? "opaque" : "with alpha"}, tileSize ${tileSize}): WebGL = wasm ±1 in u8, = reference within 1e-3`, async () => {
        const r = await call<{ bytes: { max: number; count: number; n: number; lengthsMatch: boolean }; float: Cmp; size: number[] }>("builtin", name, opaque, tileSize);
        assert.equal(r.size, [92, 76]);
        assert.ok(r.bytes.lengthsMatch);
        assert.ok(r.bytes.max <= 1, `${name}: a byte differs from wasm by ${r.bytes.max}`);
        close(r.float, `${name} float`);
        if (r.bytes.count) console.log(`  ${name}: ${r.bytes.count} of ${r.bytes.n} bytes differ from wasm by 1`);
      });
    }
  }

  test("shipped natural ×4 (models/natural-x4.srnet over HTTP, 37×29 with alpha, 16-pixel tiles): WebGL = wasm ±1 in u8, = reference within 1e-3", async () => {
    const r = await call<{ name: string; nodes: number; bytes: { max: number; count: number; n: number; lengthsMatch: boolean }; float: Cmp; size: number[]; tileSize: number }>("natural", 16);
    assert.is(r.name, "natural");
    assert.ok(r.nodes >= 8, `natural has only ${r.nodes} nodes`);
    assert.equal(r.size, [148, 116]);
    assert.ok(r.bytes.lengthsMatch);
    assert.ok(r.bytes.max <= 1, `natural: a byte differs from wasm by ${r.bytes.max}`);
    close(r.float, "natural float");
    if (r.bytes.count) console.log(`  natural: ${r.bytes.count} of ${r.bytes.n} bytes differ from wasm by 1`);
  });

  for (const [file, tileSize] of [["rrdb-x2plus.pth", 16], ["srvgg-x3.safetensors", 8]] as const) {
    test(`imported ${file} (tileSize ${tileSize}): WebGL = wasm ±1 in u8, = reference within 1e-3`, async () => {
      const r = await call<{ bytes: { max: number; count: number; n: number; lengthsMatch: boolean }; float: Cmp; size: number[] }>("imported", file, tileSize);
      assert.ok(r.bytes.lengthsMatch);
      assert.ok(r.bytes.max <= 1, `${file}: a byte differs from wasm by ${r.bytes.max}`);
      close(r.float, `${file} float`);
    });
  }

  test("a network that sees the image extended (edge border, align 2), 8-pixel tiles: WebGL = wasm ±1 in u8", async () => {
    const r = await call<{ bytes: { max: number; lengthsMatch: boolean }; size: number[] }>("bordered", 8);
    assert.equal(r.size, [37, 29]);
    assert.ok(r.bytes.lengthsMatch && r.bytes.max <= 1, `a byte differs from wasm by ${r.bytes.max}`);
  });

  for (const [model, scale] of [["natural", 4], ["natural", 2], ["natural-fast", 4], ["natural-real", 4], ["bicubic", 4], ["bilinear", 4], ["nearest", 4]] as const) {
    test(`red disc on transparent black through ${model} ×${scale} on WebGL: every visible pixel keeps R ≥ 200 (alpha border padding)`, async () => {
      const r = await call<{ minR: number; visible: number; backend: string; size: number[] }>("alphaDisc", model, scale);
      assert.is(r.backend, "webgl");
      assert.equal(r.size, [64 * scale, 64 * scale]);
      assert.ok(r.visible > 0.25 * 64 * 64 * scale * scale, `only ${r.visible} visible pixels`);
      assert.ok(r.minR >= 200, `${model} ×${scale}: a visible pixel has R ${r.minR}`);
    });
  }

  test("tiles respect MAX_TEXTURE_SIZE (clamped to 64): same result, no texture over 64; untileable graphs refuse clearly", async () => {
    const r = await call<{ bytes: { max: number }; tileSize: number; maxSide: number; globalError: string }>("textureLimit");
    assert.ok(r.maxSide <= 64, `a texture of side ${r.maxSide} was allocated`);
    assert.ok(r.tileSize <= 64 / 4, `tile ${r.tileSize} at ×4 cannot fit 64`);
    assert.is(r.bytes.max, 0, "clamped tiling changed the result");
    assert.match(r.globalError, /UnsupportedEnvironmentError: .*whole-image statistics.*64-pixel limit/);
  });

  test("context loss: typed ContextLostError between and in the middle of jobs, accounting to 0, recovery after restore", async () => {
    const r = await call<{
      between: { name: string; code: string; restorable: boolean; message: string } | null;
      middle: { name: string; code: string; restorable: boolean } | null; tilesSeen: number; events: string[];
      statsBefore: { currentBytes: number }; statsLost: { currentBytes: number; textures: number; contextLost: boolean };
      restores: number; afterRestore: { max: number }; again: { max: number };
    }>("contextLoss");
    assert.ok(r.between, "upscale() on a lost context did not fail");
    assert.is(r.between!.name, "ContextLostError");
    assert.is(r.between!.restorable, true);
    assert.match(r.between!.message, /backend: 'wasm'/);
    assert.ok(r.middle, "a loss in the middle of a job was not reported");
    assert.is(r.middle!.name, "ContextLostError");
    assert.is(r.tilesSeen, 1, "tiles kept running after the loss");
    assert.ok(r.statsBefore.currentBytes > 0);
    assert.is(r.statsLost.currentBytes, 0);
    assert.is(r.statsLost.textures, 0);
    assert.ok(r.statsLost.contextLost);
    assert.is(r.restores, 2);
    assert.ok(r.events.filter((e) => e === "lost").length === 2 && r.events.filter((e) => e === "restored").length === 2, `events: ${r.events}`);
    assert.is(r.afterRestore.max, 0, "the rebuilt runner gives a different result");
    assert.is(r.again.max, 0);
  });

  test("texture pool: reuse across tiles, trim after a smaller job, every texture deleted on dispose", async () => {
    const r = await call<{
      big: { currentBytes: number; peakBytes: number; reuses: number; weightBytes: number; inUseBytes: number };
      small: { currentBytes: number; trimmed: number; inUseBytes: number };
      liveBeforeDispose: number; liveAfterDispose: number; statsAfter: { currentBytes: number; textures: number; inUseBytes: number };
      afterDisposeError: string; globalLiveAfterDispose: number; globalStats: number;
    }>("dispose");
    assert.ok(r.big.reuses > 0, "tiles did not reuse textures");
    assert.ok(r.big.peakBytes >= r.big.currentBytes && r.big.currentBytes > r.big.weightBytes);
    assert.is(r.big.inUseBytes, r.big.weightBytes, "textures still handed out after a job (only weights should be)");
    assert.ok(r.small.trimmed > 0 && r.small.currentBytes < r.big.currentBytes, "a smaller job did not trim the bigger job's textures");
    assert.ok(r.liveBeforeDispose > 0);
    assert.is(r.liveAfterDispose, 0, "GL textures left after dispose()");
    assert.equal(r.statsAfter, { currentBytes: 0, textures: 0, inUseBytes: 0 });
    assert.is(r.afterDisposeError, "ERR_DISPOSED");
    assert.is(r.globalLiveAfterDispose, 0);
    assert.is(r.globalStats, 0);
  });

  test("draws cut into row bands (watchdog guard) are bit-identical; an SRGAN-shaped ×4 net matches the reference", async () => {
    const r = await call<{ diff: number; n: number; ref: Cmp }>("banded");
    assert.is(r.diff, 0, `${r.diff} of ${r.n} values changed when draws were banded`);
    close(r.ref, "srgan-like");
  });

  test("precision 'float16' (opt-in) stays within half-float error of the reference", async () => {
    const r = await call<{ float: Cmp }>("float16");
    assert.ok(r.float.worst <= 1e-2, `float16 error ${r.float.worst}`);
  });

  if (process.env.WEBGL_BENCH) {
    test("timings (SwiftShader: CPU numbers)", async () => {
      for (const [name, size, reps] of [["bicubic", 256, 3], ["srgan-like", 64, 2]] as const) {
        const t = await call<Record<string, number>>("bench", name, size, reps);
        console.log(`  ${name} ${size}×${size} ×4: wasm 1 thread ${t.wasm1.toFixed(0)} ms, WebGL ${t.webgl.toFixed(0)} ms, WebGL peak ${t.peakMiB.toFixed(1)} MiB`);
      }
    });
  }
}
