// SPDX-License-Identifier: MIT
// The training losses (L1, Charbonnier and L2) and their gradients: the wasm kernels
// (assembly/kernels/backward/loss.ts) run in training; the float64 reference here is their oracle.
import type { Kernels } from "../backends/wasm/abi.js";

/** The training losses, in one list: the options check and the CLI's --loss choices read it. */
export const LOSSES = ["l1", "charbonnier", "l2"] as const;
export type LossKind = (typeof LOSSES)[number];

/** Charbonnier's ε default: smooth below ~1/1000 of the 0..1 range, L1 above. */
export const DEFAULT_CHARBONNIER_EPS = 1e-3;

/** Summed loss of n elements, and grad = scale·∂ℓ/∂y written at gradPtr. */
export function lossWasm(k: Kernels, kind: LossKind, yPtr: number, tPtr: number, gradPtr: number, n: number, scale: number, eps = DEFAULT_CHARBONNIER_EPS): number {
  if (kind === "l1") return k.l1_loss_f32(yPtr, tPtr, gradPtr, n, scale);
  if (kind === "l2") return k.l2_loss_f32(yPtr, tPtr, gradPtr, n, scale);
  return k.charbonnier_loss_f32(yPtr, tPtr, gradPtr, n, scale, eps);
}

/** Float64 reference: { loss: Σℓ, grad: scale·∂ℓ/∂y }. */
export function lossRef(kind: LossKind, y: ArrayLike<number>, t: ArrayLike<number>, scale: number, eps = DEFAULT_CHARBONNIER_EPS): { loss: number; grad: Float64Array } {
  const grad = new Float64Array(y.length);
  let loss = 0;
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
