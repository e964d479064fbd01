// SPDX-License-Identifier: MIT
// The WebGL runner's options, checked by name (a bad one is a TypeError/RangeError naming it).
import type { ContextOptions } from "./context.js";

export interface WebglRunnerOptions extends ContextOptions {
  /** Longest side of a tile's core, input pixels; lowered to fit MAX_TEXTURE_SIZE and memoryLimit. Default 256. */
  tileSize?: number;
  /** Budget for activation textures (weights not included), bytes. Default 512 MiB. */
  memoryLimit?: number;
  /** @internal Force the conv weight layout ('block': uniform buffers, 'texture'); tests cover both. */
  convWeights?: "auto" | "block" | "texture";
  /** Run a tiny convolution at creation and compare with the CPU, to reject GPUs that compute wrongly. Default true. */
  selfTest?: boolean;
}

const MIB = 1 << 20;

export interface ResolvedWebglOptions extends WebglRunnerOptions {
  tileSize: number;
  memoryLimit: number;
  selfTest: boolean;
}

export function resolveWebglOptions(o: WebglRunnerOptions): ResolvedWebglOptions {
  if (o === null || typeof o !== "object") throw new TypeError("options must be an object");
  const tileSize = o.tileSize ?? 256;
  if (!Number.isInteger(tileSize) || tileSize < 8 || tileSize > 8192) throw new RangeError(`options.tileSize must be an integer in [8, 8192], got ${String(o.tileSize)}`);
  const memoryLimit = o.memoryLimit ?? 512 * MIB;
  if (!Number.isFinite(memoryLimit) || memoryLimit < 16 * MIB) throw new RangeError(`options.memoryLimit must be a byte count of at least 16 MiB, got ${String(o.memoryLimit)}`);
  const precision = o.precision ?? "float32";
  if (precision !== "float32" && precision !== "float16") throw new RangeError(`options.precision must be 'float32' or 'float16', got ${String(o.precision)}`);
  return { ...o, tileSize, memoryLimit, precision, selfTest: o.selfTest ?? true };
}
