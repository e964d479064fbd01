// SPDX-License-Identifier: MIT
// Reads files that ship inside the package (wasm kernels, built-in networks), and holds the one
// escape hatch for setups where they are not beside the code (configureAssets). Asset URLs are literal
// `new URL(…, import.meta.url)` expressions so bundlers see and copy them: never build them at run time.
import { SrganError } from "../errors.js";
import { checkNodeVersion, denoReadFile, isDeno, nodeBuiltin } from "./features.js";

const ASSETS = {
  "kernels.simd.wasm": () => new URL("../../wasm/kernels.simd.wasm", import.meta.url),
  "kernels.relaxed.wasm": () => new URL("../../wasm/kernels.relaxed.wasm", import.meta.url),
  "natural-x4.srnet": () => new URL("../../models/natural-x4.srnet", import.meta.url),
  "natural-fast-x4.srnet": () => new URL("../../models/natural-fast-x4.srnet", import.meta.url),
  "natural-x2.srnet": () => new URL("../../models/natural-x2.srnet", import.meta.url),
  "natural-real-x4.srnet": () => new URL("../../models/natural-real-x4.srnet", import.meta.url),
} as const;
export type AssetName = keyof typeof ASSETS;

type Bytes = Uint8Array | ArrayBuffer;

/** Where the package's files are when a bundler or host moved them (see docs/platforms.md). */
export interface AssetOptions {
  /**
   * The folder (URL or path ending in '/') that holds `kernels.simd.wasm` and `kernels.relaxed.wasm`,
   * e.g. where your build copied `node_modules/srgan-wasm/wasm/`.
   */
  wasmBaseUrl?: string | URL;
  /** The kernel builds themselves; `relaxed` is optional (without it the plain SIMD build runs). */
  wasmBytes?: { simd: Bytes; relaxed?: Bytes };
  /**
   * The folder (URL or path ending in '/') that holds the built-in networks (`natural-x4.srnet`, …),
   * e.g. where your build copied `node_modules/srgan-wasm/models/`. For single-file builds pass a
   * network's bytes as `createUpscaler({ model })` instead.
   */
  modelBaseUrl?: string | URL;
  /** The module worker script (`srgan-wasm/worker`, i.e. dist/worker/web-entry.js, or your bundle of it). */
  workerUrl?: string | URL;
}

let overrides: { wasmBaseUrl?: URL; wasmBytes?: { simd: Uint8Array<ArrayBuffer>; relaxed?: Uint8Array<ArrayBuffer> }; modelBaseUrl?: URL; workerUrl?: URL } = {};

/**
 * Points the package at its wasm kernels, built-in networks and worker script when they are not where the package put
 * them (esbuild and other bundlers that do not follow `new URL(…, import.meta.url)`, single-file
 * builds, CDNs). Call it before the first createUpscaler(); later calls replace earlier ones, and
 * `configureAssets({})` restores the defaults for upscalers created afterwards.
 * @example
 * configureAssets({ wasmBaseUrl: "/assets/srgan/", workerUrl: "/assets/srgan/worker.js" });
 * const up = await createUpscaler({ threads: 4 });
 */
export function configureAssets(options: AssetOptions): void {
  if (options === null || typeof options !== "object") throw new TypeError("configureAssets() takes an object");
  const next: typeof overrides = {};
  if (options.wasmBaseUrl !== undefined) next.wasmBaseUrl = toFolderUrl(options.wasmBaseUrl, "options.wasmBaseUrl");
  if (options.modelBaseUrl !== undefined) next.modelBaseUrl = toFolderUrl(options.modelBaseUrl, "options.modelBaseUrl");
  if (options.wasmBytes !== undefined) {
    const { simd, relaxed } = options.wasmBytes ?? {};
    next.wasmBytes = { simd: toBytes(simd, "options.wasmBytes.simd") };
    if (relaxed !== undefined) next.wasmBytes.relaxed = toBytes(relaxed, "options.wasmBytes.relaxed");
  }
  if (options.workerUrl !== undefined) next.workerUrl = toUrl(options.workerUrl, "options.workerUrl");
  if (next.wasmBaseUrl && next.wasmBytes) throw new TypeError("pass options.wasmBaseUrl or options.wasmBytes, not both");
  overrides = next;
}

