// SPDX-License-Identifier: MIT
// `srgan downscale IN OUT --factor N`: makes low-resolution inputs from ground truth, the way
// super-resolution benchmarks do (bicubic, antialiased, MATLAB imresize semantics by default).
import type { DownscaleMethod } from "../image/resample.js";
import { downscale } from "../api/downscale.js";
import { UsageError } from "../errors.js";
import { choiceFlag, intFlag, parse, type Command } from "./args.js";
import { checkImageOutput, checkWritable, formatBytes, readImage, refuseSameFile, seconds, writeImage } from "./io.js";

const METHODS = ["bicubic", "box", "box-linear"] as const satisfies readonly DownscaleMethod[];

export const command: Command = {
  help: `Usage: srgan downscale IN OUT --factor N [options]

Shrinks the image IN by the integer factor N and writes OUT (.png, .jpg or .jpeg). IN is first
cropped (top-left) to a multiple of N, so the output is ⌊width / N⌋ × ⌊height / N⌋.

Options:
  -f, --factor N          shrink factor, 1–16 (required)
      --method M          bicubic (antialiased, as MATLAB imresize), box (average of N×N blocks)
                          or box-linear (box average in linear light) (default: bicubic)
  -q, --quality Q         JPEG output quality, 1–100 (default: 90)
      --overwrite         allow OUT to be IN itself (the input is replaced by the result)
  -h, --help              show this help

Example:
  srgan downscale truth.png input-x4.png --factor 4`,

  async run(argv, ctx) {
    const { values, args: [input, output] } = parse("downscale", argv, {
      factor: { type: "string", short: "f" },
      method: { type: "string" },
      quality: { type: "string", short: "q" },
      overwrite: { type: "boolean" },
    }, ["IN", "OUT"]);
    if (values.factor === undefined) throw new UsageError("downscale: --factor N is required; see 'srgan downscale --help'");
    const factor = intFlag("downscale", "factor", values.factor, 1, 16)!;
    const method = choiceFlag("downscale", "method", values.method, METHODS) ?? "bicubic";
    const quality = intFlag("downscale", "quality", values.quality, 1, 100);
    checkImageOutput(output);
    await refuseSameFile("downscale", input, output, values.overwrite);
    await checkWritable(output);
    const img = await readImage(input);
    const t0 = performance.now();
    const out = await downscale(img, factor, method);
    const size = await writeImage(output, out, quality);
    ctx.out(`${input} (${img.width}×${img.height}) → ${output} (${out.width}×${out.height}, ${formatBytes(size)}) by ${method} ÷${factor} in ${seconds(performance.now() - t0)}`);
  },
};
