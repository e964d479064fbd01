// SPDX-License-Identifier: MIT
// The demo for people who do not use a mouse or a desktop: every control is reached with Tab and used
// with the keyboard alone (choosing the picture, Upscale, the slider, the zoom crop, the download), and
// focus never falls to the page when Upscale or Cancel disables itself; Chromium's accessibility tree
// (CDP Accessibility.*, no third-party service) gives every control, canvas and progress bar a name.
// On a phone-sized screen (390×844) nothing scrolls sideways, the status is not squeezed, the zoomed
// crops stay side by side, touch targets are at least 44 px tall and the text does not say "click".
import { suite } from "uvu";
import * as assert from "uvu/assert";
import type { Page } from "playwright-core";
import { haveChromium, launch, startServer, type Browser, type Server } from "./chromium.js";
import { assertBuilt, cleanup, tempDir } from "../packaging/pack.js";
import { sampleImage } from "../packaging/fixtures.js";
import { openDemo, waitIdle, writePng } from "./demo-driver.js";

const test = suite("demo: keyboard, accessibility tree, phone");
const enabled = haveChromium("the demo accessibility tests");
let dir: string, pngPath: string, browser: Browser, server: Server;

test.before(async () => {
  if (!enabled) return;
  assertBuilt();
  dir = tempDir("demo-access");
  pngPath = writePng(dir, "sample.png", sampleImage(67, 45, 3));
  [server, browser] = await Promise.all([startServer({ port: 0 }), launch()]);
});
test.after(async () => {
  await browser?.close();
  await server?.close();
  cleanup(dir);
});

const maybe = enabled ? test : test.skip;
const focused = (page: Page) => page.evaluate(() => document.activeElement?.id || document.activeElement?.tagName.toLowerCase() || "none");

/** Presses Tab until `id` has focus (at most `limit` times); returns the ids passed on the way. */
async function tabTo(page: Page, id: string, limit = 30): Promise<string[]> {
  const path: string[] = [];
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press("Tab");
    const at = await focused(page);
    path.push(at);
    if (at === id) return path;
  }
  assert.unreachable(`Tab never reached #${id}: ${path.join(" → ")}`);
  return path;
}

maybe("keyboard only: Tab reaches every control; choose a picture, Upscale, compare, move the crop, download; focus never falls to the page", async () => {
  const { page, errors } = await openDemo(browser.context, server.url);
  await page.evaluate(() => {
    const log: string[] = ((window as unknown as { focusLog: string[] }).focusLog = []);
    document.addEventListener("focusin", (e) => log.push((e.target as HTMLElement).id));
    // A focused control that disables itself loses focus without a focusin: record where it went.
    for (const id of ["run", "cancel"]) document.getElementById(id)!.addEventListener("focusout", () => setTimeout(() => log.push(document.activeElement?.id || "body")));
  });
  const path = await tabTo(page, "file");
  for (const id of ["sample", "model", "threads", "backend"]) assert.ok((await tabTo(page, id)).length <= 3, `#${id} follows closely`);
  assert.equal(path, ["file"], "the picture picker is the first stop");

  // Space on the picker opens the file dialog; the test answers it.
  await page.focus("#file");
  const [chooser] = await Promise.all([page.waitForEvent("filechooser"), page.keyboard.press("Space")]);
  await chooser.setFiles(pngPath);
  await page.waitForSelector("#run:not([disabled])");
  await page.waitForSelector("#net[data-state=ready]", { timeout: 30_000 });
  await tabTo(page, "run");
  await page.keyboard.press("Enter");
  await waitIdle(page);
  assert.match((await page.textContent("#status"))!, /^Done: 268×180 with natural/);
  const log = await page.evaluate(() => (window as unknown as { focusLog: string[] }).focusLog);
  assert.ok(log.includes("cancel"), `focus went from Upscale to Cancel: ${log}`);
  assert.is(await focused(page), "run", "focus is back on Upscale");
  assert.not.ok(log.includes("body"), `focus fell to the page: ${log}`);

  await tabTo(page, "slider");
  await page.keyboard.press("ArrowLeft");
  assert.is(await page.evaluate(() => document.getElementById("before")!.style.clipPath), "inset(0px 51% 0px 0px)");
  await tabTo(page, "crop-x", 3);
  const x0 = Number(await page.getAttribute("#zoom-net", "data-x"));
  await page.keyboard.press(x0 > 0 ? "ArrowLeft" : "ArrowRight");
  assert.is(Number(await page.getAttribute("#zoom-net", "data-x")), x0 > 0 ? x0 - 1 : x0 + 1, "the crop moved");
  await tabTo(page, "crop-y", 3);
  await tabTo(page, "download");
  const [download] = await Promise.all([page.waitForEvent("download"), page.keyboard.press("Enter")]);
  assert.is(download.suggestedFilename(), "sample-natural-x4.png");
  assert.equal(errors, []);
  await page.close();
});

interface AxNode { role?: { value: string }; name?: { value: string }; ignored?: boolean; properties?: Array<{ name: string; value: { value: unknown } }>; backendDOMNodeId?: number }

