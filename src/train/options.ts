// SPDX-License-Identifier: MIT
// train()'s options: their types and their checks (TypeError/RangeError naming the option). RunOptions
// are the settings that fix a run's trajectory, which a checkpoint stores and a resume takes from
// there; LoopOptions are the ones a resume may change (cadence, threads).
import type { Graph } from "../model/types.js";
import type { WasmVariantOption } from "../backends/wasm/module.js";
import type { ConvAlgorithm } from "../ops/op.js";
import { hardwareThreads } from "../platform/features.js";
import { archName, resolveArch, type ArchSpec } from "./arch.js";
import { ADAM_DEFAULTS, type AdamOptions } from "./optim.js";
import { DEFAULT_CHARBONNIER_EPS, LOSSES, type LossKind } from "./loss.js";
import type { HistoryEntry } from "./checkpoint.js";
import { DEFAULT_MAX_IMAGE_PIXELS, DEGRADATIONS, type Degradation, type ImageSource } from "./data.js";

export interface ValidationOptions {
  /** A folder (or images) to validate on; default: `count` images held out of the training data. */
  data?: string | ImageSource[];
  /** Images held out of the training data when `data` is not given. Default min(4, ⌊n/10⌋) (0 when every is 0). */
  count?: number;
  /** Validate every this many steps (and at the last). Default 500. 0: never. */
  every?: number;
  /** Centre-crop validation images to at most this LR side (bounds the time it takes). Default 128. */
  maxSide?: number;
}

export interface TrainOptions {
  /** Folder of PNG/JPEG high-resolution images, or the images themselves. */
  data: string | ImageSource[];
  /** Upscaling factor. Default 4. */
  scale?: number;
  /** Architecture name (natural, natural-fast, tiny, or wWbB…) or spec. Default 'natural'. Ignored with `network` or `resume`. */
  arch?: string | ArchSpec;
  /** Start from this network instead of a fresh one (fine-tuning); it must use trainable ops only. */
  network?: Graph;
  /** Name of the trained network. Default: the architecture's name. */
  name?: string;
  /** Total optimiser steps (a resumed run continues to this). */
  steps: number;
  /** Patches per step. Default 16. */
  batchSize?: number;
  /** LR patch side (the HR patch is patchSize·scale). Default 48. */
  patchSize?: number;
  /** Peak learning rate. Default 5e-4. */
  lr?: number;
  /** Floor of the cosine schedule. Default lr / 100. */
  minLr?: number;
  /** Linear warm-up steps. Default min(500, 2% of steps). */
  warmupSteps?: number;
  adam?: AdamOptions;
  /** Default 'l1'. */
  loss?: LossKind;
  charbonnierEps?: number;
  /** How LR images are made from HR. Default 'bicubic' (antialiased, as `srgan downscale`). */
  degradation?: Degradation;
  /** Random flips and 90° rotations. Default true. */
  augment?: boolean;
  /**
   * Train every k×k conv as parallel branches (k×k + 1×1 + 1×1-expand-then-k×k) folded into one
   * kernel for the forward pass and when saving (src/train/reparam.ts). Default false.
   */
  reparam?: boolean;
  /** Train also on copies of each photo shrunk to 3/4 and 1/2 (data.ts SCALE_AUGMENT). Default false. */
  scaleAugment?: boolean;
  /** Shrink HR images above this many pixels first (integer factor, bicubic). Default 64 000 000. */
  maxImagePixels?: number;
  /** Seeds initialisation and data. Default 1. */
  seed?: number;
  /** Worker threads (0: the calling thread only). Default: one per core. The result does not depend on it. */
  threads?: number | "auto";
  validation?: ValidationOptions;
  /** Write a checkpoint here every `checkpointEvery` steps, at the end, and when aborted. */
  checkpoint?: string;
  /** Default 1000. */
  checkpointEvery?: number;
  /** Continue from a checkpoint (path or bytes); its options and state replace the ones given, except steps, threads, validation and checkpoint. */
  resume?: string | Uint8Array;
  /** Call onProgress every this many steps. Default 10. */
  logEvery?: number;
  onProgress?: (p: TrainProgress) => void;
  /** Stops after the current step; the checkpoint (if any) is written, then AbortError is thrown. */
  signal?: AbortSignal;
  /** Shared memory size; default: what the run needs plus a margin. */
  memoryLimit?: number;
  /** Default 'auto' (relaxed SIMD where available: faster, and its own bits — record which ran). */
  wasmVariant?: WasmVariantOption;
  /** 3×3 kernels of the forward and input-gradient passes, as createUpscaler's convAlgorithm. Default 'auto'. */
  convAlgorithm?: ConvAlgorithm;
}

export interface TrainProgress {
  step: number;
  steps: number;
  /** Mean per-element loss over the steps since the last report. */
  loss: number;
  lr: number;
  imagesPerSecond: number;
  /** Mean wall time of a step over the last 20, ms. */
  stepMs: number;
  elapsedSeconds: number;
  etaSeconds: number;
  /** Mean validation PSNR (Y, shave = scale), dB, when validation ran at this step. */
  valPsnr?: number;
  /** Path of the checkpoint written at this step. */
  checkpoint?: string;
}

