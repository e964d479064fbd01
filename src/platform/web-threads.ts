// SPDX-License-Identifier: MIT
// Whether Web Workers can share the engine's memory here, and the one warning, naming the fix, for when
// they cannot (pool.ts then runs tiles on one worker with its own memory, or on the calling thread). Browsers only post a shared
// WebAssembly.Memory to a worker from a cross-origin isolated page.

/** A condition the package works around rather than fails on; `code` is stable, `message` says the fix. */
export interface SrganWarning {
  code: "ERR_NO_COI" | "ERR_NO_WORKERS" | "ERR_WEBGL_NO_WORKER";
  message: string;
}
export type WarningHandler = (warning: SrganWarning) => void;

export const COI_HEADERS = "Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp (or credentialless)";

/** Why worker threads cannot run here, or undefined when they can. */
export function webThreadsBlocker(): SrganWarning | undefined {
  const g = globalThis as { crossOriginIsolated?: boolean; Worker?: unknown; SharedArrayBuffer?: unknown };
  if (typeof g.Worker !== "function") {
    return {
      code: "ERR_NO_WORKERS",
      message: "this context has no Web Workers (a service worker or worklet?), so srgan-wasm runs on one thread. " +
        "Run the upscaler on a page or in a dedicated worker for threads, or pass threads: 0 to silence this.",
    };
  }
  // Deno has no crossOriginIsolated at all and shares memory freely; pages report false when not isolated.
  if (g.crossOriginIsolated === false || typeof g.SharedArrayBuffer !== "function") {
    return {
      code: "ERR_NO_COI",
      message: "threads need a cross-origin isolated page and this one is not, so srgan-wasm runs one thread: a Web Worker with its own memory " +
        "(each tile's pixels are copied to it and back), or this page's thread where the browser refuses that. " +
        `Serve the page with the headers ${COI_HEADERS}; see docs/platforms.md. Pass threads: 0 to silence this.`,
    };
  }
  return undefined;
}

const warned = new Set<string>();

/** The default warning sink: console.warn, once per code per realm, so a page that makes many upscalers is told once. */
export function warnOnce(warning: SrganWarning): void {
  if (warned.has(warning.code)) return;
  warned.add(warning.code);
  console.warn(`srgan-wasm ${warning.code}: ${warning.message}`);
}
