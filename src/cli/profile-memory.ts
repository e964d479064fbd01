// SPDX-License-Identifier: MIT
// `srgan profile-memory IN`: upscales IN once (output discarded) and prints the shared pool's peak for
// that job alone, the weights' share, and the process's peak resident memory.
import { createUpscaler } from "../api/upscaler.js";
import { parse, upscalerOptions, UPSCALER_FLAGS, UPSCALER_HELP, type Command } from "./args.js";
import { formatBytes, readImage } from "./io.js";

export const command: Command = {
  help: `Usage: srgan profile-memory IN [options]

Upscales IN once without writing it and prints the peak working memory of that job, from the shared
pool's Atomics counters (tiles, buffers), plus the weights and the process's peak RSS.

Options:
${UPSCALER_HELP}
  -h, --help              show this help`,

  async run(argv, ctx) {
    const { values, args: [input] } = parse("profile-memory", argv, UPSCALER_FLAGS, ["IN"]);
    const img = await readImage(input);
    const up = await createUpscaler(upscalerOptions("profile-memory", values));
    try {
      const weights = up.stats().currentBytes;
      up.resetPeak();
      const out = await up.upscale(img, { signal: ctx.signal });
      const s = up.stats();
      const rss = process.resourceUsage().maxRSS * 1024;
      ctx.out(`${input} ${img.width}×${img.height} → ${out.width}×${out.height} with ${up.info().model}, tile ${up.info().tileSize}, ${up.info().threads} thread(s)`);
      ctx.out(`pool peak ${s.peakBytes} bytes (${formatBytes(s.peakBytes)}): weights ${formatBytes(weights)} + job ${formatBytes(s.peakBytes - weights)}; after the job ${formatBytes(s.currentBytes)} in ${s.activeLeases} leases`);
      ctx.out(`process peak RSS ${formatBytes(rss)} (output image ${formatBytes(out.data.length)})`);
    } finally {
      await up.dispose();
    }
  },
};