export interface TrainResult {
  /** The trained network (inference form, fused activations), with training provenance in meta. */
  graph: Graph;
  step: number;
  loss: number;
  valPsnr?: number;
  history: HistoryEntry[];
  /** Wall time of the training steps (this session and, when resumed, the earlier ones). */
  seconds: number;
  threads: number;
  wasmVariant: string;
}

/** The options that fix a run's trajectory (stored in checkpoints; a resume takes them from there). */
export interface RunOptions {
  scale: number; arch: string; batchSize: number; patchSize: number; lr: number; minLr: number; warmupSteps: number;
  adam: Required<AdamOptions>; loss: LossKind; charbonnierEps: number; degradation: Degradation; augment: boolean; reparam?: boolean;
  scaleAugment?: boolean; maxImagePixels: number; seed: number; steps: number; dataNames: string[]; valNames: string[];
}

export const posInt = (v: unknown, name: string, lo = 1, hi = 2 ** 31 - 1) => {
  if (!Number.isInteger(v) || (v as number) < lo || (v as number) > hi) throw new RangeError(`options.${name} must be an integer in [${lo}, ${hi}], got ${String(v)}`);
  return v as number;
};
const posNum = (v: unknown, name: string) => {
  if (typeof v !== "number" || !(v > 0) || !Number.isFinite(v)) throw new RangeError(`options.${name} must be a positive number, got ${String(v)}`);
  return v;
};

/** Checks a fresh run's options and fills in the defaults. */
export function resolveRun(o: TrainOptions, dataNames: string[], valNames: string[]): RunOptions {
  const steps = posInt(o.steps, "steps");
  const lr = posNum(o.lr ?? 5e-4, "lr");
  const minLr = o.minLr ?? lr / 100;
  if (typeof minLr !== "number" || minLr < 0 || minLr > lr) throw new RangeError(`options.minLr must be in [0, lr], got ${String(o.minLr)}`);
  const loss = o.loss ?? "l1";
  if (!(LOSSES as readonly string[]).includes(loss)) throw new RangeError(`options.loss must be one of ${LOSSES.join(", ")}, got '${String(loss)}'`);
  const degradation = o.degradation ?? "bicubic";
  if (!(DEGRADATIONS as readonly string[]).includes(degradation)) throw new RangeError(`options.degradation must be one of ${DEGRADATIONS.join(", ")}, got '${String(degradation)}'`);
  const adam = { ...ADAM_DEFAULTS, ...o.adam };
  if (!(adam.beta1 >= 0 && adam.beta1 < 1 && adam.beta2 >= 0 && adam.beta2 < 1 && adam.eps > 0 && adam.weightDecay >= 0)) throw new RangeError("options.adam: need 0 ≤ beta1, beta2 < 1, eps > 0, weightDecay ≥ 0");
  return {
    scale: posInt(o.scale ?? 4, "scale", 1, 8),
    arch: o.network ? `graph:${o.network.name}` : archName(resolveArch(o.arch ?? "natural")),
    batchSize: posInt(o.batchSize ?? 16, "batchSize", 1, 1024),
    patchSize: posInt(o.patchSize ?? 48, "patchSize", 4, 1024),
    lr, minLr,
    warmupSteps: posInt(o.warmupSteps ?? Math.min(500, Math.round(0.02 * steps)), "warmupSteps", 0),
    adam, loss,
    charbonnierEps: posNum(o.charbonnierEps ?? DEFAULT_CHARBONNIER_EPS, "charbonnierEps"),
    degradation,
    augment: o.augment ?? true,
    reparam: o.reparam ?? false,
    scaleAugment: o.scaleAugment ?? false,
    maxImagePixels: posInt(o.maxImagePixels ?? DEFAULT_MAX_IMAGE_PIXELS, "maxImagePixels", 64),
    seed: posInt(o.seed ?? 1, "seed", 0, 2 ** 32 - 1),
    steps, dataNames, valNames,
  };
}

/** How often a run validates, logs and checkpoints, and on how many threads. */
export interface LoopOptions {
  valEvery: number;
  valMaxSide: number;
  logEvery: number;
  checkpointEvery: number;
  threads: number;
}

export function resolveLoop(o: TrainOptions): LoopOptions {
  const val = o.validation ?? {};
  return {
    valEvery: posInt(val.every ?? 500, "validation.every", 0),
    valMaxSide: posInt(val.maxSide ?? 128, "validation.maxSide", 8),
    logEvery: posInt(o.logEvery ?? 10, "logEvery"),
    checkpointEvery: posInt(o.checkpointEvery ?? 1000, "checkpointEvery"),
    threads: o.threads === undefined || o.threads === "auto" ? hardwareThreads() : posInt(o.threads, "threads", 0, 64),
  };
}
