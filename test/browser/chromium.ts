// SPDX-License-Identifier: MIT
// The one Chromium harness, for the browser tests and bench/browser.bench.ts: Debian's headless
// Chromium driven by playwright-core (which never downloads a browser), esbuild bundles of TypeScript
// pages, and the demo's static server (cross-origin isolated unless asked not to be). Absent Chromium
// skips the caller's tests with one line, except in CI, where it is an error.
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { BuildOptions } from "esbuild";
import { chromium, type BrowserContext, type Page } from "playwright-core";
// @ts-expect-error: a plain .mjs script without declarations
import { startServer as startDemoServer } from "../../demo/serve.mjs";

/** Debian's binary; SRGAN_CHROMIUM points elsewhere (a desktop Chrome with a GPU, or a missing path to check the skip). */
export const CHROMIUM = process.env.SRGAN_CHROMIUM ?? "/usr/bin/chromium";
const ROOT = fileURLToPath(new URL("../../", import.meta.url));

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

/**
 * A fresh profile each time, so no cache, service worker or permission carries over between runs.
 * `angle` turns WebGL on through that ANGLE backend ('swiftshader': software, CPU numbers); without it
 * the GPU is off.
 */
export async function launch(options: { angle?: string } = {}): Promise<Browser> {
  const { angle } = options;
  const gpu = angle === undefined ? ["--disable-gpu"] : [`--use-angle=${angle}`, angle === "swiftshader" ? "--enable-unsafe-swiftshader" : "--ignore-gpu-blocklist"];
  const profile = mkdtempSync(join(tmpdir(), "srgan-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    acceptDownloads: true,
    args: ["--no-sandbox", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", ...gpu],
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export type Server = { url: string; close(): Promise<void> };

/** demo/serve.mjs: serves `root` (default: the repository), with COOP/COEP unless coi is false. */
export const startServer: (options?: { port?: number; coi?: boolean; root?: string; headers?: Record<string, string> }) => Promise<Server> = startDemoServer;

/**
 * Bundles a page (entryPoints or stdin) for the browser with src/ inside. As package.json's "browser"
 * field does for dist/, the Node worker pool is left out.
 */
export async function bundle(options: BuildOptions): Promise<Uint8Array> {
  const { build } = await import("esbuild");
  const out = await build({
    bundle: true, format: "esm", platform: "browser", target: "chrome120", logLevel: "error", ...options, write: false,
    plugins: [{
      name: "no-node-pool",
      setup(b) {
        b.onResolve({ filter: /pool-node\.js$/ }, (a) => ({ path: a.path, namespace: "empty" }));
        b.onLoad({ filter: /.*/, namespace: "empty" }, () => ({ contents: "export {};" }));
      },
    }],
  });
  return out.outputFiles[0].contents;
}

/**
 * Serves `files` (path → contents; "index.html" is the page) with wasm/, models/ and `mounts`
 * (URL folder → directory) beside them, cross-origin isolated. close() also removes the files.
 */
export async function servePage(files: Record<string, string | Uint8Array>, mounts: Record<string, string> = {}): Promise<Server> {
  if (!existsSync(join(ROOT, "wasm/kernels.simd.wasm"))) throw new Error("wasm/kernels.simd.wasm is missing: run npm run build:wasm first");
  const root = mkdtempSync(join(tmpdir(), "srgan-page-"));
  for (const [path, body] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), body);
  }
  for (const [at, dir] of Object.entries({ wasm: join(ROOT, "wasm"), models: join(ROOT, "models"), ...mounts })) symlinkSync(dir, join(root, at), "dir");
  const server = await startServer({ port: 0, root });
  return { url: server.url, close: async () => { await server.close(); rmSync(root, { recursive: true, force: true }); } };
}

/** A page with one script module, for servePage. */
export const modulePage = (title: string, src = "./page.js") =>
  `<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>${title}</title><script type="module" src="${src}"></script>`;

/** Calls globalThis[api][fn](...args) in the page and returns its (structured-cloned) result. */
export function callPage<T>(page: Page, api: string, fn: string, ...args: unknown[]): Promise<T> {
  return page.evaluate(([o, f, a]) => (globalThis as unknown as Record<string, Record<string, (...x: unknown[]) => unknown>>)[o as string][f as string](...(a as unknown[])), [api, fn, args] as const) as Promise<T>;
}
