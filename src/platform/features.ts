// SPDX-License-Identifier: MIT
// What the host is and offers, asked in one place. Deno 2 defines Node's `process` too (versions.node,
// getBuiltinModule, cwd), so "has Node's APIs" (hasNodeApis) and "is Node" (isNode) are different
// questions. Everything is read when asked, not at import: hosts and tests may change globals first.
// Node's built-ins are reached through process.getBuiltinModule, never imported, so that browser
// bundles stay free of them.
import { SrganError } from "../errors.js";

interface NodeProcess {
  versions: { node: string };
  getBuiltinModule?: (id: string) => unknown;
  cwd(): string;
}

const nodeProcess = (): NodeProcess | undefined => {
  const proc = (globalThis as { process?: NodeProcess }).process;
  return typeof proc?.versions?.node === "string" ? proc : undefined;
};

/** Deno (it has Node's APIs as well, but runs module Web Workers, not worker_threads). */
export const isDeno = (): boolean => typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";

/** Node itself: piscina on worker_threads runs the tiles. */
export const isNode = (): boolean => nodeProcess() !== undefined && !isDeno();

/** Node or Deno: a server-side process, with a larger default memoryLimit than a page. */
export const hasNodeApis = (): boolean => nodeProcess() !== undefined;

/** Node before 20.16 has no process.getBuiltinModule, which the package reads its files with. */
export function checkNodeVersion(): void {
  const proc = nodeProcess();
  if (proc && typeof proc.getBuiltinModule !== "function" && !isDeno()) {
    throw new SrganError("ERR_UNSUPPORTED", `Node ${proc.versions.node} is too old: srgan-wasm needs Node 20.16 or later (it reads its files with process.getBuiltinModule); upgrade Node`);
  }
}

/** A Node built-in module (`node:fs/promises`, …) in Node and Deno; undefined in browsers and old Node. */
export function nodeBuiltin<T>(id: string): T | undefined {
  const proc = nodeProcess();
  return typeof proc?.getBuiltinModule === "function" ? proc.getBuiltinModule(id) as T : undefined;
}

/** Deno's file reader, for file: URLs where Node's fs is missing. */
export function denoReadFile(): ((url: URL) => Promise<Uint8Array<ArrayBuffer>>) | undefined {
  const deno = (globalThis as { Deno?: { readFile(url: URL): Promise<Uint8Array<ArrayBuffer>> } }).Deno;
  return deno ? (url) => deno.readFile(url) : undefined;
}

/**
 * A path (relative to the working directory) as a file: URL, with the platform's separators, drive
 * letters and escapes right (pathToFileURL); undefined where there is no file system (browsers).
 * On Node before 20.16 it throws checkNodeVersion's ERR_UNSUPPORTED: that Node could not read the file.
 */
export function pathToFileUrl(path: string): URL | undefined {
  checkNodeVersion();
  return nodeBuiltin<{ pathToFileURL(p: string): URL }>("node:url")?.pathToFileURL(path);
}

/** How many threads the machine runs at once (logical cores), in [1, 64]. */
export function hardwareThreads(): number {
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  const os = nodeBuiltin<{ availableParallelism?: () => number }>("node:os");
  return Math.max(1, Math.min(64, nav?.hardwareConcurrency ?? os?.availableParallelism?.() ?? 1));
}
