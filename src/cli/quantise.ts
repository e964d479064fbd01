// SPDX-License-Identifier: MIT
// `srgan quantise IN OUT --mode f16|trunc12`: writes a smaller .srnet and says what it cost: sizes
// raw and gzipped (trunc12 only pays off compressed), and with --image the PSNR change on a real
// super-resolution job (IMG as ground truth, its bicubic ÷scale as input, Y channel, border shaved).
import { gzipSync } from "node:zlib";
import { createUpscaler } from "../api/upscaler.js";
import type { RgbaImage } from "../image/rgba.js";
import type { UpscalerOptions } from "../api/options.js";
import { decodeNetwork, encodeNetwork } from "../model/formats/srnet.js";
import type { Graph } from "../model/types.js";
import { encodeQuantised, QUANTISE_MODES } from "../model/quantise.js";
import { formatNames } from "../model/network-formats.js";
import { cropToMultiple } from "../image/resample.js";
import { downscale } from "../api/downscale.js";
import { psnr } from "../metrics/quality.js";
import { UsageError } from "../errors.js";
import { choiceFlag, parse, upscalerOptions, UPSCALER_FLAGS, type Command, type Context } from "./args.js";
import { formatBytes, loadModel, readImage, writeBytesAtomic } from "./io.js";
import { progressBar } from "./progress.js";

export const command: Command = {
  help: `Usage: srgan quantise IN OUT --mode f16|trunc12 [options]

Writes the network IN (${formatNames()}) to OUT as a .srnet with quantised weights, and
reports the file size before and after.
  f16      IEEE half floats: half the size, round to nearest.
  trunc12  f32 with the 12 low mantissa bits zeroed (srgan-rust's quantise): same raw size, but
           it compresses far better (gzip/brotli when served, zip/xz when shipped).

Options:
      --mode M            f16 or trunc12 (required)
      --image IMG         also measure the quality change: IMG is the ground truth, its bicubic
                          downscale by the network's scale the input; prints PSNR (Y, border of
                          'scale' pixels shaved) with the original and the quantised weights
  -t, --threads N|auto    worker threads for --image (default: auto)
      --tile-size N       tile size for --image (default: 256)
  -h, --help              show this help

Example:
  srgan quantise natural.rsr natural-f16.srnet --mode f16 --image examples/lighthouse.png`,

  async run(argv, ctx) {
    const { values, args: [input, output] } = parse("quantise", argv, {
      mode: { type: "string" },
      image: { type: "string" },
      threads: UPSCALER_FLAGS.threads,
      "tile-size": UPSCALER_FLAGS["tile-size"],
    }, ["IN", "OUT"]);
    if (values.mode === undefined) throw new UsageError("quantise: --mode f16|trunc12 is required; see 'srgan quantise --help'");
    const mode = choiceFlag("quantise", "mode", values.mode, QUANTISE_MODES)!;
    const options = upscalerOptions("quantise", values);
    const { graph, source } = await loadModel(input);
    const original = encodeNetwork(graph, { dtype: "f32" });
    const quantised = encodeQuantised(graph, mode);
    await writeBytesAtomic(output, quantised);
    const gz = (b: Uint8Array) => gzipSync(b, { level: 9 }).length;
    const pct = (a: number, b: number) => `${((100 * b) / a).toFixed(1)}%`;
    ctx.out(`${input}: ${source}`);
    ctx.out(`  f32 .srnet   ${formatBytes(original.length).padStart(10)}   gzipped ${formatBytes(gz(original)).padStart(10)}`);
    const qgz = gz(quantised);
    ctx.out(`  ${mode.padEnd(12)} ${formatBytes(quantised.length).padStart(10)}   gzipped ${formatBytes(qgz).padStart(10)}   (${pct(original.length, quantised.length)} raw, ${pct(gz(original), qgz)} gzipped) → ${output}`);
    if (values.image === undefined) return;
    const image = await readImage(values.image);
    await reportQuality(ctx, graph, decodeNetwork(quantised), image, options, values.image);
  },
};

async function reportQuality(ctx: Context, original: Graph, quantised: Graph, image: RgbaImage, options: UpscalerOptions, label: string): Promise<void> {
  const s = original.scale;
  const truth = cropToMultiple(image, s);
  const input = await downscale(truth, s, "bicubic");
  const results: number[] = [];
  const outputs: RgbaImage[] = [];
  for (const [name, model] of [["original", original], ["quantised", quantised]] as const) {
    // One upscaler at a time: each holds its own shared memory.
    const up = await createUpscaler({ ...options, model });
    try {
      const bar = progressBar(`upscale ${name}`, ctx.tty);
      try {
        outputs.push(await up.upscale(input, { signal: ctx.signal, onProgress: (p) => bar.update(p.fraction) }));
      } finally {
        bar.done();
      }
    } finally {
      await up.dispose();
    }
    results.push(await psnr(truth, outputs.at(-1)!, { y: true, shave: s }));
  }
  const db = (v: number) => (v === Infinity ? "inf" : `${v.toFixed(4)} dB`);
  const delta = results[1] - results[0];
  const agreement = await psnr(outputs[0], outputs[1], { y: true, shave: s });
  ctx.out(`${label} (${truth.width}×${truth.height}, input ÷${s} bicubic), PSNR-Y shave ${s}:`);
  ctx.out(`  original     ${db(results[0])}`);
  ctx.out(`  quantised    ${db(results[1])}   change ${Number.isFinite(delta) ? `${delta >= 0 ? "+" : ""}${delta.toFixed(4)} dB` : "n/a"}`);
  ctx.out(`  quantised vs original output: ${db(agreement)}`);
}
