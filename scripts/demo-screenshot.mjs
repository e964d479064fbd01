// SPDX-License-Identifier: MIT
// Screenshots the demo page in headless Chromium (Debian's /usr/bin/chromium, via playwright-core)
// after it upscaled the project's own example picture with the default network: the page as a web
// developer first sees it working. Needs `npm run build` first.
//   node scripts/demo-screenshot.mjs [out.png] [image]      (default: examples/demo.png, examples/lighthouse.png)
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { startServer } from "../demo/serve.mjs";

const out = process.argv[2] ?? fileURLToPath(new URL("../examples/demo.png", import.meta.url));
const image = process.argv[3] ?? fileURLToPath(new URL("../examples/lighthouse.png", import.meta.url));

const server = await startServer({ port: 0 });
const profile = mkdtempSync(join(tmpdir(), "srgan-shot-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: "/usr/bin/chromium", headless: true, viewport: { width: 1000, height: 1000 },
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update"],
});
try {
  const page = await context.newPage();
  page.on("pageerror", (e) => console.error("page error:", e.message));
  await page.goto(`${server.url}demo/`);
  await page.waitForSelector("html[data-ready]");
  await page.fill("#threads", "2");
  await page.setInputFiles("#file", image);
  await page.waitForSelector("#run:not([disabled])");
  await page.click("#run");
  await page.waitForSelector("#status[data-state=idle]", { timeout: 120_000 });
  if (!(await page.getAttribute("#status", "data-threads"))) throw new Error(`the upscale failed: ${await page.textContent("#status")}`);
  await page.screenshot({ path: out, fullPage: true });
  console.log(`${out}: ${await page.textContent("#status")}`);
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
  await server.close();
}
