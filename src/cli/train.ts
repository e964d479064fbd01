// SPDX-License-Identifier: MIT
// `srgan train`: the command-line face of train(). Parses flags, prints one progress line per log
// interval, writes the network (.srnet) at the end and a checkpoint along the way; Ctrl-C stops after
// the current step with a checkpoint to --resume from. Registered by src/cli/main.ts.
import { UsageError } from "../errors.js";
import { choiceFlag, intFlag, parse, threadsFlag, type Command } from "./args.js";
import { CONV_ALGORITHMS } from "../ops/op.js";
import { writeBytesAtomic } from "./io.js";
import { encodeNetwork } from "../model/formats/srnet.js";
import { ARCHS, deepenNetwork, macsPerPixel, resolveArch, widenNetwork } from "../train/arch.js";
import { LOSSES } from "../train/loss.js";
import { DEGRADATIONS } from "../train/data.js";
import { loadNetwork } from "../api/load-network.js";
import { train, type TrainOptions, type TrainProgress } from "../train/trainer.js";

const FLAGS = {
  data: { type: "string", short: "d" },
  out: { type: "string", short: "o" },
  scale: { type: "string", short: "s" },
  arch: { type: "string", short: "a" },
  init: { type: "string" },
  "add-layers": { type: "string" },
  widen: { type: "string" },
  steps: { type: "string", short: "n" },
  batch: { type: "string" },
  patch: { type: "string" },
  lr: { type: "string" },
  "min-lr": { type: "string" },
  warmup: { type: "string" },
  loss: { type: "string" },
  degradation: { type: "string" },
  "no-augment": { type: "boolean" },
  reparam: { type: "boolean" },
  "scale-augment": { type: "boolean" },
  "max-image-pixels": { type: "string" },
  seed: { type: "string" },
  threads: { type: "string", short: "t" },
  conv: { type: "string" },
  val: { type: "string" },
  "val-count": { type: "string" },
  "val-every": { type: "string" },
  "val-max-side": { type: "string" },
  checkpoint: { type: "string" },
  "checkpoint-every": { type: "string" },
  resume: { type: "string" },
  "log-every": { type: "string" },
  name: { type: "string" },
  f16: { type: "boolean" },
} as const;

/** A positive finite number flag. */
function numFlag(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0) throw new UsageError(`train: --${flag} must be a non-negative number, got '${value}'`);
  return n;
}

