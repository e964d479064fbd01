// SPDX-License-Identifier: MIT
// The browser API in headless Chromium on a cross-origin isolated page: every input kind readImage()
// takes, the ImageData/canvas/Blob outputs, worker threads with progress, abort and a worker crash
// (counters back to baseline each time, bytes equal to Node's), and the documented esbuild recipe: a
// small app on the default network that runs with threads under a strict Content-Security-Policy (no
// eval, no Blob workers).
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { copyFileSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";
import { decode, encode } from "fast-png";
import type { Page } from "playwright-core";
import { callPage, haveChromium, launch, RUN_DEFAULT_NETWORK, startServer, type Browser, type Server } from "./chromium.js";
import { assertBuilt, cleanup, ROOT, tempDir } from "../packaging/pack.js";
import { firstDiff, nodeReference, sampleImage, type Pixels } from "../packaging/fixtures.js";

const test = suite("browser api");
const enabled = haveChromium("the browser API tests");
const image = sampleImage(67, 45, 21);
let expected: Pixels, expectedNatural: Pixels;
let browser: Browser, server: Server, page: Page, dir: string;

test.before(async () => {
  if (!enabled) return;
  assertBuilt();
  dir = tempDir("browser");
  [expected, expectedNatural] = [await nodeReference(image, "bicubic"), await nodeReference(image, "natural")];
  [server, browser] = await Promise.all([startServer({ port: 0 }), launch()]);
  page = await browser.context.newPage();
  page.on("pageerror", (e) => console.error("page error:", e.message));
  await page.goto(`${server.url}test/browser/page.html`);
  await page.waitForSelector("html[data-ready]");
  assert.ok(await page.evaluate(() => crossOriginIsolated));
});
test.after(async () => {
  await browser?.close();
  await server?.close();
  cleanup(dir);
});

const call = <T>(name: string, ...args: unknown[]): Promise<T> => callPage<T>(page, "checks", name, ...args);

const maybe = enabled ? test : test.skip;

maybe("readImage: ImageData, ImageBitmap, <img>, canvas, OffscreenCanvas, VideoFrame and Blob give the file's exact pixels", async () => {
  const png = encode({ width: image.width, height: image.height, data: image.data, channels: 4, depth: 8 });
  const r = await call<{ width: number; height: number; pixels: number[]; results: Record<string, boolean>; badBlob: { code: string }; badSource: { name: string }; aborted: { name: string } }>("readers", Array.from(png));
  assert.is(r.width, image.width);
  assert.is(r.height, image.height);
  assert.is(firstDiff(r.pixels, image.data), -1, "Blob decode equals the encoded pixels");
  assert.equal(r.results, { imageData: true, bitmap: true, img: true, canvas: true, offscreen: true, frame: true });
  assert.is(r.badBlob.code, "ERR_IMAGE_DECODE");
  assert.is(r.badSource.name, "TypeError");
  assert.is(r.aborted.name, "AbortError");
});

maybe("toImageData (no copy), toCanvas (HTML and Offscreen), toBlob PNG/JPEG; an unencodable type is ERR_IMAGE_ENCODE", async () => {
  const small = sampleImage(9, 7, 4);
  const r = await call<{ imageData: boolean; canvas: boolean; offscreen: boolean; png: number[]; pngType: string; jpegType: string; jpegBytes: number; unsupported: { code: string; message: string }; badQuality: { name: string } }>(
    "writers", Array.from(small.data), small.width, small.height);
  assert.ok(r.imageData, "ImageData wraps the same array");
  assert.ok(r.canvas, "canvas reads back the pixels");
  assert.ok(r.offscreen, "OffscreenCanvas reads back the pixels");
  assert.is(r.pngType, "image/png");
  const png = decode(new Uint8Array(r.png));
  assert.equal([png.width, png.height], [9, 7]);
  const rgba = png.channels === 4 ? png.data : Uint8Array.from({ length: 9 * 7 * 4 }, (_, i) => (i % 4 === 3 ? 255 : png.data[(i >> 2) * 3 + (i % 4)]));
  assert.is(firstDiff(rgba, small.data), -1, "PNG round trip is exact for opaque pixels");
  assert.is(r.jpegType, "image/jpeg");
  assert.ok(r.jpegBytes > 100);
  assert.is(r.unsupported.code, "ERR_IMAGE_ENCODE");
  assert.match(r.unsupported.message, /image\/png/);
  assert.is(r.badQuality.name, "RangeError");
});

maybe("3 worker threads: bytes equal Node's, per-tile progress to 1, abort and a worker crash return every lease", async () => {
  type Counters = { activeLeases: number; currentBytes: number };
  const r = await call<{ info: { threads: number }; fractions: number[]; out: number[]; width: number; height: number; abort: { name: string; code: string; cause: string }; crashed: number; againSame: boolean; lastSame: boolean; base: Counters; afterRun: Counters; afterAbort: Counters; afterCrash: Counters; disposed: Counters }>(
    "threads", Array.from(image.data), image.width, image.height, 3);
  assert.is(r.info.threads, 3);
  assert.equal([r.width, r.height], [image.width * 4, image.height * 4]);
  assert.is(firstDiff(r.out, expected.data), -1, "bytes differ from Node's");
  assert.ok(r.fractions.length >= 6, `progress per tile (${r.fractions.length} events)`);
  assert.ok(r.fractions.every((f, i) => i === 0 || f > r.fractions[i - 1]), "progress only grows");
  assert.is(r.fractions.at(-1), 1);
  assert.equal([r.abort?.name, r.abort?.code, r.abort?.cause], ["AbortError", "ERR_ABORTED", "user cancelled"]);
  assert.is(r.crashed, 1, "a busy worker was crashed");
  assert.ok(r.againSame, "the crashed tile re-ran; same result");
  assert.ok(r.lastSame, "after the abort the replacement workers give the same result");
  for (const k of ["afterRun", "afterAbort", "afterCrash"] as const) assert.equal(r[k], r.base, `${k}: counters back to baseline`);
  assert.equal(r.disposed, { activeLeases: 0, currentBytes: 0 });
});

maybe("backend 'webgl' starts no wasm worker and reports 0 threads; a job that falls back to wasm (context lost) starts them", async () => {
  type State = { backend?: string; threads: number; workers: number };
  const r = await call<{ created: State; onGpu: State; onWasm: State; contexts: number; gpu: number[]; wasm: number[] }>(
    "webglWorkers", Array.from(image.data), image.width, image.height);
  assert.equal(r.created, { threads: 0, workers: 0 }, "no workers at creation");
  assert.equal(r.onGpu, { backend: "webgl", threads: 0, workers: 0 }, "none for a WebGL job");
  assert.ok(r.contexts >= 1, "the runner's WebGL2 context was seen");
  assert.equal(r.onWasm, { backend: "wasm", threads: 2, workers: 2 }, "the fallback job started the 2 workers");
  assert.is(firstDiff(r.gpu, expected.data), -1, "WebGL bytes differ from Node's");
  assert.is(firstDiff(r.wasm, expected.data), -1, "fallback bytes differ from Node's");
});

maybe("the documented esbuild recipe (browser platform) runs the default network on 2 threads under a strict CSP, with no Node code or eval inside", async () => {
  // The consumer: node_modules/srgan-wasm is this checkout, so esbuild applies our exports and browser field.
  const app = join(dir, "app");
  mkdirSync(join(app, "node_modules"), { recursive: true });
  symlinkSync(ROOT, join(app, "node_modules/srgan-wasm"), "dir");
  writeFileSync(join(app, "main.js"), `
import { createUpscaler, configureAssets } from "srgan-wasm";
// esbuild does not follow new URL(…, import.meta.url): say where the copied files are.
configureAssets({
  wasmBaseUrl: new URL("./", import.meta.url),
  modelBaseUrl: new URL("./models/", import.meta.url),
  workerUrl: new URL("./worker.js", import.meta.url),
});
${RUN_DEFAULT_NETWORK}
`);
  writeFileSync(join(app, "worker.js"), `import "srgan-wasm/worker";\n`);
  // Served from a sub-path, as apps often are: the package's own relative URLs would then miss the copies.
  const out = join(dir, "www/app");
  await build({
    entryPoints: [join(app, "main.js"), join(app, "worker.js")], outdir: out, bundle: true, format: "esm",
    platform: "browser", target: "chrome110", logLevel: "silent", absWorkingDir: app,
  });
  // The copies docs/platforms.md tells a user to make, from the installed package.
  const pkg = join(app, "node_modules/srgan-wasm");
  for (const f of ["kernels.simd.wasm", "kernels.relaxed.wasm"]) copyFileSync(join(pkg, "wasm", f), join(out, f));
  mkdirSync(join(out, "models"));
  for (const f of readdirSync(join(pkg, "models")).filter((f) => f.endsWith(".srnet"))) copyFileSync(join(pkg, "models", f), join(out, "models", f));
  writeFileSync(join(out, "index.html"), `<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><script type="module" src="./main.js"></script>`);
  const code = readFileSync(join(out, "main.js"), "utf8") + readFileSync(join(out, "worker.js"), "utf8");
  // `new Function(` as code: the ONNX schema's classes (`new FunctionProto(…)`) are no such thing.
  for (const banned of [/piscina/, /worker_threads/, /new Function\s*\(/, /createObjectURL/]) assert.not.match(code, banned, `bundle contains ${banned}`);

  const csp = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; img-src 'self' data:";
  const strict = await startServer({ port: 0, root: join(dir, "www"), headers: { "content-security-policy": csp } });
  const p = await browser.context.newPage();
  const violations: string[] = [];
  p.on("console", (m) => { if (/Content.Security.Policy|Refused/i.test(m.text())) violations.push(m.text()); });
  try {
    await p.goto(`${strict.url}app/index.html`);
    await p.waitForSelector("html[data-ready]");
    const r = await p.evaluate(([d, w, h]) => (window as unknown as { run(d: unknown, w: unknown, h: unknown): Promise<{ threads: number; model: string; data: number[] }> }).run(d, w, h),
      [Array.from(image.data), image.width, image.height] as const);
    assert.equal([r.threads, r.model], [2, "natural"]);
    assert.is(firstDiff(r.data, expectedNatural.data), -1, "bundle's bytes differ from Node's");
    assert.equal(violations, []);
  } finally {
    await p.close();
    await strict.close();
  }
});

test.run();