maybe("accessibility tree: every focusable node, canvas and progress bar has a role and a name", async () => {
  const { page } = await openDemo(browser.context, server.url);
  await page.selectOption("#model", "bicubic");
  await page.setInputFiles("#file", pngPath);
  await page.waitForSelector("#run:not([disabled])");
  await page.click("#run");
  await waitIdle(page);
  const cdp = await browser.context.newCDPSession(page);
  const { nodes } = await cdp.send("Accessibility.getFullAXTree") as { nodes: AxNode[] };
  const visible = nodes.filter((n) => !n.ignored);
  const focusable = visible.filter((n) => n.properties?.some((p) => p.name === "focusable" && p.value.value === true));
  assert.ok(focusable.length >= 12, `only ${focusable.length} focusable nodes`);
  for (const n of focusable) {
    assert.ok(n.name?.value.trim(), `a focusable ${n.role?.value} has no name`);
    assert.not.ok(["generic", "none", ""].includes(n.role?.value ?? ""), `a focusable node has role ${n.role?.value}`);
  }
  // By element: what each control, canvas and bar is called.
  const { root } = await cdp.send("DOM.getDocument", { depth: -1 }) as { root: { nodeId: number } };
  const named: Record<string, [string, string]> = {};
  for (const id of ["file", "sample", "model", "threads", "backend", "run", "cancel", "progress", "slider", "crop-x", "crop-y", "after", "before", "zoom-ref", "zoom-net", "download"]) {
    const { nodeId } = await cdp.send("DOM.querySelector", { nodeId: root.nodeId, selector: `#${id}` }) as { nodeId: number };
    const { nodes: [ax] } = await cdp.send("Accessibility.getPartialAXTree", { nodeId, fetchRelatives: false }) as { nodes: AxNode[] };
    named[id] = [ax.role?.value ?? "", ax.name?.value ?? ""];
    assert.ok(named[id][1].trim(), `#${id} (${named[id][0]}) has no accessible name`);
  }
  for (const id of ["after", "before", "zoom-ref", "zoom-net"]) assert.is(named[id][0], "image", `#${id} is ${named[id][0]}`);
  assert.is(named.progress[0], "progressbar");
  assert.match(named.after[1], /sample\.png upscaled by bicubic to 268×180/);
  assert.match(named["zoom-net"][1], /64×64 pixels from \(\d+, \d+\) of the bicubic result/);
  for (const id of ["slider", "crop-x", "crop-y"]) assert.is(named[id][0], "slider");
  console.log(`  names: ${Object.entries(named).map(([id, [role, name]]) => `#${id} ${role} "${name}"`).join("; ")}`);
  await page.close();
});

maybe("phone-sized screen (390×844): no sideways scrolling, the status is not squeezed, the zoomed crops side by side, 44 px targets, no 'click'", async () => {
  const { page, errors } = await openDemo(browser.context, server.url, { width: 390, height: 844 });
  await page.selectOption("#model", "bicubic");
  await page.setInputFiles("#file", pngPath);
  await page.waitForSelector("#run:not([disabled])");
  await page.click("#run");
  await waitIdle(page);
  // No helper functions inside: tsx would wrap them in a __name() the page does not have.
  const m = await page.evaluate(() => {
    const status = document.getElementById("status")!;
    const statusBox = status.getBoundingClientRect();
    const [ref, net] = ["zoom-ref", "zoom-net"].map((id) => document.getElementById(id)!.getBoundingClientRect());
    const small = Array.from(document.querySelectorAll<HTMLElement>("button, select, input, .drop, #download"))
      .filter((el) => el.offsetParent !== null && getComputedStyle(el).opacity !== "0")
      .map((el) => ({ id: el.id || el.className, h: el.getBoundingClientRect().height }))
      .filter((t) => t.h < 44);
    const labels = Array.from(document.querySelectorAll("[title], [aria-label]")).map((e) => `${e.getAttribute("title")} ${e.getAttribute("aria-label")}`);
    return {
      scrollWidth: document.documentElement.scrollWidth, statusWidth: statusBox.width,
      lines: Math.round(statusBox.height / parseFloat(getComputedStyle(status).lineHeight)), small,
      crops: { sameRow: Math.abs(ref.top - net.top) < 1, right: Math.max(ref.right, net.right), widths: [ref.width, net.width] },
      click: /click/i.test(`${document.body.innerText} ${labels.join(" ")}`),
    };
  });
  assert.ok(m.scrollWidth <= 390, `the page is ${m.scrollWidth} px wide`);
  assert.ok(m.statusWidth >= 340, `the status is squeezed to ${m.statusWidth.toFixed(0)} px`);
  assert.ok(m.lines <= 4, `the status takes ${m.lines} lines`);
  assert.ok(m.crops.sameRow, "the zoomed crops are stacked");
  assert.ok(m.crops.right <= 390, `the crops reach ${m.crops.right} px`);
  assert.ok(m.crops.widths.every((w) => w >= 128), `crops shown at ${m.crops.widths} px`);
  assert.equal(m.small, [], "targets under 44 px tall");
  assert.not.ok(m.click, "the text says 'click' on a touch screen");
  assert.equal(errors, []);
  await page.close();
});

test.run();
