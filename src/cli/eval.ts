// SPDX-License-Identifier: MIT
// `srgan eval MODEL DIR`: the standard SR protocol on a folder of HR images (e.g. Set5): LR by
// `srgan downscale`, SR by MODEL, PSNR (RGB and Y) and SSIM (Y) with `scale` pixels shaved, means.
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { createUpscaler } from "../api/upscaler.js";
import { evaluate } from "../metrics/evaluate.js";
import type { DownscaleMethod } from "../image/resample.js";
import { intFlag, parse, TTA_FLAG, TTA_HELP, upscalerOptions, UPSCALER_FLAGS, UPSCALER_HELP, type Command } from "./args.js";
import { readImage, seconds } from "./io.js";
import { UsageError } from "../errors.js";

const METHODS = ["bicubic", "box", "box-linear"];

export const command: Command = {
  help: `Usage: srgan eval MODEL DIR [options]

Evaluates MODEL on the PNG/JPEG images in DIR as super-resolution papers do: each image is cropped to
a multiple of the scale, shrunk with 'srgan downscale', upscaled by MODEL, and compared with the
original: PSNR on RGB and on BT.601 Y, SSIM on Y, with a border of 'scale' pixels shaved.

Options:
      --lr METHOD         how LR is made: bicubic (default), box, box-linear
      --jpeg Q            save each LR image as JPEG at quality Q (1–100) first: the protocol for
                          compressed input (natural-real)
      --per-image         print every image's numbers too
${UPSCALER_HELP}
${TTA_HELP}
  -h, --help              show this help

Example:
  srgan eval natural Set5/`,

  async run(argv, ctx) {
    const { values, args: [model, dir] } = parse("eval", argv, { ...UPSCALER_FLAGS, ...TTA_FLAG, lr: { type: "string" }, jpeg: { type: "string" }, "per-image": { type: "boolean" } }, ["MODEL", "DIR"]);
    const lr = (values.lr as string | undefined) ?? "bicubic";
    if (!METHODS.includes(lr)) throw new UsageError(`eval: --lr must be one of ${METHODS.join(", ")}, got '${lr}'`);
    const jpeg = intFlag("eval", "jpeg", values.jpeg as string | undefined, 1, 100);
    const files = (await readdir(dir)).filter((f) => /\.(png|jpe?g)$/i.test(f)).sort();
    if (files.length === 0) throw new UsageError(`eval: no PNG or JPEG images in ${dir}`);
    const images = [];
    for (const f of files) images.push(await readImage(join(dir, f)));
    const t0 = performance.now();
    const up = await createUpscaler({ ...upscalerOptions("eval", values), model });
    try {
      const r = await evaluate(up, images, { lr: lr as DownscaleMethod, jpeg, tta: values.tta, signal: ctx.signal });
      if (values["per-image"]) r.perImage.forEach((p, i) => ctx.out(`${files[i]}\tPSNR RGB ${p.psnrRgb.toFixed(3)}\tY ${p.psnrY.toFixed(3)}\tSSIM Y ${p.ssimY.toFixed(4)}`));
      ctx.out(`${up.info().model} ×${up.scale} on ${dir} (${r.images} images, LR ${lr}${jpeg === undefined ? "" : `, JPEG q${jpeg}`}${values.tta ? ", tta ×8" : ""}): PSNR RGB ${r.psnrRgb.toFixed(3)} dB, Y ${r.psnrY.toFixed(3)} dB, SSIM Y ${r.ssimY.toFixed(4)} (${seconds(performance.now() - t0)})`);
    } finally {
      await up.dispose();
    }
  },
};
