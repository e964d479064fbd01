// SPDX-License-Identifier: MIT
// The demo page end to end in headless Chromium, as a person uses it: pick a PNG, choose network and
// threads, upscale, move the slider, download. The downloaded PNG has the size and the pixels that
// Node computes. Served with COOP/COEP it runs the asked-for worker threads; served without, it runs
// one thread after exactly one ERR_NO_COI warning that names the headers, with the same pixels. With
// the default network (natural, loaded before Upscale is pressed): progress counts tiles, the status
// shows time, threads and memory, and the zoomed crops are Node's pixels; a network file can be
// loaded; a cancel or a failure clears the previous result.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { decode, encode } from "fast-png";
import { decodeNetwork } from "../../src/model/formats/srnet.js";
import { haveChromium, launch, startServer, type Browser, type Server } from "./chromium.js";
import type { Page } from "playwright-core";
import { assertBuilt, cleanup, ROOT, tempDir } from "../packaging/pack.js";
import { firstDiff, nodeReference, sampleImage, type Pixels } from "../packaging/fixtures.js";

const test = suite("demo");
const enabled = haveChromium("the demo end-to-end tests");
const image = sampleImage(67, 45, 3);
let dir: string, pngPath: string, expected: Pixels, expectedNatural: Pixels;
let browser: Browser, isolated: Server, plain: Server;

