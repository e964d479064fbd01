// SPDX-License-Identifier: MIT
// Alpha border padding (waifu2x's name for it): the colour stored under fully transparent pixels is
// arbitrary, usually black, and every network and resampler reaches across a visible edge into it, so
// the edge would come back darkened. Before an image with transparency is upscaled, each fully
// transparent pixel is given the mean colour of its 8-neighbours that already have one, ring by ring
// outwards from the visible pixels, so what lies beyond an edge continues the edge's own colour. It
// runs on the whole image before tiling: tiles then read the same pixels as one pass would.
import type { RgbaImage } from "./rgba.js";

/**
 * The image with the colour under every fully transparent pixel filled from the nearest visible
 * pixels (alpha and visible colours unchanged); the image itself when nothing is to fill (no pixel
 * fully transparent, or none visible). O(pixels): each pixel is filled once.
 */
export function fillTransparentColour(image: RgbaImage): RgbaImage {
  const { width: w, height: h, data: src } = image;
  const n = w * h;
  // 1: has a colour (visible, or filled in an earlier ring); 2: queued for the current ring.
  const state = new Uint8Array(n);
  let visible = 0;
  for (let i = 0; i < n; i++) if (src[i * 4 + 3] !== 0) { state[i] = 1; visible++; }
  if (visible === 0 || visible === n) return image;
  const data = new Uint8ClampedArray(src);

  // The first ring: transparent pixels beside a visible one.
  let ring = new Int32Array(n - visible), size = 0;
  for (let i = 0; i < n; i++) {
    if (state[i] === 0 && hasColouredNeighbour(state, i % w, (i / w) | 0, w, h)) { ring[size++] = i; state[i] = 2; }
  }
  let next = new Int32Array(n - visible);
  const rgb = new Uint8Array(3 * (n - visible));
  while (size > 0) {
    // Means first, then mark: a ring reads only the rings before it, so the order inside it is free.
    for (let k = 0; k < size; k++) meanOfColoured(data, state, ring[k], w, h, rgb, k);
    for (let k = 0; k < size; k++) {
      const o = ring[k] * 4;
      data[o] = rgb[3 * k]; data[o + 1] = rgb[3 * k + 1]; data[o + 2] = rgb[3 * k + 2];
      state[ring[k]] = 1;
    }
    let nextSize = 0;
    for (let k = 0; k < size; k++) {
      const x0 = ring[k] % w, y0 = (ring[k] / w) | 0;
      for (let y = Math.max(0, y0 - 1); y <= Math.min(h - 1, y0 + 1); y++) {
        for (let x = Math.max(0, x0 - 1); x <= Math.min(w - 1, x0 + 1); x++) {
          const j = y * w + x;
          if (state[j] === 0) { state[j] = 2; next[nextSize++] = j; }
        }
      }
    }
    [ring, next, size] = [next, ring, nextSize];
  }
  return { data, width: w, height: h };
}

function hasColouredNeighbour(state: Uint8Array, x0: number, y0: number, w: number, h: number): boolean {
  for (let y = Math.max(0, y0 - 1); y <= Math.min(h - 1, y0 + 1); y++) {
    for (let x = Math.max(0, x0 - 1); x <= Math.min(w - 1, x0 + 1); x++) if (state[y * w + x] === 1) return true;
  }
  return false;
}

/** The rounded mean RGB of pixel i's coloured 8-neighbours, into out[3k..3k+2]. */
function meanOfColoured(data: Uint8ClampedArray, state: Uint8Array, i: number, w: number, h: number, out: Uint8Array, k: number): void {
  const x0 = i % w, y0 = (i / w) | 0;
  let r = 0, g = 0, b = 0, count = 0;
  for (let y = Math.max(0, y0 - 1); y <= Math.min(h - 1, y0 + 1); y++) {
    for (let x = Math.max(0, x0 - 1); x <= Math.min(w - 1, x0 + 1); x++) {
      const j = y * w + x;
      if (state[j] !== 1) continue;
      r += data[j * 4]; g += data[j * 4 + 1]; b += data[j * 4 + 2]; count++;
    }
  }
  out[3 * k] = Math.round(r / count); out[3 * k + 1] = Math.round(g / count); out[3 * k + 2] = Math.round(b / count);
}
