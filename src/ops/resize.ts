// SPDX-License-Identifier: MIT
// Resize: nearest, bilinear, bicubic (Keys, a = −0.5) or box resampling with MATLAB `imresize`
// semantics: half-pixel centres, symmetric (mirror) edge extension, the kernel widened by 1/s when
// shrinking (antialias; not for nearest, as in MATLAB), weights normalised to 1, height resized first.
// attrs: { method, scale } to enlarge by an integer factor, or { method, factor } to shrink by one
// (output ⌈n / factor⌉, as imresize(img, 1/factor)). Runs on any channel count.
import { ModelFormatError } from "../errors.js";
import { ResizeMethodCode } from "../backends/wasm/abi.js";
import type { GraphNode, Shape } from "../model/types.js";
import type { OpDef } from "./op.js";

/** `box` is MATLAB's 'box' kernel: nearest when enlarging, the exact block mean when shrinking by an integer. */
export type ResizeMethod = "nearest" | "bilinear" | "bicubic" | "box";
const METHODS: ResizeMethod[] = ["nearest", "bilinear", "bicubic", "box"];

const support = (m: ResizeMethod) => (m === "bicubic" ? 2 : m === "bilinear" ? 1 : 0.5);

interface ResizeAttrs { method: ResizeMethod; scale?: number; factor?: number }
const attrsOf = (node: GraphNode) => node.attrs as unknown as ResizeAttrs;
/** The ratio as up/down: (scale, 1) or (1, factor). */
const ratio = (node: GraphNode): [number, number] => {
  const { scale, factor } = attrsOf(node);
  return scale !== undefined ? [scale, 1] : [1, factor!];
};

// ---- Tap tables (shared by the reference; the AS kernel computes the same from the same integers) ----

const antialiased = (m: ResizeMethod, up: number, down: number) => down > up && m !== "nearest";
const width2 = (m: ResizeMethod) => support(m) * 2;

/** Keys cubic (a = −0.5), triangle and half-open box, as MATLAB's imresize defines them. */
export function kernelAt(m: ResizeMethod, t: number): number {
  const x = Math.abs(t);
  if (m === "bicubic") return x <= 1 ? 1.5 * x ** 3 - 2.5 * x * x + 1 : x <= 2 ? -0.5 * x ** 3 + 2.5 * x * x - 4 * x + 2 : 0;
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

/** Bytes of scratch resize_f32 needs: one slot per output row of [phase table | input-row buffer]. */
export function resizeScratchBytes(m: ResizeMethod, up: number, down: number, inW: number, c: number, outH: number): number {
  const table = (up * (1 + tapCount(m, up, down)) + 3) & ~3;
  const row = (inW * c + 3) & ~3;
  return outH * (table + row) * 4;
}

export const Resize: OpDef = {
  name: "Resize",
  bandable: true,
  inferShape(node, [x]): Shape {
    const { method, scale, factor } = attrsOf(node);
    if (!METHODS.includes(method)) throw new ModelFormatError(`method must be one of ${METHODS.join(", ")}, got '${method}'`);
    if ((scale === undefined) === (factor === undefined)) throw new ModelFormatError("give exactly one of attrs.scale (enlarge) or attrs.factor (shrink)");
    const s = scale ?? factor!;
    if (!Number.isInteger(s) || s < 1 || s > 16) throw new ModelFormatError(`scale/factor must be an integer in [1, 16], got ${s}`);
    return scale ? { h: x.h * scale, w: x.w * scale, c: x.c } : { h: Math.ceil(x.h / factor!), w: Math.ceil(x.w / factor!), c: x.c };
  },
  halo: (node) => Math.ceil(support(attrsOf(node).method) * (attrsOf(node).factor ?? 1)) + 1,
  scale: (node) => attrsOf(node).scale ?? 1 / attrsOf(node).factor!,
  scratchBytes(node, [x], out) {
    const [up, down] = ratio(node);
    return resizeScratchBytes(attrsOf(node).method, up, down, x.w, x.c, out.h);
  },
  wasm(k, { node, inputs: [x], output, scratchPtr, y0, y1 }) {
    const [up, down] = ratio(node);
    const { h, w, c } = x.shape;
    k.resize_f32(x.ptr, h, w, c, output.ptr, output.shape.h, output.shape.w,
      ResizeMethodCode[attrsOf(node).method], up, down, scratchPtr, y0, y1);
  },
  // Float64 throughout, weights from resizePhases, height pass then width pass per output row.
  reference({ node, inputs: [x], output, y0, y1 }) {
    const [up, down] = ratio(node);
    const ph = resizePhases(attrsOf(node).method, up, down);
    const { h, w, c } = x.shape;
    const ow = output.shape.w;
    const row = new Float64Array(w * c);
    for (let y = y0; y < y1; y++) {
      const { first, weights } = ph[y % up];
      const f = first + Math.floor(y / up) * down;
      row.fill(0);
      weights.forEach((wt, j) => {
        const src = mirrorIndex(f + j, h) * w * c;
        for (let i = 0; i < w * c; i++) row[i] += wt * x.data[src + i];
      });
      for (let o = 0; o < ow; o++) {
        const p = ph[o % up];
        const fo = p.first + Math.floor(o / up) * down;
        for (let ch = 0; ch < c; ch++) {
          let s = 0;
          p.weights.forEach((wt, j) => { s += wt * row[mirrorIndex(fo + j, w) * c + ch]; });
          output.data[(y * ow + o) * c + ch] = s;
        }
      }
    }
  },
};