const duration = (s: number) => {
  if (!Number.isFinite(s)) return "?";
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h${String(m).padStart(2, "0")}m` : m > 0 ? `${m}m${String(Math.round(s % 60)).padStart(2, "0")}s` : `${s.toFixed(0)}s`;
};

/** One progress line: step, loss, learning rate, throughput, ETA (and validation / checkpoint when they happened). */
export function progressLine(p: TrainProgress): string {
  const width = String(p.steps).length;
  let line = `step ${String(p.step).padStart(width)}/${p.steps}  loss ${p.loss.toFixed(5)}  lr ${p.lr.toExponential(2)}  ${p.imagesPerSecond.toFixed(1)} img/s  ${(p.stepMs / 1000).toFixed(2)} s/step  elapsed ${duration(p.elapsedSeconds)}  ETA ${duration(p.etaSeconds)}`;
  if (p.valPsnr !== undefined) line += `  val ${p.valPsnr.toFixed(3)} dB`;
  if (p.checkpoint) line += `  [checkpoint ${p.checkpoint}]`;
  return line;
}

/** Turns `srgan train` flags into train() options (exported for tests and for callers with their own CLI). */
export function trainOptionsFromFlags(v: Partial<Record<keyof typeof FLAGS, string | boolean>>): TrainOptions & { out: string; f16: boolean } {
  const str = (k: keyof typeof FLAGS) => v[k] as string | undefined;
  if (!str("data")) throw new UsageError("train: --data DIR is required (a folder of PNG/JPEG images); see 'srgan train --help'");
  if (!str("out")) throw new UsageError("train: --out FILE is required (where the trained .srnet network goes)");
  if (!str("steps")) throw new UsageError("train: --steps N is required");
  if (str("arch") !== undefined) {
    try { resolveArch(str("arch")!); } catch (e) { throw new UsageError(`train: --arch: ${(e as Error).message.replace(/^arch /, "")}`); }
  }
  const out = str("out")!;
  const valCount = intFlag("train", "val-count", str("val-count"), 0, 1000);
  const valEvery = intFlag("train", "val-every", str("val-every"), 0, 1e9);
  const valMaxSide = intFlag("train", "val-max-side", str("val-max-side"), 8, 4096);
  return {
    data: str("data")!,
    out,
    f16: Boolean(v.f16),
    scale: intFlag("train", "scale", str("scale"), 1, 8),
    arch: str("arch"),
    name: str("name"),
    steps: intFlag("train", "steps", str("steps"), 1, 1e9)!,
    batchSize: intFlag("train", "batch", str("batch"), 1, 1024),
    patchSize: intFlag("train", "patch", str("patch"), 4, 1024),
    lr: numFlag("lr", str("lr")),
    minLr: numFlag("min-lr", str("min-lr")),
    warmupSteps: intFlag("train", "warmup", str("warmup"), 0, 1e9),
    loss: choiceFlag("train", "loss", str("loss"), LOSSES),
    degradation: choiceFlag("train", "degradation", str("degradation"), DEGRADATIONS),
    augment: v["no-augment"] ? false : undefined,
    scaleAugment: v["scale-augment"] ? true : undefined,
    reparam: v.reparam ? true : undefined,
    maxImagePixels: intFlag("train", "max-image-pixels", str("max-image-pixels"), 64, 2 ** 28),
    seed: intFlag("train", "seed", str("seed"), 0, 2 ** 32 - 1),
    threads: threadsFlag("train", str("threads")),
    convAlgorithm: choiceFlag("train", "conv", str("conv"), CONV_ALGORITHMS),
    validation: { data: str("val"), count: valCount, every: valEvery, maxSide: valMaxSide },
    checkpoint: str("checkpoint") ?? `${out}.ckpt`,
    checkpointEvery: intFlag("train", "checkpoint-every", str("checkpoint-every"), 1, 1e9),
    resume: str("resume"),
    logEvery: intFlag("train", "log-every", str("log-every"), 1, 1e9),
  };
}

export const command: Command = {
  help: `Usage: srgan train --data DIR --steps N --out FILE [options]

Trains a super-resolution network on the PNG/JPEG images in DIR: random HR patches, LR made by
antialiased bicubic downscaling (as 'srgan downscale'), flips and 90° rotations, L1 loss, Adam with a
warm-up + cosine learning-rate schedule, data-parallel on worker threads. The same seed gives the same
network whatever the thread count. A checkpoint is written every --checkpoint-every steps, at the end
and on Ctrl-C; --resume continues exactly where it stopped.

Options:
  -d, --data DIR            training images (required)
  -n, --steps N             total optimiser steps (required; with --resume, the new total)
  -o, --out FILE            trained network, .srnet (required)
  -s, --scale N             upscaling factor, 1–8 (default: 4)
  -a, --arch NAME           ${Object.keys(ARCHS).join(", ")}, or wWIDTHbBODY[-bicubic] such as w40b7
                            (default: natural; ${Object.entries(ARCHS).map(([n, a]) => `${n} ${Math.round(macsPerPixel(a, 4) / 1000)}k`).join(", ")} multiply-adds per LR pixel at ×4)
      --init FILE           start from this network's weights (.srnet; fine-tuning) instead of --arch
      --add-layers N        with --init: first insert N identity conv+PReLU layers after its body
      --widen W             with --init: then widen its body to W channels (the new channels start
                            unread, so training starts from the same outputs)
      --batch N             patches per step (default: 16)
      --patch N             LR patch side; HR is N·scale (default: 48)
      --lr X                peak learning rate (default: 5e-4)
      --min-lr X            end of the cosine (default: lr/100)
      --warmup N            linear warm-up steps (default: min(500, 2% of steps))
      --loss L              l1, charbonnier, l2 (the squared error PSNR measures) or l1-luma (L1 on
                            BT.601 luma, which PSNR-Y scores, + 0.5 × L1 on RGB) (default: l1)
      --degradation D       how LR is made from HR: bicubic or box (once per image), or real,
                            real-light or web (per patch: random blur, noise and JPEG; real-light
                            leans on JPEG with rarer, milder noise and blur; web adds sharpening,
                            4:2:0 chroma and double JPEG; docs/training.md) (default: bicubic)
      --no-augment          no flips/rotations
      --scale-augment       train also on copies of each photo shrunk to 3/4 and 1/2 (more
                            detail per pixel; docs/training.md)
      --reparam             train each 3×3 conv as 3×3 + 1×1 + 1×1→3×3 branches, folded into one
                            3×3 kernel (no cost at inference; docs/training.md)
      --max-image-pixels N  shrink larger training images first (default: 64000000)
      --seed N              initialisation and data order (default: 1)
  -t, --threads N|auto      worker threads; 0 = main thread only (default: auto)
      --conv ALGO           3×3 convolutions of the forward and input-gradient passes: winograd,
                            direct or auto (default: auto, as srgan upscale)
      --val DIR             validation images (default: the last min(4, n/10) of --data, held out)
      --val-count N         images of --data to hold out instead (0: none)
      --val-every N         validate every N steps, 0 = never (default: 500)
      --val-max-side N      centre-crop validation LR images to N (default: 128)
      --checkpoint FILE     checkpoint path (default: OUT.ckpt)
      --checkpoint-every N  (default: 1000)
      --resume FILE         continue from a checkpoint (its options win, except steps/threads/validation)
      --log-every N         progress line every N steps (default: 10)
      --name NAME           network name stored in the file (default: the architecture)
      --f16                 store the weights as float16 (half the size)
  -h, --help                show this help

Example:
  srgan train --data photos/ --scale 4 --arch natural-fast --steps 20000 --out natural-fast.srnet`,

  async run(argv, ctx) {
    const { values } = parse("train", argv, FLAGS, []);
    const { out, f16, ...opts } = trainOptionsFromFlags(values);
    for (const flag of ["add-layers", "widen"] as const) {
      if (values[flag] !== undefined && !values.init) throw new UsageError(`train: --${flag} needs --init FILE (the network to grow)`);
    }
    if (values.init !== undefined) {
      if (values.arch !== undefined) throw new UsageError("train: give --init FILE or --arch NAME, not both");
      const layers = intFlag("train", "add-layers", values["add-layers"] as string | undefined, 0, 64) ?? 0;
      const width = intFlag("train", "widen", values.widen as string | undefined, 1, 512);
      const init = await loadNetwork(values.init as string);
      const deep = layers > 0 ? deepenNetwork(init, layers) : init;
      opts.network = width !== undefined ? widenNetwork(deep, width, opts.seed) : deep;
      if (opts.name) opts.network.name = opts.name;
    }
    const result = await train({ ...opts, signal: ctx.signal, onProgress: (p) => ctx.err(progressLine(p)) }).catch((e: unknown) => {
      if ((e as { code?: string }).code === "ERR_ABORTED") ctx.err(`train: stopped; checkpoint in ${opts.checkpoint}; continue with --resume ${opts.checkpoint}`);
      throw e;
    });
    const bytes = encodeNetwork(result.graph, { dtype: f16 ? "f16" : "f32" });
    await writeBytesAtomic(out, bytes);
    ctx.out(`${out}: ${result.graph.name} ×${result.graph.scale}, ${result.step} steps, loss ${result.loss.toFixed(5)}` +
      `${result.valPsnr !== undefined ? `, validation ${result.valPsnr.toFixed(3)} dB (Y)` : ""}, ${(result.seconds / 3600).toFixed(2)} h on ${result.threads} threads (${result.wasmVariant})`);
  },
};
