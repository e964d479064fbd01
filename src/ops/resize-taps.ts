// SPDX-License-Identifier: MIT
// The Resize op's tap tables: which input pixels each output sample reads and with what weights, in
// MATLAB `imresize` semantics (see ./resize.ts). Shared by the reference op, the WebGL program and the
// tests; the AssemblyScript kernel computes the same taps from the same integers.
/**
 * `box` is MATLAB's 'box' kernel: nearest when enlarging, the exact block mean when shrinking by an
 * integer. `cubic` is OpenCV's, ncnn's and ONNX's bicubic: Keys a = −0.75, never antialiased, edges
 * clamped; the others follow MATLAB (a = −0.5 for bicubic, mirrored edges, antialiased shrinking).
 */
export type ResizeMethod = "nearest" | "bilinear" | "bicubic" | "box" | "cubic";
export const RESIZE_METHODS: readonly ResizeMethod[] = ["nearest", "bilinear", "bicubic", "box", "cubic"];

/** Half-width of the kernel in input pixels (before antialias widening). */
export const support = (m: ResizeMethod) => (m === "bicubic" || m === "cubic" ? 2 : m === "bilinear" ? 1 : 0.5);

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** A Resize node's attrs.scale / attrs.factor as coprime up/down (the phases repeat every `up` outputs). */
export function resizeRatio(attrs: { scale?: unknown; factor?: unknown }): [up: number, down: number] {
  const scale = (attrs.scale ?? 1) as number, factor = (attrs.factor ?? 1) as number;
  const g = gcd(scale, factor);
  return [scale / g, factor / g];
}

const antialiased = (m: ResizeMethod, up: number, down: number) => down > up && m !== "nearest" && m !== "cubic";
const width2 = (m: ResizeMethod) => support(m) * 2;

/** Keys cubic (a = −0.5 for bicubic, −0.75 for cubic), triangle and half-open box. */
export function kernelAt(m: ResizeMethod, t: number): number {
  const x = Math.abs(t);
  if (m === "bicubic" || m === "cubic") {
    const a = m === "bicubic" ? -0.5 : -0.75;
    return x <= 1 ? (a + 2) * x ** 3 - (a + 3) * x * x + 1 : x <= 2 ? a * x ** 3 - 5 * a * x * x + 8 * a * x - 4 * a : 0;
  }
  if (m === "bilinear") return x <= 1 ? 1 - x : 0;
  return t >= -0.5 && t < 0.5 ? 1 : 0;
}

/** Taps per output sample: ⌈kernel width⌉ input pixels (width·down/up when antialiased). */
export function tapCount(m: ResizeMethod, up: number, down: number): number {
  return Math.ceil((width2(m) * (antialiased(m, up, down) ? down : up)) / up);
}

export interface Phase {
  /** Input index of the first tap for output o = q·up + r is first + q·down. */
  first: number;
  /** Normalised weights (float64). */
  weights: number[];
}

/**
 * One phase per r in [0, up): output r samples u = (r + 0.5)·down/up − 0.5; its taps are the input
 * indices in (u − kw/2, u + kw/2]. Everything but the final division is integer, so floor() never
 * meets a rounding error and the kernel agrees on every tap.
 */
export function resizePhases(m: ResizeMethod, up: number, down: number): Phase[] {
  const aa = antialiased(m, up, down);
  const kw2Up = width2(m) * (aa ? down : up);
  const den = 2 * (aa ? down : up);
  const taps = tapCount(m, up, down);
  const phases: Phase[] = [];
  for (let r = 0; r < up; r++) {
    const centre2Up = (2 * r + 1) * down - up;
    const first = Math.floor((centre2Up - kw2Up) / (2 * up)) + 1;
    const raw = Array.from({ length: taps }, (_, j) => kernelAt(m, (centre2Up - 2 * up * (first + j)) / den));
    const sum = raw.reduce((a, b) => a + b, 0);
    phases.push({ first, weights: raw.map((w) => w / sum) });
  }
  return phases;
}

/** MATLAB's symmetric extension: index i folded into [0, n) as …, 1, 0 | 0, 1, …, n−1 | n−1, … */
export function mirrorIndex(i: number, n: number): number {
  const p = 2 * n;
  const m = ((i % p) + p) % p;
  return m < n ? m : p - 1 - m;
}

/** Where tap i of an n-pixel line reads: mirrored, or clamped for `cubic`. */
export const edgeIndex = (m: ResizeMethod, i: number, n: number): number => (m === "cubic" ? Math.min(Math.max(i, 0), n - 1) : mirrorIndex(i, n));

/** Bytes of scratch resize_f32 needs: one slot per output row of [phase table | input-row buffer]. */
export function resizeScratchBytes(m: ResizeMethod, up: number, down: number, inW: number, c: number, outH: number): number {
  const table = (up * (1 + tapCount(m, up, down)) + 3) & ~3;
  const row = (inW * c + 3) & ~3;
  return outH * (table + row) * 4;
}

