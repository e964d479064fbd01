// SPDX-License-Identifier: MIT
// The browser API in headless Chromium on a cross-origin isolated page: every input kind readImage()
// takes, the ImageData/canvas/Blob outputs, worker threads with progress, abort and a worker crash
// (counters back to baseline each time, bytes equal to Node's), and WebGL in a worker (or, where a
// worker cannot have it, on the page after a warning). The bundler recipes: test/packaging/recipes.test.ts.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { decode, encode } from "fast-png";
import type { Page } from "playwright-core";
import { callPage, haveChromium, launch, startServer, type Browser, type Server } from "./chromium.js";
import { assertBuilt } from "../packaging/pack.js";
import { firstDiff, nodeReference, sampleImage, type Pixels } from "../packaging/fixtures.js";

const test = suite("browser api");
const enabled = haveChromium("the browser API tests");
const image = sampleImage(67, 45, 21);
let expected: Pixels;
let browser: Browser, server: Server, page: Page;

test.before(async () => {
  if (!enabled) return;
  assertBuilt();
  expected = await nodeReference(image, "bicubic");
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

maybe("backend 'webgl' runs in one worker (no WebGL context on the page), starts no wasm worker, reports 0 threads; a job that falls back to wasm (context lost) starts them", async () => {
  type State = { backend?: string; threads: number; workers: number; webglWorkers: number };
  const r = await call<{ created: State; onGpu: State; onWasm: State; pageContexts: number; gpu: number[]; wasm: number[] }>(
    "webglWorkers", Array.from(image.data), image.width, image.height);
  assert.equal(r.created, { threads: 0, workers: 0, webglWorkers: 1 }, "one WebGL worker at creation, no wasm worker");
  assert.equal(r.onGpu, { backend: "webgl", threads: 0, workers: 0, webglWorkers: 1 }, "none for a WebGL job");
  assert.is(r.pageContexts, 0, "the page's thread made a WebGL2 context");
  assert.equal(r.onWasm, { backend: "wasm", threads: 2, workers: 2, webglWorkers: 1 }, "the fallback job started the 2 workers");
  assert.is(firstDiff(r.gpu, expected.data), -1, "WebGL bytes differ from Node's");
  assert.is(firstDiff(r.wasm, expected.data), -1, "fallback bytes differ from Node's");
});

maybe("where no worker can have WebGL2 (worker script missing, no OffscreenCanvas) WebGL runs on the page after one ERR_WEBGL_NO_WORKER warning, same bytes", async () => {
  const runs = await call<Array<{ way: string; backend: string; warnings: Array<{ code: string; message: string }>; pageContexts: number; data: number[] }>>(
    "webglWithoutWorker", Array.from(image.data), image.width, image.height);
  assert.equal(runs.map((r) => r.way), ["missing worker script", "no OffscreenCanvas"]);
  for (const r of runs) {
    assert.is(r.backend, "webgl", r.way);
    assert.equal(r.warnings.map((w) => w.code), ["ERR_WEBGL_NO_WORKER"], r.way);
    assert.match(r.warnings[0].message, /runs on this page's thread/);
    assert.ok(r.pageContexts >= 1, `${r.way}: no WebGL2 context on the page`);
    assert.is(firstDiff(r.data, expected.data), -1, `${r.way}: bytes differ from Node's`);
  }
  assert.match(runs[0].warnings[0].message, /could not start/);
  assert.match(runs[1].warnings[0].message, /no OffscreenCanvas/);
});

test.run();
