// SPDX-License-Identifier: MIT
// Pixels past the edge of an image, for networks that see it extended (Graph.inputPad): 'edge' repeats
// the border pixel (waifu2x), 'reflect' mirrors without repeating it (reflect-101: Real-CUGAN,
// realesrgan-ncnn-vulkan), 'zero' is transparent black. Tiles of such networks reach past the image
// (src/runtime/tiler.ts); this fills them, and the whole image alike.
import type { PadMode } from "../model/types.js";
import type { RgbaImage } from "./rgba.js";

/** The image index that virtual index i of an n-pixel line shows, or −1 for 'zero' outside [0, n). */
export function borderIndex(i: number, n: number, mode: PadMode): number {
  if (i >= 0 && i < n) return i;
  if (mode === "zero") return -1;
  if (mode === "edge" || n === 1) return i < 0 ? 0 : n - 1;
  const p = 2 * (n - 1); // reflect-101 repeats with period 2(n − 1): 0 1 … n−1 n−2 … 1 | 0 1 …
  const m = ((i % p) + p) % p;
  return m < n ? m : p - m;
}

/**
 * Copies the rectangle (x, y, w, h) of the image extended by `mode` into `dst` at byte `at`, as w×h
 * RGBA8 rows. Inside the image rows are copied whole; only the pixels past its edges are mapped.
 */
export function copyRect(image: RgbaImage, x: number, y: number, w: number, h: number, mode: PadMode, dst: Uint8Array | Uint8ClampedArray, at = 0): void {
  const { width, height, data } = image;
  const lo = Math.max(0, Math.min(w, -x)), hi = Math.max(lo, Math.min(w, width - x)); // row part inside the image
  for (let row = 0; row < h; row++) {
    const o = at + row * w * 4;
    const sy = borderIndex(y + row, height, mode);
    if (sy < 0) { dst.fill(0, o, o + w * 4); continue; }
    const line = sy * width * 4;
    if (hi > lo) dst.set(data.subarray(line + (x + lo) * 4, line + (x + hi) * 4), o + lo * 4);
    const outside = (i: number) => {
      const sx = borderIndex(x + i, width, mode);
      if (sx < 0) dst.fill(0, o + i * 4, o + i * 4 + 4);
      else dst.set(data.subarray(line + sx * 4, line + sx * 4 + 4), o + i * 4);
    };
    for (let i = 0; i < lo; i++) outside(i);
    for (let i = hi; i < w; i++) outside(i);
  }
}
