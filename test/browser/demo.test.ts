// SPDX-License-Identifier: MIT
// The demo page end to end in headless Chromium, as a person uses it: pick a PNG, choose network and
// threads, upscale, move the slider, download. The downloaded PNG has the size and the pixels that
// Node computes. Served with COOP/COEP it runs the asked-for worker threads; served without, it runs
// one thread after exactly one ERR_NO_COI warning that names the headers, with the same pixels.
// A first visit downloads no network until a picture is chosen (the sample, one click away), shows the
// download, and fetches another network only when Upscale needs it. The default network: progress counts
// tiles, the status shows time, threads and memory, the zoomed crops are Node's pixels. One job at a
// time: a picture chosen during a job cancels it, and the result is shown beside its own input. Errors
// are red and read as one sentence; a dismissed file dialog leaves nothing stale; Threads stays within
// the cores. A network file can be loaded; a cancel or a failure clears the previous result.
// Keyboard, accessibility tree and phone layout: demo-access.test.ts; WebGL in the demo: demo-webgl.test.ts.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { decode } from "fast-png";
import { decodeNetwork } from "../../src/model/formats/srnet.js";
import { haveChromium, launch, startServer, type Browser, type Server } from "./chromium.js";
import type { Page } from "playwright-core";
import { assertBuilt, cleanup, ROOT, tempDir } from "../packaging/pack.js";
import { firstDiff, nodeReference, sampleImage, type Pixels } from "../packaging/fixtures.js";
import { openDemo, recordTexts, waitIdle, writePng } from "./demo-driver.js";

const test = suite("demo");
const enabled = haveChromium("the demo end-to-end tests");
const image = sampleImage(67, 45, 3);
let dir: string, pngPath: string, bigPath: string, expected: Pixels, expectedNatural: Pixels;
let browser: Browser, isolated: Server, plain: Server;

