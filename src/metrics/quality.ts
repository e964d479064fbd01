// SPDX-License-Identifier: MIT
// Image quality metrics as super-resolution papers report them: PSNR and SSIM on RGB or on BT.601 luma,
// with a border shave. Pure TypeScript in float64 (metrics are run once per image, and must not depend
// on the kernels they judge). Alpha is ignored.
import { invalidInput } from "../errors.js";
import type { RgbaImage } from "../image/rgba.js";

export interface QualityOptions {
  /** Compare BT.601 luma Y = 16 + (65.481·R + 128.553·G + 24.966·B)/255 (0–255 values, not rounded) instead of R, G, B. */
  y?: boolean;
  /** Pixels dropped on every border before comparing (SR papers shave the scale factor). Default 0. */
  shave?: number;
}

/** The planes compared: [Y] or [R, G, B], float64, shaved. */
function planes(img: RgbaImage, y: boolean, shave: number): { data: Float64Array[]; w: number; h: number } {
  const w = img.width - 2 * shave, h = img.height - 2 * shave;
  const out = Array.from({ length: y ? 1 : 3 }, () => new Float64Array(w * h));
  const d = img.data;
  for (let row = 0; row < h; row++) {
    for (let x = 0; x < w; x++) {
      const s = ((row + shave) * img.width + x + shave) * 4, i = row * w + x;
      if (y) out[0][i] = 16 + (65.481 * d[s] + 128.553 * d[s + 1] + 24.966 * d[s + 2]) / 255;
      else { out[0][i] = d[s]; out[1][i] = d[s + 1]; out[2][i] = d[s + 2]; }
    }
  }
  return { data: out, w, h };
}

function prepare(ref: RgbaImage, test: RgbaImage, opts: QualityOptions, minSide: number) {
  for (const [name, img] of [["ref", ref], ["test", test]] as const) {
    if (!img || !(img.data instanceof Uint8Array || img.data instanceof Uint8ClampedArray)) {
      throw new TypeError(`${name}.data must be a Uint8Array or Uint8ClampedArray of RGBA bytes`);
    }
    if (img.data.length !== img.width * img.height * 4) {
      throw invalidInput(`${name}.data has ${img.data.length} bytes; a ${img.width}×${img.height} RGBA image has ${img.width * img.height * 4}`);
    }
  }
  if (ref.width !== test.width || ref.height !== test.height) {
    throw invalidInput(`ref is ${ref.width}×${ref.height} but test is ${test.width}×${test.height}; the images must have the same size`);
  }
  const shave = opts.shave ?? 0;
  if (!Number.isInteger(shave) || shave < 0) throw new RangeError(`opts.shave must be a non-negative integer, got ${shave}`);
  const w = ref.width - 2 * shave, h = ref.height - 2 * shave;
  if (w < minSide || h < minSide) {
    throw invalidInput(`a ${ref.width}×${ref.height} image shaved by ${shave} leaves ${Math.max(w, 0)}×${Math.max(h, 0)}; this metric needs at least ${minSide}×${minSide}`);
  }
  const y = opts.y ?? false;
  return { a: planes(ref, y, shave), b: planes(test, y, shave) };
}

/** Peak signal-to-noise ratio in dB for 8-bit data: 10·log10(255² / MSE), Infinity when identical. */
export function psnr(ref: RgbaImage, test: RgbaImage, opts: QualityOptions = {}): number {
  const { a, b } = prepare(ref, test, opts, 1);
  let sum = 0, n = 0;
  a.data.forEach((pa, k) => {
    const pb = b.data[k];
    for (let i = 0; i < pa.length; i++) { const d = pa[i] - pb[i]; sum += d * d; }
    n += pa.length;
  });
  const mse = sum / n;
  return mse === 0 ? Infinity : 10 * Math.log10((255 * 255) / mse);
}

// Wang et al. (2004): 11×11 Gaussian window, σ = 1.5, normalised to sum 1. It is the outer product of
// the normalised 1-D window, so the 'valid' filtering runs as a row pass then a column pass.
const RADIUS = 5;
const WINDOW = (() => {
  const g = Array.from({ length: 2 * RADIUS + 1 }, (_, i) => Math.exp(-((i - RADIUS) ** 2) / (2 * 1.5 * 1.5)));
  const s = g.reduce((p, q) => p + q, 0);
  return g.map((v) => v / s);
})();
const C1 = (0.01 * 255) ** 2;
const C2 = (0.03 * 255) ** 2;

/** 'valid' 2-D filtering with WINDOW: (h − 10) × (w − 10). */
function filterValid(src: Float64Array, w: number, h: number): Float64Array {
  const k = WINDOW.length, ow = w - k + 1, oh = h - k + 1;
  const rows = new Float64Array(h * ow);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < ow; x++) {
      let s = 0;
      for (let j = 0; j < k; j++) s += WINDOW[j] * src[y * w + x + j];
      rows[y * ow + x] = s;
    }
  }
  const out = new Float64Array(oh * ow);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      let s = 0;
      for (let j = 0; j < k; j++) s += WINDOW[j] * rows[(y + j) * ow + x];
      out[y * ow + x] = s;
    }
  }
  return out;
}

/** Mean of the SSIM map of two planes (0–255 scale). */
function ssimPlane(a: Float64Array, b: Float64Array, w: number, h: number): number {
  const sq = (p: Float64Array, q: Float64Array) => p.map((v, i) => v * q[i]);
  const muA = filterValid(a, w, h), muB = filterValid(b, w, h);
  const aa = filterValid(sq(a, a), w, h), bb = filterValid(sq(b, b), w, h), ab = filterValid(sq(a, b), w, h);
  let sum = 0;
  for (let i = 0; i < muA.length; i++) {
    const ma = muA[i], mb = muB[i];
    const va = aa[i] - ma * ma, vb = bb[i] - mb * mb, cov = ab[i] - ma * mb;
    sum += ((2 * ma * mb + C1) * (2 * cov + C2)) / ((ma * ma + mb * mb + C1) * (va + vb + C2));
  }
  return sum / muA.length;
}

/**
 * Structural similarity (Wang, Bovik, Sheikh & Simoncelli 2004): 11×11 Gaussian window σ = 1.5,
 * K1 = 0.01, K2 = 0.03, L = 255, 'valid' filtering, the mean of the SSIM map; on RGB the mean of the
 * three channels' values. Needs at least 11×11 pixels after the shave.
 */
export function ssim(ref: RgbaImage, test: RgbaImage, opts: QualityOptions = {}): number {
  const { a, b } = prepare(ref, test, opts, WINDOW.length);
  const per = a.data.map((pa, k) => ssimPlane(pa, b.data[k], a.w, a.h));
  return per.reduce((p, q) => p + q, 0) / per.length;
}
