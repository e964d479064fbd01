// SPDX-License-Identifier: MIT
// The per-patch degradations (`real`, `real-light`): LR patches as phone and web photos arrive, so a
// network learns to remove compression and noise instead of sharpening them. One pass of
// Real-ESRGAN's classic chain (blur → downscale → noise → JPEG), milder than its GAN settings because
// we train for fidelity (L1) and are judged on JPEG q75 and on clean input alike; a share of patches
// stays clean for that reason.
// Every random choice is drawn from the trainer's Rng in a fixed order (checkpoints resume exactly).
import type { Downscaler } from "../api/downscale.js";
import { jpegRoundTrip } from "../image/jpeg-roundtrip.js";
import type { Rng } from "./rng.js";
import type { Rgb8Image, RgbaImage } from "../image/rgba.js";

/** One degradation mix: the chain's probabilities and ranges (docs/training.md explains the choice). */
export interface DegradationMix {
  clean: number;                       // patches with no blur, noise or JPEG (bicubic LR only)
  blur: number;                        // Gaussian blur of the HR before downscaling
  blurSigma: readonly [number, number]; // σ per unit of scale, in HR pixels
  box: number;                         // box instead of bicubic downscaling (other cameras' resamplers)
  noise: number;                       // additive noise, σ in levels of 255
  noiseSigma: readonly [number, number];
  grayNoise: number;                   // of noisy patches: the same noise on R, G and B (luma noise)
  shotNoise: number;                   // of noisy patches: σ grows with √level (shot noise), else constant
  jpeg: number;                        // of the non-clean patches: a JPEG round trip, one quality per batch
  jpegQuality: readonly [number, number];
  // Web and camera pipelines (the `web` mix; absent = never, and no random draw, so older mixes and their
  // checkpoints draw exactly as before):
  sharpen?: number;                    // unsharp mask on the LR before JPEG (camera and phone sharpening halos)
  sharpenAmount?: readonly [number, number];
  chroma420?: number;                  // of JPEG'd batches: chroma averaged over 2×2 first, as 4:2:0 encoders store it
  doubleJpeg?: number;                 // of JPEG'd batches: saved again at a second quality (re-uploads, edits)
  jpegQuality2?: readonly [number, number];
}

/**
 * The per-patch mixes, by `--degradation` name. `real`: the first mix (noise and blur as often as
 * phone photos in poor light have them). `real-light`: the same chain leaning on JPEG — the damage
 * web and phone photos nearly always have — with blur and noise rarer and milder. `web`: real-light's
 * chain with what cameras and web pipelines add: sharpening halos, 4:2:0 chroma, a second JPEG save.
 */
export const MIXES = {
  real: {
    clean: 0.2, blur: 0.3, blurSigma: [0.1, 0.35], box: 0.15, noise: 0.4, noiseSigma: [1, 10],
    grayNoise: 0.4, shotNoise: 0.3, jpeg: 0.8, jpegQuality: [30, 95],
  },
  "real-light": {
    clean: 0.1, blur: 0.15, blurSigma: [0.1, 0.3], box: 0.1, noise: 0.2, noiseSigma: [1, 5],
    grayNoise: 0.4, shotNoise: 0.3, jpeg: 0.95, jpegQuality: [35, 95],
  },
  web: {
    clean: 0.1, blur: 0.1, blurSigma: [0.1, 0.3], box: 0.1, noise: 0.1, noiseSigma: [1, 4],
    grayNoise: 0.4, shotNoise: 0.3, jpeg: 0.95, jpegQuality: [40, 95],
    sharpen: 0.25, sharpenAmount: [0.2, 0.8], chroma420: 0.5, doubleJpeg: 0.25, jpegQuality2: [60, 95],
  },
} as const satisfies Record<string, DegradationMix>;

export type MixName = keyof typeof MIXES;

/** LR pixels kept around a patch while degrading, cropped away after (blur and JPEG see true neighbours). */
export const DEGRADE_MARGIN = 8;

const uniform = (rng: Rng, [lo, hi]: readonly [number, number]) => lo + (hi - lo) * rng.next();

/** Standard normal (Box–Muller; two uniforms per value keeps the draw order simple). */
function normal(rng: Rng): number {
  return Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
}

/** Separable Gaussian blur of an n×n RGBA8 square, edges clamped (alpha untouched). */
function blurSquare(px: Uint8ClampedArray, n: number, sigma: number): void {
  const r = Math.max(1, Math.ceil(3 * sigma));
  const k = Float64Array.from({ length: 2 * r + 1 }, (_, i) => Math.exp(-((i - r) ** 2) / (2 * sigma * sigma)));
  const total = k.reduce((a, b) => a + b, 0);
  const tmp = new Float32Array(n * n * 4);
  const clamp = (i: number) => (i < 0 ? 0 : i >= n ? n - 1 : i);
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let j = -r; j <= r; j++) s += k[j + r] * px[(y * n + clamp(x + j)) * 4 + c];
        tmp[(y * n + x) * 4 + c] = s / total;
      }
    }
  }
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let j = -r; j <= r; j++) s += k[j + r] * tmp[(clamp(y + j) * n + x) * 4 + c];
        px[(y * n + x) * 4 + c] = s / total; // a clamped array rounds to nearest
      }
    }
  }
}

/** Unsharp mask (σ = 1 LR pixel): px + amount·(px − blurred), rounded and clamped. */
function sharpenSquare(px: Uint8ClampedArray, n: number, amount: number): void {
  const blurred = px.slice();
  blurSquare(blurred, n, 1);
  for (let i = 0; i < px.length; i++) if ((i & 3) !== 3) px[i] = px[i] + amount * (px[i] - blurred[i]);
}

