// SPDX-License-Identifier: MIT
// The README's side-by-side of networks from other projects, on a crop of our own example picture
// (examples/lighthouse.png): bicubic, our `natural`, Real-ESRGAN realesr-animevideov3 (ncnn),
// realesrgan-x4plus-anime (ncnn), an ESRGAN .pth (4x-NMKD-YandereNeo-Superlite) and Real-CUGAN
// up4x (ncnn), all ×4, in that order, 4 white pixels apart. Reads the networks from ../shared
// (this workplace's copies; nothing of them is committed, only this picture), after `npm run build`.
//   node scripts/make-community-figure.mjs [out.png]
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createUpscaler, decodeImage, encodePng } from "../dist/index.js";

const out = process.argv[2] ?? fileURLToPath(new URL("../examples/community-x4.png", import.meta.url));
const shared = (p) => fileURLToPath(new URL(`../../shared/data/community/${p}`, import.meta.url));
const MODELS = ["bicubic", "natural", shared("ncnn/realesrgan/realesr-animevideov3-x4.param"), shared("ncnn/realesrgan/realesrgan-x4plus-anime.param"),
  shared("pytorch/4x-NMKD-YandereNeo-Superlite.pth"), shared("ncnn/realcugan/up4x-no-denoise.param")];
// The lighthouse and its beam: fine stripes beside smooth sky.
const CROP = { x: 88, y: 14, w: 56, h: 56 };
const GAP = 4;

const full = decodeImage(readFileSync(fileURLToPath(new URL("../examples/lighthouse.png", import.meta.url))));
const crop = { width: CROP.w, height: CROP.h, data: new Uint8ClampedArray(CROP.w * CROP.h * 4) };
for (let y = 0; y < CROP.h; y++) crop.data.set(full.data.subarray(((CROP.y + y) * full.width + CROP.x) * 4, ((CROP.y + y) * full.width + CROP.x + CROP.w) * 4), y * CROP.w * 4);

const panels = [];
for (const model of MODELS) {
  const up = await createUpscaler({ model, scale: 4, threads: 2 });
  panels.push(await up.upscale(crop));
  await up.dispose();
}
const pw = CROP.w * 4, ph = CROP.h * 4, W = panels.length * pw + (panels.length - 1) * GAP;
const data = new Uint8ClampedArray(W * ph * 4).fill(255);
panels.forEach((p, i) => {
  for (let y = 0; y < ph; y++) data.set(p.data.subarray(y * pw * 4, (y + 1) * pw * 4), (y * W + i * (pw + GAP)) * 4);
});
writeFileSync(out, encodePng({ data, width: W, height: ph }));
console.log(`${out}: ${W}×${ph}, ${MODELS.length} panels`);
