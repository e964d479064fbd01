// SPDX-License-Identifier: MIT
// PNG encoding for the CLI and srgan-wasm-server (Node only: node:zlib) that never holds a second copy of the pixels: rows go through node:zlib's
// deflate stream a block at a time and each compressed part goes to disk as it comes, so a big output
// costs little beyond its RGBA (a whole-buffer encoder holds an RGB copy, a growing filtered copy and
// the whole file as well). The same layout as encodePng: 8-bit RGB when every pixel is opaque, else
// RGBA, filter "None" on every row.
import { once } from "node:events";
import { createDeflate } from "node:zlib";
import type { RgbaImage } from "./rgba.js";
import { isOpaque, pngChunk, pngStart } from "./png.js";

const BLOCK_BYTES = 1 << 20;
/** Every IDAT chunk but the last holds exactly this much: where zlib's output breaks depends on timing, so the file's bytes must not. */
export const IDAT_BYTES = 1 << 20;

/** The PNG file as byte ranges, produced as the consumer (a file write) asks for them. */
export async function* encodePngStreaming(img: RgbaImage): AsyncGenerator<Uint8Array> {
  const { data, width, height } = img;
  const channels = isOpaque(data) ? 3 : 4;
  const stride = 1 + width * channels; // filter byte + samples
  const deflate = createDeflate({ level: 6, chunkSize: IDAT_BYTES });
  const feed = async () => {
    const rowsPerBlock = Math.max(1, Math.floor(BLOCK_BYTES / stride));
    for (let y0 = 0; y0 < height; y0 += rowsPerBlock) {
      const rows = Math.min(rowsPerBlock, height - y0);
      const block = new Uint8Array(rows * stride);
      for (let r = 0; r < rows; r++) {
        const src = (y0 + r) * width * 4, dst = r * stride + 1;
        if (channels === 4) block.set(data.subarray(src, src + width * 4), dst);
        else for (let s = src, d = dst; d < dst + 3 * width; s += 4, d += 3) { block[d] = data[s]; block[d + 1] = data[s + 1]; block[d + 2] = data[s + 2]; }
      }
      if (!deflate.write(block)) await once(deflate, "drain"); // at most a block or two queued
    }
    deflate.end();
  };
  try {
    yield* pngStart(width, height, channels === 3 ? 2 : 6);
    const fed = feed();
    fed.catch(() => {}); // awaited below; if the consumer stops first, its failure is not unhandled
    let idat = new Uint8Array(IDAT_BYTES), filled = 0;
    for await (const z of deflate as AsyncIterable<Uint8Array>) {
      for (let at = 0; at < z.length;) {
        const n = Math.min(IDAT_BYTES - filled, z.length - at);
        idat.set(z.subarray(at, at + n), filled);
        filled += n; at += n;
        if (filled === IDAT_BYTES) { yield* pngChunk("IDAT", idat); idat = new Uint8Array(IDAT_BYTES); filled = 0; }
      }
    }
    if (filled > 0) yield* pngChunk("IDAT", idat.subarray(0, filled));
    await fed;
    yield* pngChunk("IEND", new Uint8Array(0));
  } finally {
    deflate.destroy(); // the write failed or stopped early: free zlib's state
  }
}