/**
 * 4:2:0 chroma in a 4:4:4 encoder: JFIF's Cb and Cr averaged over each 2×2 block, Y kept, written back
 * as RGB (what a decoder that replicates chroma gives, before the JPEG's own loss). Even width and height.
 */
export function subsampleChroma(px: Uint8ClampedArray, width: number, height: number): void {
  for (let y = 0; y < height; y += 2) {
    for (let x = 0; x < width; x += 2) {
      const at = [((y * width) + x) * 4, ((y * width) + x + 1) * 4, (((y + 1) * width) + x) * 4, (((y + 1) * width) + x + 1) * 4];
      let cb = 0, cr = 0;
      for (const i of at) {
        cb += -0.168736 * px[i] - 0.331264 * px[i + 1] + 0.5 * px[i + 2];
        cr += 0.5 * px[i] - 0.418688 * px[i + 1] - 0.081312 * px[i + 2];
      }
      cb /= 4; cr /= 4;
      for (const i of at) {
        const luma = 0.299 * px[i] + 0.587 * px[i + 1] + 0.114 * px[i + 2];
        px[i] = luma + 1.402 * cr; px[i + 1] = luma - 0.344136 * cb - 0.714136 * cr; px[i + 2] = luma + 1.772 * cb;
      }
    }
  }
}

/** Where a square of `hr` starts: HR pixel (x, y), side n·scale. */
export interface Square { hr: Rgb8Image; x: number; y: number }

/**
 * Degrades squares of HR (side n·scale each) into LR squares of side n (RGBA8, opaque). Blur, resampler and
 * noise are drawn per square; the JPEG quality once per call, because our JPEG encoder (jpeg-js) costs
 * ~60 ms of set-up per image: the JPEG'd squares go through it as one mosaic, on a 16-pixel grid so no
 * 8×8 block (or macroblock, were chroma subsampled) straddles two squares.
 */
export async function degradeSquares(rng: Rng, squares: Square[], n: number, scale: number, mix: DegradationMix, downscaler: Downscaler): Promise<RgbaImage[]> {
  const side = n * scale;
  const lrs: Uint8ClampedArray[] = [], jpegged: number[] = [];
  for (const { hr, x, y } of squares) {
    const px = new Uint8ClampedArray(side * side * 4).fill(255);
    for (let r = 0; r < side; r++) {
      for (let i = 0, s = ((y + r) * hr.width + x) * 3, d = r * side * 4; i < side; i++, s += 3, d += 4) {
        px[d] = hr.data[s]; px[d + 1] = hr.data[s + 1]; px[d + 2] = hr.data[s + 2];
      }
    }
    const clean = rng.next() < mix.clean;
    if (!clean && rng.next() < mix.blur) blurSquare(px, side, uniform(rng, mix.blurSigma) * scale);
    const method = !clean && rng.next() < mix.box ? "box" : "bicubic";
    // downscale() returns a fresh clamped array: the noise below may write into it (and is clamped).
    const lr = (await downscaler.downscale({ data: px, width: side, height: side }, scale, method)).data as Uint8ClampedArray;
    if (!clean && rng.next() < mix.noise) {
      const sigma = uniform(rng, mix.noiseSigma), gray = rng.next() < mix.grayNoise, shot = rng.next() < mix.shotNoise;
      for (let p = 0; p < n * n; p++) {
        const g = gray ? normal(rng) : 0;
        for (let c = 0; c < 3; c++) {
          const v = lr[p * 4 + c];
          lr[p * 4 + c] = v + sigma * (shot ? Math.sqrt(v / 128) : 1) * (gray ? g : normal(rng)); // rounds and clamps
        }
      }
    }
    if (!clean && mix.sharpen && rng.next() < mix.sharpen) sharpenSquare(lr, n, uniform(rng, mix.sharpenAmount!));
    if (!clean && rng.next() < mix.jpeg) jpegged.push(lrs.length);
    lrs.push(lr);
  }
  if (jpegged.length > 0) {
    const quality = Math.round(uniform(rng, mix.jpegQuality));
    const chroma420 = !!mix.chroma420 && rng.next() < mix.chroma420;
    const quality2 = mix.doubleJpeg && rng.next() < mix.doubleJpeg ? Math.round(uniform(rng, mix.jpegQuality2!)) : 0;
    const cell = Math.ceil(n / 16) * 16, cols = Math.ceil(Math.sqrt(jpegged.length)), rows = Math.ceil(jpegged.length / cols);
    const W = cols * cell, mosaic = new Uint8ClampedArray(W * rows * cell * 4).fill(255);
    const at = (i: number, r: number) => ((Math.floor(i / cols) * cell + r) * W + (i % cols) * cell) * 4;
    jpegged.forEach((s, i) => { for (let r = 0; r < n; r++) mosaic.set(lrs[s].subarray(r * n * 4, (r + 1) * n * 4), at(i, r)); });
    if (chroma420) subsampleChroma(mosaic, W, rows * cell);
    let out = jpegRoundTrip({ data: mosaic, width: W, height: rows * cell }, quality).data;
    if (quality2) out = jpegRoundTrip({ data: out, width: W, height: rows * cell }, quality2).data;
    jpegged.forEach((s, i) => { for (let r = 0; r < n; r++) lrs[s].set(out.subarray(at(i, r), at(i, r) + n * 4), r * n * 4); });
  }
  return lrs.map((data) => ({ data, width: n, height: n }));
}
