// SPDX-License-Identifier: MIT
// Headless Debian Chromium for the browser tests, driven by playwright-core (which never downloads a
// browser). Absent Chromium skips the caller's tests with one line, except in CI, where it is an error.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";

/** An app page's script body: window.run(rgba, w, h) upscales with the default network on 2 threads. */
export const RUN_DEFAULT_NETWORK = `window.run = async (rgba, width, height) => {
  const up = await createUpscaler({ threads: 2 });
  const out = await up.upscale({ data: new Uint8ClampedArray(rgba), width, height });
  const { threads, model } = up.info();
  await up.dispose();
  return { threads, model, data: Array.from(out.data) };
};
document.documentElement.dataset.ready = "true";`;

/** True when Chromium is installed; otherwise prints one skip line (or throws when CI is set). */
export function haveChromium(what: string): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env.CI) throw new Error(`${CHROMIUM} is missing but CI is set: ${what} must run in CI (apt-get install -y chromium)`);
  console.log(`skip: ${what} (needs Debian's chromium at ${CHROMIUM}: apt-get install -y chromium)`);
  return false;
}

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** A fresh profile each time, so no cache, service worker or permission carries over between runs. */
export async function launch(): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), "srgan-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    acceptDownloads: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
