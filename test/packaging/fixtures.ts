// SPDX-License-Identifier: MIT
// The image every cross-runtime test upscales, and the reference result computed here in Node from
// src/ (the threads tests prove threaded and single-threaded results are bit-identical, so one
// thread is the reference for any thread count).
import { createUpscaler } from "../../src/index.js";
import { rng } from "../helpers.js";

export interface Pixels {
  data: Uint8ClampedArray;
  width: number;
  height: number;
}

/** Smooth gradients plus noise (so every interpolation weight matters); opaque unless `alpha`. */
export function sampleImage(width: number, height: number, seed: number, alpha = false): Pixels {
  const rand = rng(seed);
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      data[i] = (x * 255) / width + 40 * rand();
      data[i + 1] = (y * 255) / height + 40 * rand();
      data[i + 2] = 128 + 100 * Math.sin((x + y) / 5) + 20 * rand();
      data[i + 3] = alpha ? 255 * rand() : 255;
    }
  }
  return { data, width, height };
}

export async function nodeReference(image: Pixels, model: string): Promise<Pixels> {
  const up = await createUpscaler({ model, threads: 0 });
  try {
    return await up.upscale(image);
  } finally {
    await up.dispose();
  }
}

/** Index of the first differing byte, or -1 (lengths must match). */
export function firstDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}
