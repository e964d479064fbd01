// SPDX-License-Identifier: MIT
// The super-resolution evaluation protocol in one place: HR cropped to a multiple of the scale, LR by
// downscale() (antialiased bicubic unless told otherwise), SR by the upscaler, PSNR/SSIM with a border
// of `scale` pixels shaved, means over the images. Used by `srgan eval`, the acceptance tests and docs.
// With `jpeg: Q` the LR is also saved as JPEG at quality Q by our encoder and decoded again (the
// compressed-input protocol of natural-real); `compress` is any other such step (another encoder: scripts/eval-libjpeg.mjs).
// With `tta` every image is upscaled as a self-ensemble.
import type { Upscaler } from "../api/upscaler.js";
import type { RgbaImage } from "../image/rgba.js";
import { cropToMultiple, type DownscaleMethod } from "../image/resample.js";
import { Downscaler } from "../api/downscale.js";
import { jpegRoundTrip } from "../image/jpeg-roundtrip.js";
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

export async function evaluate(up: Upscaler, hrImages: RgbaImage[], opts: { lr?: DownscaleMethod; jpeg?: number; compress?: (lr: RgbaImage) => RgbaImage; tta?: boolean; signal?: AbortSignal } = {}): Promise<Evaluation> {
  const s = up.scale;
  const { jpeg } = opts;
  if (jpeg !== undefined && (!Number.isInteger(jpeg) || jpeg < 1 || jpeg > 100)) throw new RangeError(`options.jpeg must be a JPEG quality, an integer in [1, 100], got ${String(jpeg)}`);
  const perImage: Evaluation["perImage"] = [];
  const downscaler = new Downscaler();
  for (const full of hrImages) {
    const hr = cropToMultiple(full, s);
    const clean = await downscaler.downscale(hr, s, opts.lr ?? "bicubic");
    const compressed = jpeg === undefined ? clean : jpegRoundTrip(clean, jpeg);
    const lr = opts.compress ? opts.compress(compressed) : compressed;
    const sr = await up.upscale(lr, { tta: opts.tta, signal: opts.signal });
    perImage.push({ psnrRgb: psnr(hr, sr, { shave: s }), psnrY: psnr(hr, sr, { shave: s, y: true }), ssimY: ssim(hr, sr, { shave: s, y: true }) });
  }
  const mean = (k: "psnrRgb" | "psnrY" | "ssimY") => perImage.reduce((a, p) => a + p[k], 0) / perImage.length;
  return { images: perImage.length, psnrRgb: mean("psnrRgb"), psnrY: mean("psnrY"), ssimY: mean("ssimY"), perImage };
}
