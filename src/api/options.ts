// SPDX-License-Identifier: MIT
// Option validation: every option is checked here, and a bad one is a TypeError/RangeError that names
// it exactly (the piscina convention).
import type { ModelSource } from "./load-network.js";
import { CONV_ALGORITHMS, type ConvAlgorithm } from "../ops/op.js";
import { MAX_MEMORY_BYTES } from "../runtime/engine.js";
import { hardwareThreads, hasNodeApis } from "../platform/features.js";

export interface UpscalerOptions {
  /**
   * Built-in name (`natural`, `natural-fast`, `natural-real`, `bicubic`, `bilinear`, `nearest`), 'auto'
   * (`natural-real` for JPEG inputs, `natural` for the rest, by upscale()'s `format` option), a path or
   * URL to a network file, its bytes, or a graph. Default: the built-in default.
   */
  model?: ModelSource;
  /**
   * Upscaling factor. Picks the built-in network of that scale (`natural` has ×4 and ×2; `bicubic`,
   * `bilinear`, `nearest` take any of 1–8); with a file or graph it must match the network's own
   * (else ERR_SCALE). Default: the network's scale, ×4 for built-ins.
   */
  scale?: number;
  /** Worker threads on the shared memory; 0 runs on the calling thread. Default: the machine's cores. */
  threads?: number | "auto";
  /** Longest side of a tile, in input pixels. Default 256. */
  tileSize?: number;
  /** Size of the shared memory (weights + working buffers), bytes. Default 1 GiB in Node, 512 MiB elsewhere. */
  memoryLimit?: number;
  /** Kernel build: 'auto' (relaxed SIMD where available), 'simd' or 'relaxed'. */
  wasmVariant?: "auto" | "simd" | "relaxed";
  /**
   * 3×3 convolutions (wasm backend): 'winograd' (F(2×2,3×3): fewer multiplies, last bits differ),
   * 'direct', or 'auto' (default: Winograd where the layer is wide enough to gain, see src/ops/conv2d.ts).
   */
  convAlgorithm?: ConvAlgorithm;
  /**
   * 'wasm' (default), 'webgl' (WebGL2 in browsers; UnsupportedError where it cannot run), or 'auto'
   * (WebGL2 where a hardware GPU passes a self-test, else wasm). info().backend says which ran.
   */
  backend?: Backend;
  /** Told when something asked for cannot be had (e.g. threads without cross-origin isolation, code ERR_NO_COI). Default: console.warn once per code. */
  onWarning?: (warning: { code: string; message: string }) => void;
}

export type Backend = "auto" | "wasm" | "webgl";

export interface ResolvedOptions {
  model?: ModelSource;
  scale?: number;
  threads: number;
  tileSize: number;
  memoryLimit: number;
  wasmVariant: "auto" | "simd" | "relaxed";
  convAlgorithm: ConvAlgorithm;
  backend: Backend;
  onWarning?: (warning: { code: string; message: string }) => void;
}

const MIB = 1 << 20;

export function resolveOptions(o: UpscalerOptions): ResolvedOptions {
  if (o === null || typeof o !== "object") throw new TypeError("options must be an object");
  const threads = o.threads === undefined || o.threads === "auto" ? hardwareThreads() : o.threads;
  if (!Number.isInteger(threads) || threads < 0 || threads > 64) throw new RangeError(`options.threads must be 'auto' or an integer in [0, 64], got ${String(o.threads)}`);
  const tileSize = o.tileSize ?? 256;
  if (!Number.isInteger(tileSize) || tileSize < 8 || tileSize > 4096) throw new RangeError(`options.tileSize must be an integer in [8, 4096], got ${String(o.tileSize)}`);
  const memoryLimit = o.memoryLimit ?? (hasNodeApis() ? 1024 * MIB : 512 * MIB);
  if (!Number.isFinite(memoryLimit) || memoryLimit < 16 * MIB || memoryLimit > MAX_MEMORY_BYTES) {
    throw new RangeError(`options.memoryLimit must be a byte count in [16 MiB, 4 GiB), got ${String(o.memoryLimit)}`);
  }
  const wasmVariant = o.wasmVariant ?? "auto";
  if (!["auto", "simd", "relaxed"].includes(wasmVariant)) throw new RangeError(`options.wasmVariant must be 'auto', 'simd' or 'relaxed', got ${String(o.wasmVariant)}`);
  const convAlgorithm = o.convAlgorithm ?? "auto";
  if (!CONV_ALGORITHMS.includes(convAlgorithm)) throw new RangeError(`options.convAlgorithm must be 'auto', 'direct' or 'winograd', got ${String(o.convAlgorithm)}`);
  const backend = o.backend ?? "wasm";
  if (!["auto", "wasm", "webgl"].includes(backend)) throw new RangeError(`options.backend must be 'auto', 'wasm' or 'webgl', got ${String(o.backend)}`);
  if (o.onWarning !== undefined && typeof o.onWarning !== "function") throw new TypeError(`options.onWarning must be a function, got ${typeof o.onWarning}`);
  if (o.scale !== undefined && (!Number.isInteger(o.scale) || o.scale < 1 || o.scale > 8)) throw new RangeError(`options.scale must be an integer in [1, 8], got ${String(o.scale)}`);
  return { model: o.model, scale: o.scale, threads, tileSize, memoryLimit, wasmVariant, convAlgorithm, backend, onWarning: o.onWarning };
}
