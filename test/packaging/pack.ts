// SPDX-License-Identifier: MIT
// Packs the project the way `npm publish` would and installs the tarball into a throwaway project,
// for the packaging, Deno and bundler tests. Installs prefer npm's cache (the dependencies are the
// ones this checkout already installed), so they work without reaching the registry when it is warm.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Fails with the fix when the build is missing (these tests check dist/ and wasm/, not src/). */
export function assertBuilt(): void {
  const need = ["dist/index.js", "dist/index.browser.js", "dist/index.deno.js", "dist/worker/web-entry.js", "wasm/kernels.simd.wasm", "wasm/kernels.relaxed.wasm", "packages/server/dist/index.js"];
  const missing = need.filter((p) => !existsSync(join(ROOT, p)));
  if (missing.length) throw new Error(`missing ${missing.join(", ")}: run npm run build first (npm test does)`);
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `srgan-${prefix}-`));
}

/** `npm pack` into `dir` (of the library, or with `workspace` of that package, e.g. packages/server); returns the tarball's path. */
export function pack(dir: string, workspace?: string): string {
  const out = execFileSync("npm", ["pack", "--silent", "--pack-destination", dir, ...(workspace ? ["--workspace", workspace] : [])], { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  const name = out.trim().split("\n").pop()!;
  return join(dir, name);
}

/** Paths inside the tarball (without the leading "package/"). */
export function tarballFiles(tarball: string): string[] {
  return execFileSync("tar", ["tzf", tarball], { encoding: "utf8" }).split("\n").filter(Boolean).map((p) => p.replace(/^package\//, ""));
}

/**
 * A new project in `dir` with the tarballs installed as dependencies (ESM). By default no scripts run
 * and only errors are printed; `asUser` installs as a user would (scripts as npm decides, warnings
 * shown). Returns what npm printed (stdout and stderr).
 */
export function installInto(dir: string, tarballs: string | string[], { asUser = false } = {}): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "srgan-consumer", private: true, type: "module" }));
  const flags = asUser ? ["--loglevel=warn"] : ["--ignore-scripts", "--loglevel=error"];
  const r = spawnSync("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", ...flags, ...[tarballs].flat()], {
    cwd: dir, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 120_000,
  });
  if (r.status !== 0) throw new Error(`npm install in ${dir} failed (${r.error ?? `status ${r.status}`}):\n${r.stdout}${r.stderr}`);
  return r.stdout + r.stderr;
}

export function cleanup(dir: string | undefined): void {
  if (dir) rmSync(dir, { recursive: true, force: true });
}
