// SPDX-License-Identifier: MIT
// What downscaling (src/api/downscale.ts) needs below the runtime: the methods, the input check, the
// evaluation crop, and the TypeScript reference of the sRGB curve its kernels implement.
import { invalidInput } from "../errors.js";
import type { RgbaImage } from "./rgba.js";

export type DownscaleMethod = "bicubic" | "box" | "box-linear";
export const DOWNSCALE_METHODS: readonly DownscaleMethod[] = ["bicubic", "box", "box-linear"];

/** sRGB-coded 0..1 → linear light (IEC 61966-2-1), float64: the reference for srgb_to_linear_f32. */
export function srgbToLinear(v: number): number {
  return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
}

/** Linear light → sRGB-coded 0..1 (IEC 61966-2-1), float64: the reference for linear_to_srgb_f32. */
export function linearToSrgb(v: number): number {
  return v <= 0.0031308 ? v * 12.92 : 1.055 * v ** (1 / 2.4) - 0.055;
}

/** Throws TypeError / ERR_INVALID_INPUT unless img is a well-formed RGBA8 image. */
export function checkImage(img: RgbaImage, what: string): void {
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

