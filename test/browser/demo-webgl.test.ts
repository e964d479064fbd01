// SPDX-License-Identifier: MIT
// WebGL in the demo, in headless Chromium on SwiftShader (a CPU playing the GPU, so a layer of `natural`
// takes a good fraction of a second): the GPU work runs in a worker, so during a `natural` upscale of the
// sample picture no task on the page's thread takes 100 ms or more (PerformanceObserver 'longtask'),
// and Cancel, pressed two seconds in, settles within one second (measured in the page, from the click
// to "Cancelled."). With WebGL chosen Threads is off, and a finished job says it ran on the GPU.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { haveChromium, launch, startServer, type Browser, type Server } from "./chromium.js";
import { assertBuilt } from "../packaging/pack.js";
import { openDemo, waitIdle } from "./demo-driver.js";

const test = suite("demo: WebGL in a worker");
const enabled = haveChromium("the demo's WebGL test");
let browser: Browser, server: Server;

test.before(async () => {
  if (!enabled) return;
  assertBuilt();
  [server, browser] = await Promise.all([startServer({ port: 0 }), launch({ angle: "swiftshader" })]);
});
test.after(async () => {
  await browser?.close();
  await server?.close();
});

const maybe = enabled ? test : test.skip;

interface Probe { long: Array<[number, number]>; t0: number; tAbort: number; tSettle: number; maxGap: number; maxFrame: number }

maybe("natural on the GPU: no page task of 100 ms or more while it runs, Cancel settles within 1 s; then a WebGL job finishes 'on the GPU'", async () => {
  const { page, errors } = await openDemo(browser.context, server.url);
  await page.selectOption("#backend", "webgl");
  assert.ok(await page.isDisabled("#threads"), "Threads is editable with WebGL");
  await page.click("#sample");
  await page.waitForSelector("#net[data-state=ready]", { timeout: 120_000 }); // compiled and self-tested in the worker
  await page.evaluate(() => {
    const probe: Probe = ((window as unknown as { probe: Probe }).probe = { long: [], t0: 0, tAbort: 0, tSettle: 0, maxGap: 0, maxFrame: 0 });
    new PerformanceObserver((list) => { for (const e of list.getEntries()) probe.long.push([e.startTime, e.duration]); }).observe({ type: "longtask" });
    document.getElementById("run")!.addEventListener("click", () => { probe.t0 = performance.now(); }, { capture: true });
    document.getElementById("cancel")!.addEventListener("click", () => { probe.tAbort = performance.now(); }, { capture: true });
    const status = document.getElementById("status")!;
    new MutationObserver(() => { if (status.textContent === "Cancelled.") probe.tSettle = performance.now(); }).observe(status, { childList: true, characterData: true, subtree: true });
    // A 20 ms timer's lateness: the same question asked a second way.
    let last = performance.now();
    setInterval(() => { const t = performance.now(); if (probe.t0 && !probe.tSettle) probe.maxGap = Math.max(probe.maxGap, t - last - 20); last = t; }, 20);
    // Frames are presented by the GPU process, which SwiftShader also keeps busy with the worker's draws.
    // (Named functions would be wrapped in a __name() helper the page does not have.)
    let frame = performance.now();
    const loop: { tick?: FrameRequestCallback } = {};
    loop.tick = (t) => { if (probe.t0 && !probe.tSettle) probe.maxFrame = Math.max(probe.maxFrame, t - frame); frame = t; requestAnimationFrame(loop.tick!); };
    requestAnimationFrame(loop.tick);
  });
  await page.click("#run");
  // Polled by timer: requestAnimationFrame, Playwright's default, waits for frames (see above).
  await page.waitForFunction(() => /% done$/.test(document.getElementById("status")!.textContent!), undefined, { timeout: 60_000, polling: 50 });
  await page.waitForFunction(() => performance.now() - (window as unknown as { probe: Probe }).probe.t0 >= 2000, undefined, { polling: 50 });
  const progress = await page.evaluate(() => (document.getElementById("progress") as HTMLProgressElement).value);
  await page.click("#cancel");
  assert.is(await waitIdle(page), "Cancelled.");
  const p = await page.evaluate(() => (window as unknown as { probe: Probe }).probe);
  const during = p.long.filter(([start]) => start >= p.t0 && start <= p.tSettle);
  const longest = Math.max(0, ...during.map(([, ms]) => ms));
  console.log(`  cancelled at ${(p.tAbort - p.t0).toFixed(0)} ms (${(100 * progress).toFixed(0)} % done), settled ${(p.tSettle - p.tAbort).toFixed(0)} ms later; ` +
    `longest page task ${longest.toFixed(0)} ms (${during.length} over 50 ms), 20 ms timer at most ${p.maxGap.toFixed(0)} ms late, longest frame ${p.maxFrame.toFixed(0)} ms`);
  assert.ok(progress > 0 && progress < 1, `the job was ${progress} done when cancelled`);
  assert.ok(longest < 100, `a ${longest.toFixed(0)} ms task on the page's thread during the WebGL job`);
  assert.ok(p.tSettle - p.tAbort < 1000, `Cancel took ${(p.tSettle - p.tAbort).toFixed(0)} ms to settle`);

  await page.selectOption("#model", "bicubic");
  await page.click("#run");
  const status = await waitIdle(page, 120_000);
  assert.match(status, /^Done: 640×480 with bicubic in \d+ ms on the GPU \(WebGL2\); memory peak .*GPU textures peak \d+\.\d MiB\.$/);
  assert.is(await page.getAttribute("#status", "data-backend"), "webgl");
  assert.equal(errors, []);
  await page.close();
});

test.run();
