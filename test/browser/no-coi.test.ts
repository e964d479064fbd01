// SPDX-License-Identifier: MIT
// A page without cross-origin isolation cannot share memory with workers, so the upscaler runs one
// Web Worker with its own memory (weights copied once, each tile's pixels copied in and out): the page
// keeps running while a tile computes, and the bytes, alpha included, equal Node's.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import type { Page } from "playwright-core";
import { callPage, haveChromium, launch, startServer, type Browser, type Server } from "./chromium.js";
import { assertBuilt } from "../packaging/pack.js";
import { firstDiff, nodeReference, sampleImage } from "../packaging/fixtures.js";

const test = suite("page without cross-origin isolation");
const enabled = haveChromium("the no-isolation tests");
let browser: Browser, server: Server, page: Page;

test.before(async () => {
  if (!enabled) return;
  assertBuilt();
  [server, browser] = await Promise.all([startServer({ port: 0, coi: false }), launch()]);
  page = await browser.context.newPage();
  await page.goto(`${server.url}test/browser/page.html`);
  await page.waitForSelector("html[data-ready]");
  assert.is(await page.evaluate(() => crossOriginIsolated), false);
});
test.after(async () => {
  await browser?.close();
  await server?.close();
});

const maybe = enabled ? test : test.skip;

maybe("one worker with its own memory: the page keeps ticking during a 1-tile job; bytes (alpha too) equal Node's; leases back", async () => {
  const big = sampleImage(256, 192, 13);        // one 256-pixel tile: the whole job is one task
  const translucent = sampleImage(41, 29, 7, true);
  const images = [big, translucent].map((im) => ({ rgba: Array.from(im.data), width: im.width, height: im.height }));
  const r = await callPage<{ threads: number; workers: number; warnings: string[]; maxGap: number; ms: number; outs: number[][]; stats: { activeLeases: number } }>(page, "checks", "privateWorker", images);
  assert.equal([r.threads, r.workers, r.warnings], [1, 1, ["ERR_NO_COI"]]);
  // On the page's own thread the gap would be the whole tile (≈ ms); here the page only copies pixels.
  assert.ok(r.ms > 50, `the tile took ${r.ms.toFixed(0)} ms: too short to tell`);
  assert.ok(r.maxGap < r.ms / 2, `the page stalled ${r.maxGap.toFixed(0)} ms during a ${r.ms.toFixed(0)} ms job`);
  console.log(`  1-tile job ${r.ms.toFixed(0)} ms, longest stall of a 5 ms timer on the page ${r.maxGap.toFixed(0)} ms`);
  for (const [i, im] of [big, translucent].entries()) {
    const expected = await nodeReference(im, "natural");
    assert.is(firstDiff(r.outs[i], expected.data), -1, `image ${i}: bytes differ from Node's`);
  }
  assert.is(r.stats.activeLeases, 2, "only the two weight leases are held after the jobs");
});

test.run();
