// SPDX-License-Identifier: MIT
// The super-resolution evaluation protocol in one place: HR cropped to a multiple of the scale, LR by
// downscale() (antialiased bicubic unless told otherwise), SR by the upscaler, PSNR/SSIM with a border
// of `scale` pixels shaved, means over the images. Used by `srgan eval`, the acceptance tests and docs.
import type { RgbaImage, Upscaler } from "../api/upscaler.js";
import { cropToMultiple, downscale, type DownscaleMethod } from "../image/resample.js";
import { psnr, ssim } from "./quality.js";

export interface Evaluation {
  images: number;
  /** Mean PSNR over R, G, B and on BT.601 Y, dB. */
  psnrRgb: number;
  psnrY: number;
  /** Mean SSIM on Y. */
  ssimY: number;
  perImage: { psnrRgb: number; psnrY: number; ssimY: number }[];
}

export async function evaluate(up: Upscaler, hrImages: RgbaImage[], opts: { lr?: DownscaleMethod; signal?: AbortSignal } = {}): Promise<Evaluation> {
  const s = up.scale;
  const perImage: Evaluation["perImage"] = [];
  for (const full of hrImages) {
    const hr = cropToMultiple(full, s);
    const lr = await downscale(hr, s, opts.lr ?? "bicubic");
    const sr = await up.upscale(lr, { signal: opts.signal });
    perImage.push({ psnrRgb: psnr(hr, sr, { shave: s }), psnrY: psnr(hr, sr, { shave: s, y: true }), ssimY: ssim(hr, sr, { shave: s, y: true }) });
  }
  const mean = (k: "psnrRgb" | "psnrY" | "ssimY") => perImage.reduce((a, p) => a + p[k], 0) / perImage.length;
  return { images: perImage.length, psnrRgb: mean("psnrRgb"), psnrY: mean("psnrY"), ssimY: mean("ssimY"), perImage };
}
