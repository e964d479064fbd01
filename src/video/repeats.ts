// SPDX-License-Identifier: MIT
// Remembers the last few distinct frames and their upscaled results, so a frame that repeats one of
// them exactly (held drawings in animation, a paused screen) is not upscaled again. A hash finds the
// candidate; the pixels are then compared in full, so a hash collision can never swap a frame.
import type { RgbaImage } from "../image/rgba.js";

/** A 64-bit hash of the pixels (two 32-bit lanes), as a string key; not cryptographic. */
export function frameHash(img: RgbaImage): string {
  const { data } = img;
  let h1 = 0x811c9dc5 ^ img.width, h2 = 0x9e3779b9 ^ img.height;
  const words = data.byteOffset % 4 === 0 ? new Uint32Array(data.buffer, data.byteOffset, data.byteLength >> 2) : undefined;
  const n = words ? words.length : 0;
  for (let i = 0; i < n; i++) {
    const w = words![i];
    h1 = Math.imul(h1 ^ w, 0x01000193);
    h2 = Math.imul((h2 ^ w) + (h2 << 5), 0x5bd1e995);
  }
  for (let i = n * 4; i < data.length; i++) {
    h1 = Math.imul(h1 ^ data[i], 0x01000193);
    h2 = Math.imul((h2 ^ data[i]) + (h2 << 5), 0x5bd1e995);
  }
  return `${img.width}x${img.height}:${(h1 >>> 0).toString(16)}${(h2 >>> 0).toString(16).padStart(8, "0")}`;
}

function samePixels(a: RgbaImage, b: RgbaImage): boolean {
  if (a.width !== b.width || a.height !== b.height || a.data.length !== b.data.length) return false;
  for (let i = 0; i < a.data.length; i++) if (a.data[i] !== b.data[i]) return false;
  return true;
}

/** The upscaled results of the last `capacity` distinct inputs, least recently used dropped first. */
export class RepeatCache<T> {
  private readonly entries = new Map<string, { input: RgbaImage; output: T }>();

  constructor(readonly capacity: number) {}

  /** The stored result for exactly these pixels, or undefined. */
  find(input: RgbaImage, key: string): T | undefined {
    const hit = this.entries.get(key);
    if (!hit || !samePixels(hit.input, input)) return undefined;
    this.entries.delete(key); // re-insert: most recently used last
    this.entries.set(key, hit);
    return hit.output;
  }

  store(input: RgbaImage, key: string, output: T): void {
    if (this.capacity <= 0) return;
    this.entries.delete(key);
    this.entries.set(key, { input, output });
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }
}
