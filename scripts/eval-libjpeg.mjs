#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// `srgan eval --jpeg Q` saves the LR with our own encoder (jpeg-js: 4:4:4 chroma). Cameras and web
// sites mostly use libjpeg with 4:2:0 chroma; this measures networks on that: the same protocol
// (antialiased bicubic LR, PSNR-Y, shave = scale), the LR saved by libjpeg-turbo's cjpeg at quality Q
// (its defaults: 4:2:0, baseline, optimised Huffman) and decoded by our decoder, as `srgan upscale` would.
// Needs cjpeg (Debian: apt-get install libjpeg-turbo-progs) and `npm run build`.
//   node scripts/eval-libjpeg.mjs DIR MODEL... [--quality 75] [--threads N]
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createUpscaler, decodeImage, evaluate } from "../dist/index.js";

const { values, positionals } = parseArgs({ allowPositionals: true, options: { quality: { type: "string", default: "75" }, threads: { type: "string", default: "2" } } });
const [dir, ...models] = positionals;
if (!dir || models.length === 0) {
  console.error("usage: node scripts/eval-libjpeg.mjs DIR MODEL... [--quality 75] [--threads N]");
  process.exit(2);
}
const quality = values.quality;

/** RGBA → binary PPM → cjpeg → our decoder. */
function cjpegRoundTrip({ data, width, height }) {
  const header = Buffer.from(`P6\n${width} ${height}\n255\n`), rgb = Buffer.alloc(width * height * 3);
  for (let i = 0; i < width * height; i++) rgb.set(data.subarray(i * 4, i * 4 + 3), i * 3);
  const jpeg = execFileSync("cjpeg", ["-quality", quality], { input: Buffer.concat([header, rgb]), maxBuffer: 1 << 30 });
  return decodeImage(new Uint8Array(jpeg));
}

const files = readdirSync(dir).filter((f) => /\.(png|jpe?g)$/i.test(f)).sort();
const images = files.map((f) => decodeImage(readFileSync(join(dir, f)), { maxPixels: 2 ** 28 }));
console.log(`${files.length} images in ${dir}; LR: antialiased bicubic, then cjpeg -quality ${quality} (4:2:0); PSNR-Y, shave = scale`);
for (const model of models) {
  const up = await createUpscaler({ model, threads: Number(values.threads) });
  try {
    const r = await evaluate(up, images, { compress: cjpegRoundTrip });
    console.log(`${model}\tPSNR-Y ${r.psnrY.toFixed(3)}\tSSIM-Y ${r.ssimY.toFixed(4)}\t(per image: ${r.perImage.map((p) => p.psnrY.toFixed(2)).join(" ")})`);
  } finally {
    await up.dispose();
  }
}
