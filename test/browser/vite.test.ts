// SPDX-License-Identifier: MIT
// A Vite app built from the packed tarball, with no Vite configuration for the package: Vite follows
// the package's literal new URL(…, import.meta.url) references, so the kernels, the built-in networks
// and the worker are emitted by the build alone. In Chromium, on a cross-origin isolated page, the
// default network runs on 2 worker threads and its bytes equal Node's.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { haveChromium, launch, RUN_DEFAULT_NETWORK, startServer, type Browser, type Server } from "./chromium.js";
import { assertBuilt, cleanup, installInto, pack, tempDir } from "../packaging/pack.js";
import { firstDiff, nodeReference, sampleImage } from "../packaging/fixtures.js";

const test = suite("vite");
const enabled = haveChromium("the Vite app test");
const image = sampleImage(53, 37, 5);
let dir: string, browser: Browser | undefined, server: Server | undefined;

test.before(() => { if (enabled) { assertBuilt(); dir = tempDir("vite"); } });
test.after(async () => {
  await browser?.close();
  await server?.close();
  cleanup(dir);
});

const maybe = enabled ? test : test.skip;

maybe("vite build of an app that imports srgan-wasm emits every asset and runs the default network on 2 threads, byte-identical to Node", async () => {
  const app = join(dir, "app");
  installInto(app, pack(dir));
  writeFileSync(join(app, "index.html"), `<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><script type="module" src="/main.js"></script>`);
  writeFileSync(join(app, "main.js"), `
import { createUpscaler } from "srgan-wasm";
${RUN_DEFAULT_NETWORK}
`);
  const { build } = await import("vite");
  const outDir = join(app, "dist");
  await build({ root: app, configFile: false, logLevel: "silent", build: { outDir, emptyOutDir: true } });
  const emitted = readdirSync(join(outDir, "assets")).join(" ");
  for (const re of [/kernels\.simd[^ ]*\.wasm/, /kernels\.relaxed[^ ]*\.wasm/, /natural-x4[^ ]*\.srnet/, /natural-fast-x4[^ ]*\.srnet/, /web-entry[^ ]*\.js/]) {
    assert.match(emitted, re, `vite emitted ${re} (got ${emitted})`);
  }

  const expected = await nodeReference(image, "natural");
  [server, browser] = await Promise.all([startServer({ port: 0, root: outDir }), launch()]);
  const page = await browser.context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`${server.url}index.html`);
  await page.waitForSelector("html[data-ready]");
  assert.ok(await page.evaluate(() => crossOriginIsolated));
  const r = await page.evaluate(([d, w, h]) => (window as unknown as { run(d: unknown, w: unknown, h: unknown): Promise<{ threads: number; model: string; data: number[] }> }).run(d, w, h),
    [Array.from(image.data), image.width, image.height] as const);
  assert.equal([r.threads, r.model], [2, "natural"]);
  assert.is(firstDiff(r.data, expected.data), -1, "the Vite app's bytes differ from Node's");
  assert.equal(errors, []);
});

test.run();
