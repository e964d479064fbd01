// SPDX-License-Identifier: MIT
// Packs the project the way `npm publish` would and installs the tarball into a throwaway project,
// for the packaging, Deno and bundler tests. Installs prefer npm's cache (the dependencies are the
// ones this checkout already installed), so they work without reaching the registry when it is warm.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Fails with the fix when the build is missing (these tests check dist/ and wasm/, not src/). */
export function assertBuilt(): void {
  const need = ["dist/index.js", "dist/index.browser.js", "dist/index.deno.js", "dist/worker/web-entry.js", "wasm/kernels.simd.wasm", "wasm/kernels.relaxed.wasm"];
  const missing = need.filter((p) => !existsSync(join(ROOT, p)));
  if (missing.length) throw new Error(`missing ${missing.join(", ")}: run npm run build first (npm test does)`);
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `srgan-${prefix}-`));
}

/** `npm pack` into `dir`; returns the tarball's path. */
export function pack(dir: string): string {
  const out = execFileSync("npm", ["pack", "--silent", "--pack-destination", dir], { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  const name = out.trim().split("\n").pop()!;
  return join(dir, name);
}

/** Paths inside the tarball (without the leading "package/"). */
export function tarballFiles(tarball: string): string[] {
  return execFileSync("tar", ["tzf", tarball], { encoding: "utf8" }).split("\n").filter(Boolean).map((p) => p.replace(/^package\//, ""));
}

/** A new project in `dir` with the tarball installed as a dependency (ESM, no scripts run). */
export function installInto(dir: string, tarball: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "srgan-consumer", private: true, type: "module" }));
  execFileSync("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error", tarball], {
    cwd: dir, stdio: ["ignore", "pipe", "pipe"], timeout: 120_000,
  });
}

export function cleanup(dir: string | undefined): void {
  if (dir) rmSync(dir, { recursive: true, force: true });
}
