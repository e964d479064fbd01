// SPDX-License-Identifier: MIT
// Image-space downscaling for making low-resolution inputs (evaluation, training pairs): antialiased
// bicubic as MATLAB's imresize(img, 1/factor), and factor×factor box means in sRGB or in linear light.
// The maths is the Resize op and the sRGB kernels, run on one lazily created module-wide Engine; this
// file only validates, crops, moves bytes and holds the TypeScript reference of the sRGB curve.
import { Engine, MAX_MEMORY_BYTES } from "../runtime/engine.js";
import { paddedBytes } from "../runtime/align.js";
import { Resize } from "../ops/resize.js";
import { invalidInput } from "../errors.js";
import type { RgbaImage } from "./rgba.js";
import type { GraphNode } from "../model/types.js";

export type DownscaleMethod = "bicubic" | "box" | "box-linear";
const METHODS: DownscaleMethod[] = ["bicubic", "box", "box-linear"];

/** sRGB-coded 0..1 → linear light (IEC 61966-2-1), float64: the reference for srgb_to_linear_f32. */
export function srgbToLinear(v: number): number {
  return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
}

/** Linear light → sRGB-coded 0..1 (IEC 61966-2-1), float64: the reference for linear_to_srgb_f32. */
export function linearToSrgb(v: number): number {
  return v <= 0.0031308 ? v * 12.92 : 1.055 * v ** (1 / 2.4) - 0.055;
}

function checkImage(img: RgbaImage, what: string): void {
  if (!img || !(img.data instanceof Uint8Array || img.data instanceof Uint8ClampedArray)) {
    throw new TypeError(`${what}.data must be a Uint8Array or Uint8ClampedArray of RGBA bytes`);
  }
  const { width, height, data } = img;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw invalidInput(`${what} is ${width}×${height}; width and height must be positive integers`);
  }
  if (data.length !== width * height * 4) {
    throw invalidInput(`${what}.data has ${data.length} bytes; a ${width}×${height} RGBA image has ${width * height * 4}`);
  }
}

/**
 * Crops to the largest top-left rectangle whose sides are multiples of m (the usual SR evaluation
 * crop, so HR and LR·m line up exactly). Returns `img` itself when nothing needs cropping.
 */
export function cropToMultiple(img: RgbaImage, m: number): RgbaImage {
  checkImage(img, "img");
  if (!Number.isInteger(m) || m < 1) throw new RangeError(`m must be a positive integer, got ${m}`);
  const width = img.width - (img.width % m), height = img.height - (img.height % m);
  if (width === 0 || height === 0) throw invalidInput(`a ${img.width}×${img.height} image has no ${m}×${m} block to keep`);
  if (width === img.width && height === img.height) return img;
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) data.set(img.data.subarray(y * img.width * 4, (y * img.width + width) * 4), y * width * 4);
  return { data, width, height };
}

// One engine for every call, grown (replaced) when an image needs more than it holds. "simd", not
// "auto": the plain build has no fused multiply-add, so an LR image is the same bytes on every engine.
let engine: Promise<Engine> | undefined;
let engineBytes = 0;

async function engineFor(bytes: number): Promise<Engine> {
  if (!engine || bytes > engineBytes * 0.9) {
    const limit = Math.min(MAX_MEMORY_BYTES, Math.max(256 << 20, Math.ceil(bytes * 1.25) + (16 << 20)));
    engineBytes = limit;
    engine = Engine.create({ memoryLimit: limit, wasmVariant: "simd" });
    engine.catch(() => { engine = undefined; engineBytes = 0; });
  }
  return engine;
}

/**
 * Shrinks an RGBA8 image by an integer factor. The input is first cropped top-left to a multiple of
 * `factor` (cropToMultiple), so the output is exactly (width/factor)×(height/factor) and every output
 * pixel has a whole block.
 * - `bicubic`: MATLAB imresize(img, 1/factor, 'bicubic') with antialiasing (Keys a = −0.5 widened by
 *   factor, symmetric edges), in float on 0..255 values, rounded half up to bytes at the end only.
 * - `box`: the mean of each factor×factor block of sRGB-coded bytes, rounded to nearest with ties to
 *   even. Exact .5 means are common (1 in 16 for 4×4 blocks); rounding them all up would brighten the
 *   image by 1/32 level on average and lands 0.016 dB off the ×4 references in
 *   docs/srgan-rust-rsr.md §8, whose float64 means broke ties either way. Ties to even is unbiased.
 * - `box-linear`: the block mean in linear light (IEC 61966-2-1), coded back to sRGB, rounded.
 * Alpha is resized like the colour channels (straight, not premultiplied) but never linearised.
 * Async only because the kernel module loads once; the work itself is synchronous.
 */
export async function downscale(img: RgbaImage, factor: number, method: DownscaleMethod = "bicubic"): Promise<RgbaImage> {
  checkImage(img, "img");
  if (!Number.isInteger(factor) || factor < 1 || factor > 16) throw new RangeError(`factor must be an integer in [1, 16], got ${factor}`);
  if (!METHODS.includes(method)) throw new RangeError(`method must be one of ${METHODS.join(", ")}, got '${method}'`);
  const src = cropToMultiple(img, factor);
  const { width: w, height: h } = src;
  const ow = w / factor, oh = h / factor;
  const node: GraphNode = { op: "Resize", inputs: ["x"], output: "y", attrs: { method: method === "bicubic" ? "bicubic" : "box", factor }, weights: {} };
  const inShape = { h, w, c: 4 }, outShape = { h: oh, w: ow, c: 4 };
  const scratch = Resize.scratchBytes!(node, [inShape], outShape);
  const n = w * h * 4, on = ow * oh * 4;
  const bytes = paddedBytes(n) + paddedBytes(n * 4) + paddedBytes(on * 4) + paddedBytes(scratch) + paddedBytes(on);
  const eng = await engineFor(bytes);
  const k = eng.kernels;
  const lease = eng.pool.lease(bytes);
  try {
    const inU8 = lease.ptr, inF = inU8 + paddedBytes(n), outF = inF + paddedBytes(n * 4), scratchPtr = outF + paddedBytes(on * 4), outU8 = scratchPtr + paddedBytes(scratch);
    eng.u8(inU8, n).set(src.data);
    // Box means of bytes are exact in f32 on the 0..255 scale (for power-of-two factors), so a tie is
    // seen as a tie; the sRGB curve needs 0..1.
    const linear = method === "box-linear";
    k.u8_to_f32(inU8, inF, 0, n, linear ? 1 / 255 : 1);
    if (linear) k.srgb_to_linear_f32(inF, inF, 0, w * h, 4, 3);
    Resize.wasm(k, { node, inputs: [{ ptr: inF, shape: inShape }], output: { ptr: outF, shape: outShape }, packed: {}, scratchPtr, y0: 0, y1: oh });
    if (linear) k.linear_to_srgb_f32(outF, outF, 0, ow * oh, 4, 3);
    k.f32_to_u8(outF, outU8, 0, on, linear ? 255 : 1, method === "box" ? 1 : 0);
    return { data: new Uint8ClampedArray(eng.u8(outU8, on)), width: ow, height: oh };
  } finally {
    eng.pool.release(lease);
  }
}
