// SPDX-License-Identifier: MIT
// `srgan upscale IN OUT`: one image through one upscaler, with a progress bar and optional pool stats.
import { basename } from "node:path";
import { createUpscaler } from "../api/upscaler.js";
import { AUTO_MODEL, autoModel } from "../model/builtin.js";
import type { PoolStats } from "../runtime/counters.js";
import { intFlag, parse, TTA_FLAG, TTA_HELP, upscalerOptions, UPSCALER_FLAGS, UPSCALER_HELP, type Command } from "./args.js";
import { checkImageOutput, checkWritable, formatBytes, openImageBytes, prefixPath, readBytes, refuseSameFile, seconds, writeImage } from "./io.js";
import { isAnimation, upscaleMovingPicture } from "./video.js";
import { progressBar } from "./progress.js";

export const command: Command = {
  help: `Usage: srgan upscale IN OUT [options]

Upscales the image IN (PNG or JPEG) by the network's scale and writes OUT; the output format
follows OUT's extension (.png, .jpg, .jpeg), and the summary line names the network that ran.
Transparency is kept (resized bicubically); the colour under fully transparent pixels is filled from
the visible ones first, so transparent edges keep their colour.
Animated GIF, APNG and WebP inputs are upscaled frame by frame to .gif, .png (APNG) or .webp,
keeping frame timing, loop count and transparency (see 'srgan video --help').

Options:
${UPSCALER_HELP}
${TTA_HELP}
  -q, --quality Q         JPEG output quality, 1–100 (default: 90); for .webp animations: lossy at Q
                          (default: lossless)
      --stats             after the job, print the shared memory pool's peak and current bytes
      --overwrite         allow OUT to be IN itself (the input is replaced by the result)
  -h, --help              show this help

Example:
  srgan upscale photo.jpg photo-4x.png --model bicubic --threads 4`,

  async run(argv, ctx) {
    const { values, args: [input, output] } = parse("upscale", argv, {
      ...UPSCALER_FLAGS,
      ...TTA_FLAG,
      quality: { type: "string", short: "q" },
      stats: { type: "boolean" },
      overwrite: { type: "boolean" },
    }, ["IN", "OUT"]);
    const options = upscalerOptions("upscale", values);
    // JPEG photos go to natural-real: natural would sharpen their 8×8 blocks (README, Networks).
    options.model ??= AUTO_MODEL;
    const quality = intFlag("upscale", "quality", values.quality, 1, 100);
    const bytes = await readBytes(input);
    // Animated GIF, APNG and WebP (and still GIF/WebP) go frame by frame, as `srgan video` does.
    if (isAnimation(bytes)) {
      return upscaleMovingPicture({ command: "upscale", input, output, upscaler: options, overwrite: values.overwrite, quality, bytes }, ctx);
    }
    // Everything that can be refused is refused before the work: names, the output's place, sizes.
    checkImageOutput(output);
    await refuseSameFile("upscale", input, output, values.overwrite);
    await checkWritable(output);
    const file = openImageBytes(input, bytes);
    const auto = options.model === AUTO_MODEL;
    if (auto) options.model = autoModel(file.info.format, options.scale);
    const t0 = performance.now();
    const up = await createUpscaler(options);
    try {
      try {
        up.checkSize(file.info.width, file.info.height);
      } catch (e) {
        throw prefixPath(e, input);
      }
      const img = file.decode();
      const bar = progressBar(`upscale ${basename(input)}`, ctx.tty);
      let out;
      try {
        out = await up.upscale(img, { tta: values.tta, signal: ctx.signal, onProgress: (p) => bar.update(p.fraction, `${p.tilesDone}/${p.tilesTotal} tiles`) });
      } finally {
        bar.done();
      }
      const size = await writeImage(output, out, quality);
      const info = up.info();
      ctx.out(`${input} (${img.width}×${img.height}) → ${output} (${out.width}×${out.height}, ${formatBytes(size)}) with ${info.model}${values.tta ? " (tta ×8)" : ""}${auto ? ` (auto: ${file.info.format.toUpperCase()} input)` : ""} ×${info.scale} ${options.threads === 0 ? "on the main thread" : `on ${info.threads} worker thread${info.threads === 1 ? "" : "s"}`} in ${seconds(performance.now() - t0)}`);
      if (values.stats) ctx.out(formatStats(up.stats()));
    } finally {
      await up.dispose();
    }
  },
};

export function formatStats(s: PoolStats): string {
  return `pool: peak ${s.peakBytes} bytes (${formatBytes(s.peakBytes)}), current ${s.currentBytes} bytes (${formatBytes(s.currentBytes)}), ` +
    `${s.activeLeases} active / ${s.totalLeases} total leases, ${s.failedLeases} refused, capacity ${formatBytes(s.capacityBytes)}`;
}
