// SPDX-License-Identifier: MIT
// The demo page end to end in headless Chromium, as a person uses it: pick a PNG, choose network and
// threads, upscale, move the slider, download. The downloaded PNG has the size and the pixels that
// Node computes. Served with COOP/COEP it runs the asked-for worker threads; served without, it runs
// one thread after exactly one ERR_NO_COI warning that names the headers, with the same pixels.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { decode, encode } from "fast-png";
import { haveChromium, launch, type Browser } from "./chromium.js";
import { assertBuilt, cleanup, tempDir } from "../packaging/pack.js";
import { firstDiff, nodeReference, sampleImage, type Pixels } from "../packaging/fixtures.js";
// @ts-expect-error: a plain .mjs script without declarations
import { startServer } from "../../demo/serve.mjs";

type Server = { url: string; close(): Promise<void> };
const test = suite("demo");
const enabled = haveChromium("the demo end-to-end tests");
const image = sampleImage(67, 45, 3);
let dir: string, pngPath: string, expected: Pixels;
let browser: Browser, isolated: Server, plain: Server;

test.before(async () => {
  if (!enabled) return;
  assertBuilt();
  dir = tempDir("demo");
  pngPath = join(dir, "sample.png");
  writeFileSync(pngPath, encode({ width: image.width, height: image.height, data: image.data, channels: 4, depth: 8 }));
  expected = await nodeReference(image, "bicubic");
  [isolated, plain, browser] = await Promise.all([startServer({ port: 0 }), startServer({ port: 0, coi: false }), launch()]);
});
test.after(async () => {
  await browser?.close();
  await isolated?.close();
  await plain?.close();
  cleanup(dir);
});

/** Drives one page through upscales (one per thread count), downloading the last result. */
async function useDemo(base: string, threadCounts: number[]) {
  const page = await browser.context.newPage();
  const messages: { type: string; text: string }[] = [];
  const errors: string[] = [];
  page.on("console", (m) => messages.push({ type: m.type(), text: m.text() }));
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`${base}demo/`);
  await page.waitForSelector("html[data-ready]");
  const coi = await page.evaluate(() => crossOriginIsolated);
  await page.selectOption("#model", "bicubic");
  await page.setInputFiles("#file", pngPath);
  await page.waitForSelector("#run:not([disabled])");
  const used: number[] = [];
  for (const threads of threadCounts) {
    await page.fill("#threads", String(threads));
    await page.click("#run");
    // The click handler marks the page busy before its first await, so idle here means finished.
    await page.waitForSelector("#status[data-state=idle]", { timeout: 30_000 });
    const n = await page.getAttribute("#status", "data-threads");
    if (n === null) assert.unreachable(`the upscale failed: ${await page.textContent("#status")}`);
    used.push(Number(n));
    await page.evaluate(() => delete document.getElementById("status")!.dataset.threads);
  }
  const status = await page.textContent("#status");
  const progress = await page.evaluate(() => (document.getElementById("progress") as HTMLProgressElement).value);
  await page.fill("#slider", "20");
  const clip = await page.evaluate(() => document.getElementById("before")!.style.clipPath);
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download")]);
  const file = readFileSync((await download.path())!);
  await page.close();
  return { coi, used, status, progress, clip, name: download.suggestedFilename(), file, messages, errors };
}

function assertSamePixels(file: Buffer): void {
  const png = decode(file);
  assert.is(png.width, image.width * 4, "downloaded width");
  assert.is(png.height, image.height * 4, "downloaded height");
  assert.is(png.depth, 8);
  const rgba = new Uint8Array(png.width * png.height * 4);
  const ch = png.channels;
  for (let i = 0, j = 0; i < rgba.length; i += 4, j += ch) {
    rgba[i] = png.data[j]; rgba[i + 1] = png.data[j + 1]; rgba[i + 2] = png.data[j + 2];
    rgba[i + 3] = ch === 4 ? png.data[j + 3] : 255;
  }
  const at = firstDiff(rgba, expected.data);
  assert.is(at, -1, `pixel byte ${at} differs from Node's: ${rgba[at]} vs ${expected.data[at]}`);
}

const maybe = enabled ? test : test.skip;

maybe("isolated page: 2 and 3 worker threads, progress to 1, slider, download equals Node's result", async () => {
  const r = await useDemo(isolated.url, [2, 3]);
  assert.equal(r.errors, [], "no page errors");
  assert.ok(r.coi, "the demo server makes the page cross-origin isolated");
  assert.equal(r.used, [2, 3], "threads reported by info()");
  assert.is(r.progress, 1);
  assert.match(r.status!, /^Done: 268×180 with bicubic/);
  assert.is(r.clip, "inset(0px 80% 0px 0px)");
  assert.is(r.name, "sample-bicubic-x4.png");
  assert.equal(r.messages.filter((m) => m.type === "warning" || m.type === "error"), [], "no warnings on an isolated page");
  assertSamePixels(r.file);
});

maybe("page without COOP/COEP: one thread, exactly one ERR_NO_COI warning naming the headers, same pixels", async () => {
  const r = await useDemo(plain.url, [2, 3]);
  assert.equal(r.errors, []);
  assert.is(r.coi, false);
  assert.equal(r.used, [1, 1], "falls back to the page's thread");
  const warnings = r.messages.filter((m) => m.type === "warning");
  assert.is(warnings.length, 1, `one warning for two upscalers, got ${JSON.stringify(warnings)}`);
  assert.match(warnings[0].text, /ERR_NO_COI/);
  assert.match(warnings[0].text, /Cross-Origin-Opener-Policy: same-origin/);
  assert.match(warnings[0].text, /Cross-Origin-Embedder-Policy: require-corp/);
  assertSamePixels(r.file);
});

test.run();
