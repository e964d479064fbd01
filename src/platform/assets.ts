// SPDX-License-Identifier: MIT
// Reads files that ship inside the package (wasm kernels, built-in networks). Asset URLs are literal
// `new URL(…, import.meta.url)` expressions so bundlers see and copy them.
import { SrganError } from "../errors.js";

const ASSETS = {
  "kernels.simd.wasm": () => new URL("../../wasm/kernels.simd.wasm", import.meta.url),
  "kernels.relaxed.wasm": () => new URL("../../wasm/kernels.relaxed.wasm", import.meta.url),
} as const;
export type AssetName = keyof typeof ASSETS;

export async function readAsset(name: AssetName): Promise<Uint8Array<ArrayBuffer>> {
  return readUrl(ASSETS[name]());
}

/** Reads a file: or http(s): URL into bytes (fs in Node/Deno for file:, fetch otherwise). */
export async function readUrl(url: URL): Promise<Uint8Array<ArrayBuffer>> {
  try {
    if (url.protocol === "file:") {
      const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
      const fs = proc?.getBuiltinModule?.("node:fs/promises") as { readFile(u: URL): Promise<Uint8Array<ArrayBuffer>> } | undefined;
      if (fs) return new Uint8Array(await fs.readFile(url));
      const deno = (globalThis as { Deno?: { readFile(u: URL): Promise<Uint8Array<ArrayBuffer>> } }).Deno;
      if (deno) return await deno.readFile(url);
    }
    const res = await fetch(url);
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return new Uint8Array(await res.arrayBuffer());
  } catch (cause) {
    throw new SrganError("ERR_UNSUPPORTED", `cannot read ${url.href}: ${(cause as Error).message}. If a bundler moved the package's files, pass the bytes yourself.`, { cause });
  }
}
