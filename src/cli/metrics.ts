// SPDX-License-Identifier: MIT
// `srgan psnr REF TEST` and `srgan ssim REF TEST`: print one number, so scripts can read it directly.
import { psnr, ssim } from "../metrics/quality.js";
import { intFlag, parse, type Command } from "./args.js";
import { readImage } from "./io.js";

const OPTIONS = {
  y: { type: "boolean" },
  shave: { type: "string" },
} as const;

const OPTIONS_HELP = `Options:
      --y                 compare luma only (ITU-R BT.601 Y, as SR papers report), not RGB
      --shave N           ignore N pixels at every border (SR papers shave the scale factor)
  -h, --help              show this help`;

function metricCommand(name: "psnr" | "ssim", what: string, format: (v: number) => string, fn: typeof psnr | typeof ssim): Command {
  return {
    help: `Usage: srgan ${name} REF TEST [options]

Prints the ${what} of the image TEST against the reference REF (same size).

${OPTIONS_HELP}

Example:
  srgan ${name} truth.png upscaled.png --y --shave 4`,

    async run(argv, ctx) {
      const { values, args: [refPath, testPath] } = parse(name, argv, OPTIONS, ["REF", "TEST"]);
      const shave = intFlag(name, "shave", values.shave, 0, 65535) ?? 0;
      const [ref, test] = await Promise.all([readImage(refPath), readImage(testPath)]);
      ctx.out(format(await fn(ref, test, { y: values.y ?? false, shave })));
    },
  };
}

export const psnrCommand = metricCommand("psnr", "peak signal-to-noise ratio in dB (higher is closer; 'inf' when identical)",
  (v) => (v === Infinity ? "inf" : v.toFixed(4)), psnr);
export const ssimCommand = metricCommand("ssim", "structural similarity index (1 when identical)", (v) => v.toFixed(6), ssim);