/** The worker script URL set by configureAssets(), or undefined for the package's own. */
export function workerUrlOverride(): URL | undefined {
  return overrides.workerUrl;
}

/** Whether a kernel build can be read: always, except a relaxed one that configureAssets({ wasmBytes }) left out. */
export function hasKernelBuild(variant: "simd" | "relaxed"): boolean {
  return variant === "simd" || !overrides.wasmBytes || overrides.wasmBytes.relaxed !== undefined;
}

export async function readAsset(name: AssetName): Promise<Uint8Array<ArrayBuffer>> {
  const { wasmBytes, wasmBaseUrl, modelBaseUrl } = overrides;
  if (!name.endsWith(".wasm")) {
    return readUrl(modelBaseUrl ? new URL(name, modelBaseUrl) : ASSETS[name](),
      `If a bundler moved the package's files, copy node_modules/srgan-wasm/models/ and tell it where with configureAssets({ modelBaseUrl }), or pass the network's bytes as createUpscaler({ model }).`);
  }
  if (wasmBytes) {
    const bytes = name === "kernels.simd.wasm" ? wasmBytes.simd : wasmBytes.relaxed;
    if (!bytes) throw new SrganError("ERR_UNSUPPORTED", `configureAssets({ wasmBytes }) gave no ${name}; check hasKernelBuild() first`);
    return bytes;
  }
  return readUrl(wasmBaseUrl ? new URL(name, wasmBaseUrl) : ASSETS[name](),
    "If a bundler moved the package's files, copy node_modules/srgan-wasm/wasm/ and tell it where with configureAssets({ wasmBaseUrl }), or pass the bytes with configureAssets({ wasmBytes }).");
}

/**
 * Reads a file: or http(s): URL into bytes (fs in Node/Deno for file:, fetch otherwise); a failure is
 * ERR_UNSUPPORTED with `hint`, which says how to point the package at the file.
 */
export async function readUrl(url: URL, hint = ""): Promise<Uint8Array<ArrayBuffer>> {
  // Node before 20.16 would be sent to fetch(), which cannot read file: URLs.
  if (url.protocol === "file:") checkNodeVersion();
  try {
    if (url.protocol === "file:") {
      const fs = nodeBuiltin<{ readFile(u: URL): Promise<Uint8Array<ArrayBuffer>> }>("node:fs/promises");
      if (fs) return new Uint8Array(await fs.readFile(url));
      const readFile = denoReadFile();
      if (readFile) return await readFile(url);
    }
    const res = await fetch(url);
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return new Uint8Array(await res.arrayBuffer());
  } catch (cause) {
    if (isDeno() && url.protocol === "file:") hint = "Deno needs --allow-read for the package's files (see docs/platforms.md).";
    throw new SrganError("ERR_UNSUPPORTED", `cannot read ${url.href}: ${(cause as Error).message}.${hint && ` ${hint}`}`, { cause });
  }
}

function toUrl(value: string | URL, name: string): URL {
  if (value instanceof URL) return value;
  if (typeof value !== "string" || value === "") throw new TypeError(`${name} must be a URL or a non-empty string, got ${String(value)}`);
  const base = (globalThis as { location?: { href: string } }).location?.href;
  try {
    return base ? new URL(value, base) : new URL(value);
  } catch {
    throw new TypeError(`${name} must be an absolute URL here (no page location to resolve '${value}' against)`);
  }
}

function toFolderUrl(value: string | URL, name: string): URL {
  const url = toUrl(value, name);
  if (!url.pathname.endsWith("/")) throw new TypeError(`${name} must name a folder (end in '/'), got ${url.href}`);
  return url;
}

function toBytes(value: unknown, name: string): Uint8Array<ArrayBuffer> {
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (value instanceof Uint8Array && value.buffer instanceof ArrayBuffer) return value as Uint8Array<ArrayBuffer>;
  throw new TypeError(`${name} must be an ArrayBuffer or a Uint8Array (not shared), got ${Object.prototype.toString.call(value)}`);
}
