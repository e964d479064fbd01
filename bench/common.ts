// SPDX-License-Identifier: MIT
// What the Node benchmarks share: the median they report and the test image they upscale.

/** The median: machines are shared and noisy, so benchmarks quote it rather than the mean. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** An opaque RGBA test image: gradients in red and green, an xor pattern in blue (the browser benches' pages import it too). */
export function testImage(w: number, h: number) {
  const data = new Uint8ClampedArray(w * h * 4);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const i = (y * w + x) * 4;
    data[i] = (x * 255) / w; data[i + 1] = (y * 255) / h; data[i + 2] = (x ^ y) & 255; data[i + 3] = 255;
  }
  return { data, width: w, height: h };
}