test.before(async () => {
  if (!enabled) return;
  assertBuilt();
  dir = tempDir("demo");
  pngPath = writePng(dir, "sample.png", image);
  bigPath = writePng(dir, "big.png", sampleImage(400, 300, 9)); // 4 tiles of `natural` on one thread
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
  const { page, messages, errors } = await openDemo(browser.context, base);
  const coi = await page.evaluate(() => crossOriginIsolated);
  await page.selectOption("#model", "bicubic");
  await page.setInputFiles("#file", pngPath);
  await page.waitForSelector("#run:not([disabled])");
  const used: number[] = [];
  for (const threads of threadCounts) {
    await page.fill("#threads", String(threads));
    await page.click("#run");
    await waitIdle(page, 30_000);
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

function assertSamePixels(file: Buffer, reference = expected, source = image): void {
  const png = decode(file);
  assert.is(png.width, source.width * 4, "downloaded width");
  assert.is(png.height, source.height * 4, "downloaded height");
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

maybe("isolated page: 1 and 2 worker threads, progress to 1, slider, download equals Node's result", async () => {
  const r = await useDemo(isolated.url, [1, 2]);
  assert.equal(r.errors, [], "no page errors");
  assert.ok(r.coi, "the demo server makes the page cross-origin isolated");
  assert.equal(r.used, [1, 2], "threads reported by info()");
  assert.is(r.progress, 1);
  assert.match(r.status!, /^Done: 268×180 with bicubic/);
  assert.is(r.clip, "inset(0px 80% 0px 0px)");
  assert.is(r.name, "sample-bicubic-x4.png");
  assert.equal(r.messages.filter((m) => m.type === "warning" || m.type === "error"), [], "no warnings on an isolated page");
  assertSamePixels(r.file);
});

maybe("page without COOP/COEP: one thread, exactly one ERR_NO_COI warning naming the headers, same pixels", async () => {
  const r = await useDemo(plain.url, [1, 2]);
  assert.equal(r.errors, []);
  assert.is(r.coi, false);
  assert.equal(r.used, [1, 1], "falls back to one worker");
  const warnings = r.messages.filter((m) => m.type === "warning");
  assert.is(warnings.length, 1, `one warning for two upscalers, got ${JSON.stringify(warnings)}`);
  assert.match(warnings[0].text, /ERR_NO_COI/);
  assert.match(warnings[0].text, /Cross-Origin-Opener-Policy: same-origin/);
  assert.match(warnings[0].text, /Cross-Origin-Embedder-Policy: require-corp/);
  assertSamePixels(r.file);
});

const networkRequests = (requests: string[]) => requests.filter((u) => u.endsWith(".srnet")).map((u) => u.slice(u.lastIndexOf("/") + 1));

maybe("first visit: a one-line introduction, no network downloaded until a picture is chosen (the sample, one click), the download shown, another network fetched only when Upscale needs it", async () => {
  const { page, requests, errors } = await openDemo(browser.context, isolated.url);
  assert.match((await page.textContent("#intro"))!, /four times larger .* in your browser/);
  assert.ok(await page.isVisible("#intro"));
  await page.waitForTimeout(500); // the old page started its download here
  for (const name of ["natural-fast", "natural-real", "natural"]) await page.selectOption("#model", name);
  assert.equal(networkRequests(requests), [], "a network was downloaded before a picture was chosen");

  const netTexts = await recordTexts(page, "net");
  await page.click("#sample");
  await page.waitForSelector("#net[data-state=ready]", { timeout: 30_000 });
  assert.is(await page.textContent("#status"), "lighthouse.png: 160×120. Press Upscale.");
  assert.ok(requests.some((u) => u.endsWith("/examples/lighthouse.png")), "the sample is the project's own picture");
  assert.equal(networkRequests(requests), ["natural-x4.srnet"]);
  const kb = Math.round(readFileSync(join(ROOT, "models/natural-x4.srnet")).length / 1024);
  const seen = await netTexts();
  assert.ok(seen.some((t) => new RegExp(`^Downloading natural: \\d+ KB of ${kb} KB…$`).test(t)), `the download was shown: ${seen}`);
  assert.match(seen.at(-1)!, /^natural: ×4, \d+k parameters, ready in \d+ ms\.$/);

  await page.selectOption("#model", "natural-fast");
  assert.is(await page.textContent("#net"), "natural-fast: loads when you press Upscale.");
  assert.equal(networkRequests(requests), ["natural-x4.srnet"], "switching the network downloaded it");
  await page.click("#run");
  const status = await waitIdle(page);
  assert.match(status, /^Done: 640×480 with natural-fast in /);
  assert.equal(networkRequests(requests), ["natural-x4.srnet", "natural-fast-x4.srnet"]);
  assert.equal(errors, []);
  await page.close();
});

/** The pixels a zoom canvas shows, with the crop's place in the output. */
function zoomed(page: Page, id: string) {
  return page.evaluate((id) => {
    const c = document.getElementById(id) as HTMLCanvasElement;
    const { x, y, size } = (document.getElementById("zoom-net") as HTMLCanvasElement).dataset;
    return { x: Number(x), y: Number(y), size: Number(size), width: c.width, cssWidth: c.getBoundingClientRect().width, pixels: Array.from(c.getContext("2d")!.getImageData(0, 0, c.width, c.height).data) };
  }, id);
}

function cropOf(img: Pixels, x: number, y: number, size: number): number[] {
  const rows: number[] = [];
  for (let r = y; r < y + size; r++) rows.push(...img.data.subarray((r * img.width + x) * 4, (r * img.width + x + size) * 4));
  return rows;
}

maybe("default network: natural loads when the picture is chosen, progress counts tiles, time/threads/memory shown, zoomed crops and download are Node's pixels", async () => {
  const { page, errors } = await openDemo(browser.context, isolated.url);
  assert.is(await page.inputValue("#model"), "natural", "natural is the default");
  await page.fill("#threads", "2");
  await page.setInputFiles("#file", pngPath);
  await page.waitForSelector("#net[data-state=ready]", { timeout: 30_000 }); // before any click: no wait after Upscale
  const shipped = decodeNetwork(new Uint8Array(readFileSync(join(ROOT, "models/natural-x4.srnet"))));
  const k = (shipped.parameterCount / 1000).toFixed(0);
  assert.match((await page.textContent("#net"))!, new RegExp(`^natural: ×4, ${k}k parameters, ready in \\d+ ms\\.$`));
  await page.waitForSelector("#run:not([disabled])");
  const statuses = await recordTexts(page, "status");
  await page.click("#run");
  const status = await waitIdle(page);
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
  assert.equal([net.width, net.cssWidth, ref.width, ref.cssWidth], [64, 256, 64, 256], "64×64 crops shown 4× enlarged");
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

maybe("a picture chosen during a job cancels it: never two jobs at once, and the result is shown beside its own input and named after it", async () => {
  const { page, errors } = await openDemo(browser.context, isolated.url);
  // Counts the upscale() calls in flight, on the very module the demo imports.
  await page.evaluate(async () => {
    const srgan = await import("/dist/index.browser.js" as string);
    const jobs = ((window as unknown as { jobs: Record<string, number> }).jobs = { inFlight: 0, max: 0, aborted: 0 });
    const upscale = srgan.Upscaler.prototype.upscale;
    srgan.Upscaler.prototype.upscale = async function (...args: unknown[]) {
      jobs.max = Math.max(jobs.max, ++jobs.inFlight);
      try { return await upscale.apply(this, args); } catch (e) { if ((e as Error).name === "AbortError") jobs.aborted++; throw e; } finally { jobs.inFlight--; }
    };
  });
  await page.fill("#threads", "1");
  await page.setInputFiles("#file", bigPath);
  await page.waitForSelector("#net[data-state=ready]", { timeout: 30_000 });
  await page.click("#run");
  await page.waitForFunction(() => /tiles done/.test(document.getElementById("status")!.textContent!), undefined, { timeout: 60_000 });
  await page.setInputFiles("#file", pngPath); // mid-job
  await page.waitForSelector("#run:not([disabled])", { timeout: 60_000 });
  await page.click("#run"); // as soon as Upscale can be pressed again
  const status = await waitIdle(page);
  assert.match(status, /^Done: 268×180 with natural in /);
  const jobs = await page.evaluate(() => (window as unknown as { jobs: Record<string, number> }).jobs);
  assert.is(jobs.aborted, 1, "the first job was cancelled");
  assert.is(jobs.max, 1, "two jobs ran at once");
  const sizes = await page.evaluate(() => ["before", "after"].map((id) => { const c = document.getElementById(id) as HTMLCanvasElement; return [c.width, c.height]; }));
  assert.equal(sizes, [[67, 45], [268, 180]], "the result is shown beside its own input");
  assert.match((await page.getAttribute("#before", "aria-label"))!, /^sample\.png as chosen, 67×45/);
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download")]);
  assert.is(download.suggestedFilename(), "sample-natural-x4.png", "named after its own input");
  assertSamePixels(readFileSync((await download.path())!), expectedNatural);
  assert.equal(errors, []);
  await page.close();
});

maybe("errors are red, not note grey; a corrupt JPEG is one sentence naming the damage; a dismissed network-file dialog leaves nothing stale; Threads stays within the cores and is off for WebGL", async () => {
  const { page, errors } = await openDemo(browser.context, isolated.url);
  await page.setInputFiles("#file", { name: "broken.jpg", mimeType: "image/jpeg", buffer: Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 74, 70, 73, 70, 0, 1, 2, 3, 4, 5]) });
  await page.waitForSelector("#status.error");
  const text = (await page.textContent("#status"))!;
  assert.match(text, /^Cannot read broken\.jpg: .*; the file is damaged, or it is not the JPEG its type says$/);
  assert.not.match(text, /\.\./);
  const colours = await page.evaluate(() => ["status", "env"].map((id) => getComputedStyle(document.getElementById(id)!).color));
  assert.is(colours[0], "rgb(176, 0, 32)", "errors are red");
  assert.is.not(colours[0], colours[1], "an error looks like a note");

  // "network file…" opens the file dialog; dismissing it ('cancel') goes back to the network before.
  page.on("filechooser", () => {}); // headless: the dialog is only reported
  await page.selectOption("#model", "file:");
  await page.dispatchEvent("#netfile", "cancel");
  assert.is(await page.inputValue("#model"), "natural");
  assert.not.match((await page.textContent("#net"))!, /network file/);

  const cores = await page.evaluate(() => navigator.hardwareConcurrency);
  assert.is(await page.getAttribute("#threads", "max"), String(cores));
  assert.match((await page.textContent("#env"))!, new RegExp(`up to ${cores} worker threads?`));
  await page.fill("#threads", "64");
  await page.press("#threads", "Tab");
  assert.is(await page.inputValue("#threads"), String(cores), "Threads accepted more than the cores");
  await page.selectOption("#backend", "webgl");
  assert.ok(await page.isDisabled("#threads"), "Threads is editable with WebGL");
  assert.ok(await page.isVisible("#threads-note"));
  await page.selectOption("#backend", "wasm");
  assert.ok(await page.isEnabled("#threads"));
  assert.equal(errors, []);
  await page.close();
});

maybe("a network file loads and runs; a cancel mid-job and a bad network file each clear the previous result", async () => {
  const { page } = await openDemo(browser.context, isolated.url);
  await page.setInputFiles("#file", pngPath);
  await page.waitForSelector("#run:not([disabled])");
  const shown = () => page.evaluate(() => ({ compare: !document.getElementById("compare")!.hidden, download: !document.getElementById("download")!.hidden }));

  await page.setInputFiles("#netfile", join(ROOT, "models/natural-fast-x4.srnet"));
  await page.waitForSelector("#net[data-state=ready]", { timeout: 30_000 });
  assert.is(await page.inputValue("#model"), "file:");
  await page.click("#run");
  assert.match(await waitIdle(page), /^Done: 268×180 with natural-fast in /);
  assert.equal(await shown(), { compare: true, download: true });

  // Cancel as soon as the first tile is reported.
  await page.evaluate(() => {
    const status = document.getElementById("status")!;
    new MutationObserver((_, obs) => {
      if (/tiles done/.test(status.textContent!)) { obs.disconnect(); document.getElementById("cancel")!.click(); }
    }).observe(status, { childList: true, characterData: true, subtree: true });
  });
  await page.click("#run");
  assert.is(await waitIdle(page), "Cancelled.");
  assert.equal(await shown(), { compare: false, download: false }, "the old result is gone after a cancel");

  await page.selectOption("#model", "bicubic");
  await page.click("#run");
  await waitIdle(page);
  assert.equal(await shown(), { compare: true, download: true });
  // A network from another project, as people download it: a .safetensors file, and (with ../shared) an
  // ncnn network's .param and .bin picked together.
  await page.setInputFiles("#netfile", join(ROOT, "test/fixtures/community/synthetic/srvgg-x3.safetensors"));
  await page.waitForSelector("#net[data-state=ready]", { timeout: 30_000 });
  await page.click("#run");
  { const s = await waitIdle(page); assert.match(s, /^Done: 201×135 with Real-ESRGAN SRVGGNetCompact in /, s); }
  const ncnn = join(ROOT, "../shared/data/community/ncnn/realesrgan/realesr-animevideov3-x2");
  if (existsSync(`${ncnn}.param`)) {
    await page.setInputFiles("#netfile", [`${ncnn}.param`, `${ncnn}.bin`]);
    await page.waitForSelector("#net[data-state=ready]", { timeout: 30_000 });
    await page.click("#run");
    { const s = await waitIdle(page); assert.match(s, /^Done: 134×90 with Real-ESRGAN SRVGGNetCompact in /, s); }
    await page.setInputFiles("#netfile", [`${ncnn}.param`]);
    await page.waitForSelector("#net[data-state=error]", { timeout: 30_000 });
    assert.match(await page.textContent("#net") ?? "", /two files/);
  }
  await page.setInputFiles("#netfile", { name: "bad.srnet", mimeType: "application/octet-stream", buffer: Buffer.from("not a network") });
  await page.waitForSelector("#net[data-state=error]", { timeout: 30_000 });
  assert.match((await page.textContent("#net"))!, /^Cannot load bad\.srnet: .*not a network file/);
  assert.equal(await shown(), { compare: false, download: false }, "the old result is gone after a failure");
  await page.click("#run");
  assert.match(await waitIdle(page), /^Failed: .*not a network file/);
  assert.ok(await page.evaluate(() => document.getElementById("status")!.classList.contains("error")));
  await page.close();
});

test.run();
