// SPDX-License-Identifier: MIT
// Adam with bias correction (optionally AdamW's decoupled weight decay) and the learning-rate
// schedule: linear warm-up, then cosine decay to a floor. The step runs as one wasm kernel over the
// flat parameter vector in the shared memory; adamRef is its bit-exact TypeScript twin (every
// operation rounded to f32, in the kernel's order).
import type { Kernels } from "../backends/wasm/abi.js";

export interface AdamOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
}

export const ADAM_DEFAULTS: Required<AdamOptions> = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 };

/** Bias corrections of step t (1-based): 1 − β1ᵗ and 1 − β2ᵗ, rounded to f32 as the kernel takes them. */
export function biasCorrections(t: number, o: AdamOptions = {}): [number, number] {
  const { beta1, beta2 } = { ...ADAM_DEFAULTS, ...o };
  return [Math.fround(1 - Math.pow(beta1, t)), Math.fround(1 - Math.pow(beta2, t))];
}

/** One Adam step (t ≥ 1) with the wasm kernel on n floats at the given pointers. */
export function adamStep(k: Kernels, ptrs: { p: number; g: number; m: number; v: number }, n: number, t: number, lr: number, o: AdamOptions = {}): void {
  const { beta1, beta2, eps, weightDecay } = { ...ADAM_DEFAULTS, ...o };
  const [bc1, bc2] = biasCorrections(t, o);
  k.adam_f32(ptrs.p, ptrs.g, ptrs.m, ptrs.v, n, lr, beta1, beta2, eps, bc1, bc2, weightDecay);
}

/** The same step in TypeScript, bit-identical to adam_f32 (each f32 operation is one Math.fround). */
export function adamRef(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, t: number, lr: number, o: AdamOptions = {}): void {
  const f = Math.fround;
  const { beta1, beta2, eps, weightDecay } = { ...ADAM_DEFAULTS, ...o };
  const b1 = f(beta1), b2 = f(beta2), c1 = f(1 - b1), c2 = f(1 - b2), lr32 = f(lr), e = f(eps);
  const decay = f(lr32 * f(weightDecay));
  const [bc1, bc2] = biasCorrections(t, o);
  for (let i = 0; i < p.length; i++) {
    const gi = g[i];
    const mi = f(f(b1 * m[i]) + f(c1 * gi));
    const vi = f(f(b2 * v[i]) + f(c2 * f(gi * gi)));
    m[i] = mi;
    v[i] = vi;
    let pi = p[i];
    if (weightDecay !== 0) pi = f(pi - f(decay * pi));
    p[i] = f(pi - f(f(lr32 * f(mi / bc1)) / f(f(Math.sqrt(f(vi / bc2))) + e)));
  }
}

export interface Schedule {
  /** Peak learning rate. */
  lr: number;
  /** Steps of linear warm-up from lr/warmup to lr. */
  warmupSteps: number;
  /** Total steps (the cosine reaches minLr at the last). */
  steps: number;
  /** Floor of the cosine. */
  minLr: number;
}

/** Learning rate of step t (1-based): t/warmup·lr during warm-up, then cosine from lr down to minLr. */
export function learningRate(t: number, s: Schedule): number {
  if (t <= s.warmupSteps) return (s.lr * t) / Math.max(1, s.warmupSteps);
  const span = Math.max(1, s.steps - s.warmupSteps);
  const progress = Math.min(1, (t - s.warmupSteps) / span);
  return s.minLr + 0.5 * (s.lr - s.minLr) * (1 + Math.cos(Math.PI * progress));
}
