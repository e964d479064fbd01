// SPDX-License-Identifier: MIT
// The training losses (L1, Charbonnier, L2 and L1 on luma) and their gradients: the wasm kernels
// (assembly/kernels/backward/loss.ts) run in training; the float64 reference here is their oracle.
import type { Kernels } from "../backends/wasm/abi.js";

/** The training losses, in one list: the options check and the CLI's --loss choices read it. */
export const LOSSES = ["l1", "charbonnier", "l2", "l1-luma"] as const;
export type LossKind = (typeof LOSSES)[number];

/** Charbonnier's ε default: smooth below ~1/1000 of the 0..1 range, L1 above. */
export const DEFAULT_CHARBONNIER_EPS = 1e-3;

/**
 * `l1-luma`: L1 on BT.601 luma (what PSNR-Y scores) plus this weight × L1 on R, G, B (which keeps colour
 * right: luma alone leaves chroma free). A luma error counts 1.5×, a pure chroma error 0.5×.
 */
export const LUMA_RGB_WEIGHT = 0.5;
const LUMA = [0.299, 0.587, 0.114];

/** Summed loss of n elements, and grad = scale·∂ℓ/∂y written at gradPtr. */
export function lossWasm(k: Kernels, kind: LossKind, yPtr: number, tPtr: number, gradPtr: number, n: number, scale: number, eps = DEFAULT_CHARBONNIER_EPS): number {
  if (kind === "l1") return k.l1_loss_f32(yPtr, tPtr, gradPtr, n, scale);
  if (kind === "l2") return k.l2_loss_f32(yPtr, tPtr, gradPtr, n, scale);
  if (kind === "l1-luma") return k.l1_luma_loss_f32(yPtr, tPtr, gradPtr, rgbCount(n), scale, LUMA_RGB_WEIGHT);
  return k.charbonnier_loss_f32(yPtr, tPtr, gradPtr, n, scale, eps);
}

/** Float64 reference: { loss: Σℓ, grad: scale·∂ℓ/∂y }. */
export function lossRef(kind: LossKind, y: ArrayLike<number>, t: ArrayLike<number>, scale: number, eps = DEFAULT_CHARBONNIER_EPS): { loss: number; grad: Float64Array } {
  const grad = new Float64Array(y.length);
  let loss = 0;
  if (kind === "l1-luma") {
    const w3 = LUMA_RGB_WEIGHT / 3, sign = (d: number) => (d > 0 ? 1 : d < 0 ? -1 : 0);
    for (let i = 0, n = rgbCount(y.length); i < n; i += 3) {
      const d = [0, 1, 2].map((c) => y[i + c] - t[i + c]);
      const dy = LUMA[0] * d[0] + LUMA[1] * d[1] + LUMA[2] * d[2];
      loss += Math.abs(dy) + w3 * (Math.abs(d[0]) + Math.abs(d[1]) + Math.abs(d[2]));
      for (let c = 0; c < 3; c++) grad[i + c] = scale * (sign(dy) * LUMA[c] + w3 * sign(d[c]));
    }
    return { loss, grad };
  }
  for (let i = 0; i < y.length; i++) {
    const d = y[i] - t[i];
    if (kind === "l1") {
      loss += Math.abs(d);
      grad[i] = d > 0 ? scale : d < 0 ? -scale : 0;
    } else if (kind === "l2") {
      loss += d * d;
      grad[i] = 2 * scale * d;
    } else {
      const l = Math.sqrt(d * d + eps * eps);
      loss += l;
      grad[i] = (scale * d) / l;
    }
  }
  return { loss, grad };
}

function rgbCount(n: number): number {
  if (n % 3 !== 0) throw new RangeError(`the l1-luma loss needs RGB outputs (3 values per pixel), got ${n} values`);
  return n;
}
