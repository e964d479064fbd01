// SPDX-License-Identifier: MIT
// What the demo tests (demo*.test.ts) share: opening the demo page with its errors and console
// collected, waiting for a job to end, recording every text an element shows, and writing a PNG to pick.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { encode } from "fast-png";
import type { BrowserContext, Page } from "playwright-core";
import type { Pixels } from "../packaging/fixtures.js";

export interface DemoPage {
  page: Page;
  /** Uncaught errors in the page. */
  errors: string[];
  messages: Array<{ type: string; text: string }>;
  /** URLs the page requested, in order. */
  requests: string[];
}

/** Opens `base`demo/ in a new page (optionally phone-sized) and waits until app.js has run. */
export async function openDemo(context: BrowserContext, base: string, viewport?: { width: number; height: number }): Promise<DemoPage> {
  const page = await context.newPage();
  if (viewport) await page.setViewportSize(viewport);
  const demo: DemoPage = { page, errors: [], messages: [], requests: [] };
  page.on("pageerror", (e) => demo.errors.push(e.message));
  page.on("console", (m) => demo.messages.push({ type: m.type(), text: m.text() }));
  page.on("request", (r) => demo.requests.push(r.url()));
  await page.goto(`${base}demo/`);
  await page.waitForSelector("html[data-ready]");
  return demo;
}

/** Waits for the job started by a click to end (the click handler marks the page busy before its first await). */
export async function waitIdle(page: Page, timeout = 60_000): Promise<string> {
  await page.waitForSelector("#status[data-state=idle]", { timeout });
  return (await page.textContent("#status"))!;
}

/** Every text element `id` shows from now on (a MutationObserver in the page); call the result to read them. */
export async function recordTexts(page: Page, id: string): Promise<() => Promise<string[]>> {
  const key = `seen-${id}`;
  await page.evaluate(([id, key]) => {
    const seen: string[] = ((window as unknown as Record<string, string[]>)[key] = []);
    const el = document.getElementById(id)!;
    new MutationObserver(() => seen.push(el.textContent!)).observe(el, { childList: true, characterData: true, subtree: true });
  }, [id, key]);
  return () => page.evaluate((key) => (window as unknown as Record<string, string[]>)[key], key);
}

/** Writes `image` as an RGBA PNG named `name` in `dir`; returns its path. */
export function writePng(dir: string, name: string, image: Pixels): string {
  const path = join(dir, name);
  writeFileSync(path, encode({ width: image.width, height: image.height, data: image.data, channels: 4, depth: 8 }));
  return path;
}