test.before(async () => {
  if (!enabled) return;
  assertBuilt();
  dir = tempDir("demo");
  pngPath = join(dir, "sample.png");
  writeFileSync(pngPath, encode({ width: image.width, height: image.height, data: image.data, channels: 4, depth: 8 }));
  expected = await nodeReference(image, "bicubic");
  expectedNatural = await nodeReference(image, "natural");
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

function assertSamePixels(file: Buffer, reference = expected): void {
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
  const at = firstDiff(rgba, reference.data);
  assert.is(at, -1, `pixel byte ${at} differs from Node's: ${rgba[at]} vs ${reference.data[at]}`);
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

/** Every text #status shows from now on (a MutationObserver in the page). */
async function recordStatus(page: Page): Promise<() => Promise<string[]>> {
  await page.evaluate(() => {
    const seen: string[] = ((window as unknown as { seen: string[] }).seen = []);
    const status = document.getElementById("status")!;
    new MutationObserver(() => seen.push(status.textContent!)).observe(status, { childList: true, characterData: true, subtree: true });
  });
  return () => page.evaluate(() => (window as unknown as { seen: string[] }).seen);
}

/** The pixels a zoom canvas shows, with the crop's place in the output. */
function zoomed(page: Page, id: string) {
  return page.evaluate((id) => {
    const c = document.getElementById(id) as HTMLCanvasElement;
    const { x, y, size } = (document.getElementById("zoom-net") as HTMLCanvasElement).dataset;
    return { x: Number(x), y: Number(y), size: Number(size), width: c.width, cssWidth: c.style.width, pixels: Array.from(c.getContext("2d")!.getImageData(0, 0, c.width, c.height).data) };
  }, id);
}

function cropOf(img: Pixels, x: number, y: number, size: number): number[] {
  const rows: number[] = [];
  for (let r = y; r < y + size; r++) rows.push(...img.data.subarray((r * img.width + x) * 4, (r * img.width + x + size) * 4));
  return rows;
}

maybe("default network: natural loads before Upscale, progress counts tiles, time/threads/memory shown, zoomed crops and download are Node's pixels", async () => {
  const page = await browser.context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`${isolated.url}demo/`);
  await page.waitForSelector("html[data-ready]");
  assert.is(await page.inputValue("#model"), "natural", "natural is the default");
  await page.waitForSelector("#net[data-state=ready]", { timeout: 30_000 }); // before any click: no wait after Upscale
  const shipped = decodeNetwork(new Uint8Array(readFileSync(join(ROOT, "models/natural-x4.srnet"))));
  const k = (shipped.parameterCount / 1000).toFixed(0);
  assert.match((await page.textContent("#net"))!, new RegExp(`^natural: ×4, ${k}k parameters, ready in \\d+ ms\\.$`));
  await page.fill("#threads", "2");
  await page.setInputFiles("#file", pngPath);
  await page.waitForSelector("#run:not([disabled])");
  const statuses = await recordStatus(page);
  await page.click("#run");
  await page.waitForSelector("#status[data-state=idle]", { timeout: 60_000 });
  const status = (await page.textContent("#status"))!;
  assert.match(status, /^Done: 268×180 with natural in \d+ ms on 2 threads \(wasm, (relaxed )?SIMD\); memory peak \d+\.\d MiB of a \d+\.\d MiB pool\.$/);
  const seen = await statuses();
  assert.not.ok(seen.some((t) => /Preparing|Loading/.test(t)), `no loading step after Upscale: ${seen}`);
  assert.is(seen[0], "Upscaling 67×45 with natural on 2 threads…");
  const counts = seen.map((t) => /^(\d+) of (\d+) tiles done$/.exec(t)).filter((m) => m !== null).map((m) => [Number(m[1]), Number(m[2])]);
  assert.ok(counts.length >= 2, `per-tile progress: ${seen}`);
  counts.forEach(([k, n], i) => assert.equal([k, n], [i + 1, counts[0][1]], `progress ${i}`));
  assert.is(counts.at(-1)![0], counts[0][1], "ends at N of N");

  const net = await zoomed(page, "zoom-net");
  const ref = await zoomed(page, "zoom-ref");
  assert.is(net.size, 64);
  assert.equal([net.width, net.cssWidth, ref.width, ref.cssWidth], [64, "256px", 64, "256px"], "64×64 crops shown 4× enlarged");
  assert.is(firstDiff(net.pixels, cropOf(expectedNatural, net.x, net.y, 64)), -1, "the network's crop is Node's natural output");
  assert.is(firstDiff(ref.pixels, cropOf(expected, net.x, net.y, 64)), -1, "the reference crop is Node's bicubic output");
  assert.equal(await page.textContent("#zoom-ref-label"), "bicubic");
  assert.equal(await page.textContent("#zoom-net-label"), "natural");

  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download")]);
  assert.is(download.suggestedFilename(), "sample-natural-x4.png");
  assertSamePixels(readFileSync((await download.path())!), expectedNatural);
  assert.equal(errors, []);
  await page.close();
});

maybe("a network file loads and runs; a cancel mid-job and a bad network file each clear the previous result", async () => {
  const page = await browser.context.newPage();
  await page.goto(`${isolated.url}demo/`);
  await page.waitForSelector("html[data-ready]");
  await page.setInputFiles("#file", pngPath);
  await page.waitForSelector("#run:not([disabled])");
  const shown = () => page.evaluate(() => ({ compare: !document.getElementById("compare")!.hidden, download: !document.getElementById("download")!.hidden }));

  await page.setInputFiles("#netfile", join(ROOT, "models/natural-fast-x4.srnet"));
  await page.waitForSelector("#net[data-state=ready]", { timeout: 30_000 });
  assert.is(await page.inputValue("#model"), "file:");
  await page.click("#run");
  await page.waitForSelector("#status[data-state=idle]", { timeout: 60_000 });
  assert.match((await page.textContent("#status"))!, /^Done: 268×180 with natural-fast in /);
  assert.equal(await shown(), { compare: true, download: true });

  // Cancel as soon as the first tile is reported.
  await page.evaluate(() => {
    const status = document.getElementById("status")!;
    new MutationObserver((_, obs) => {
      if (/tiles done/.test(status.textContent!)) { obs.disconnect(); document.getElementById("cancel")!.click(); }
    }).observe(status, { childList: true, characterData: true, subtree: true });
  });
  await page.click("#run");
  await page.waitForSelector("#status[data-state=idle]", { timeout: 60_000 });
  assert.is(await page.textContent("#status"), "Cancelled.");
  assert.equal(await shown(), { compare: false, download: false }, "the old result is gone after a cancel");

  await page.selectOption("#model", "bicubic");
  await page.click("#run");
  await page.waitForSelector("#status[data-state=idle]", { timeout: 60_000 });
  assert.equal(await shown(), { compare: true, download: true });
  await page.setInputFiles("#netfile", { name: "bad.srnet", mimeType: "application/octet-stream", buffer: Buffer.from("not a network") });
  await page.waitForSelector("#net[data-state=error]", { timeout: 30_000 });
  assert.match((await page.textContent("#net"))!, /^Cannot load bad\.srnet: .*not a network file/);
  assert.equal(await shown(), { compare: false, download: false }, "the old result is gone after a failure");
  await page.click("#run");
  await page.waitForSelector("#status[data-state=idle]", { timeout: 60_000 });
  assert.match((await page.textContent("#status"))!, /^Failed: .*not a network file/);
  await page.close();
});

test.run();
