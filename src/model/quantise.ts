// SPDX-License-Identifier: MIT
// Weight quantisation for smaller network files: f16 storage (half the bytes, round to nearest even)
// or trunc12, srgan-rust's scheme of zeroing the 12 low mantissa bits of each f32. trunc12 keeps the
// f32 layout, so the file is the same size raw but compresses much better (gzip/brotli on the wire).
import { encodeNetwork } from "./formats/srnet.js";
import { f16ToF32, f32ToF16 } from "./float16.js";
import type { Graph } from "./types.js";

export const QUANTISE_MODES = ["f16", "trunc12"] as const;
export type QuantiseMode = (typeof QUANTISE_MODES)[number];

/**
 * Copies `values` with the `bits` least significant mantissa bits zeroed (truncation toward zero,
 * as srgan-rust's quantise). 12 bits leaves 11 of 23: about 3.5 significant decimal digits.
 */
export function truncateMantissa(values: Float32Array, bits = 12): Float32Array {
  if (!Number.isInteger(bits) || bits < 0 || bits > 23) throw new RangeError(`bits must be an integer in [0, 23], got ${bits}`);
  const out = new Float32Array(values);
  const u = new Uint32Array(out.buffer);
  const mask = ~((1 << bits) - 1) >>> 0;
  for (let i = 0; i < u.length; i++) u[i] = (u[i] & mask) >>> 0;
  return out;
}

/** The values an f16 file would give back: f32 → f16 (nearest even) → f32. */
export function roundToF16(values: Float32Array): Float32Array {
  return f16ToF32(f32ToF16(values));
}

/** The graph with every weight as quantisation leaves it (the graph itself is not modified). */
export function quantiseGraph<G extends Graph>(g: G, mode: QuantiseMode): G {
  if (!QUANTISE_MODES.includes(mode)) throw new RangeError(`mode must be one of ${QUANTISE_MODES.join(", ")}, got '${String(mode)}'`);
  const q = mode === "f16" ? roundToF16 : (v: Float32Array) => truncateMantissa(v, 12);
  const weights = Object.fromEntries(Object.entries(g.weights).map(([name, w]) => [name, { shape: [...w.shape], data: q(w.data) }]));
  return { ...g, weights };
}

/**
 * .srnet bytes for the quantised network: f16 tensors for "f16", f32 tensors of truncated values for
 * "trunc12". Decoding them gives exactly quantiseGraph(g, mode)'s weights.
 * @example
 * const small = encodeQuantised(await loadNetwork("net.srnet"), "f16");
 */
export function encodeQuantised(g: Graph, mode: QuantiseMode): Uint8Array {
  return mode === "f16" ? encodeNetwork(g, { dtype: "f16" }) : encodeNetwork(quantiseGraph(g, mode), { dtype: "f32" });
}
