// SPDX-License-Identifier: MIT
// train(): the training loop. Each step draws a batch of patch pairs, packs the current weights into
// the shared memory, has the workers compute every image's gradient into that image's own slot, sums
// the slots in image order, and applies Adam with the scheduled learning rate. Because every image's
// gradient is computed alone and the sum runs in a fixed order, a seed gives bit-identical weights
// whatever the thread count, and a resumed checkpoint continues the exact trajectory. Node only
// (reads folders, writes checkpoints, runs piscina).
import { AbortError, IoError, SrganError, WorkerError } from "../errors.js";
import type { Graph, Weight } from "../model/graph.js";
import { validateGraph } from "../model/graph.js";
import { Engine, MAX_MEMORY_BYTES } from "../runtime/engine.js";
import type { Lease } from "../runtime/buffer-pool.js";
import { prepareNetwork } from "../runtime/network.js";
import { planExecution } from "../runtime/plan.js";
import { runPlanWasm } from "../runtime/executor.js";
import type { WasmVariantOption } from "../backends/wasm/module.js";
import type { ConvAlgorithm } from "../ops/op.js";
import type { RgbaImage } from "../api/upscaler.js";
import { psnr } from "../metrics/quality.js";
import { archName, buildNetwork, resolveArch, type ArchSpec } from "./arch.js";
import { compileProgram, flattenParams, graphWithParams, packAll, packedLayout, planImage, trainingHandle, type LossKind, type TrainProgram } from "./program.js";
import { adamStep, learningRate, ADAM_DEFAULTS, type AdamOptions, type Schedule } from "./optim.js";
import { DEFAULT_CHARBONNIER_EPS } from "./loss.js";
import { centreCrop, jpegPair, makePairs, REAL_VAL_QUALITY, PatchSampler, readSources, DEFAULT_MAX_IMAGE_PIXELS, type Degradation, type ImageSource, type Pair } from "./data.js";
import { checkpointGraph, decodeCheckpoint, encodeCheckpoint, type Checkpoint, type HistoryEntry } from "./checkpoint.js";
import { Rng, deriveSeed } from "./rng.js";
import { addBranches, BranchFolder } from "./reparam.js";
import { InlineGradRunner, type GradRunner } from "./grad-task.js";

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
interface RunOptions {
  scale: number; arch: string; batchSize: number; patchSize: number; lr: number; minLr: number; warmupSteps: number;
  adam: Required<AdamOptions>; loss: LossKind; charbonnierEps: number; degradation: Degradation; augment: boolean; reparam?: boolean;
  maxImagePixels: number; seed: number; steps: number; dataNames: string[]; valNames: string[];
}

const posInt = (v: unknown, name: string, lo = 1, hi = 2 ** 31 - 1) => {
  if (!Number.isInteger(v) || (v as number) < lo || (v as number) > hi) throw new RangeError(`options.${name} must be an integer in [${lo}, ${hi}], got ${String(v)}`);
  return v as number;
};
const posNum = (v: unknown, name: string) => {
  if (typeof v !== "number" || !(v > 0) || !Number.isFinite(v)) throw new RangeError(`options.${name} must be a positive number, got ${String(v)}`);
  return v;
};

function resolveRun(o: TrainOptions, dataNames: string[], valNames: string[]): RunOptions {
  const steps = posInt(o.steps, "steps");
  const lr = posNum(o.lr ?? 5e-4, "lr");
  const minLr = o.minLr ?? lr / 100;
  if (typeof minLr !== "number" || minLr < 0 || minLr > lr) throw new RangeError(`options.minLr must be in [0, lr], got ${String(o.minLr)}`);
  const loss = o.loss ?? "l1";
  if (loss !== "l1" && loss !== "charbonnier") throw new RangeError(`options.loss must be 'l1' or 'charbonnier', got '${String(loss)}'`);
  const degradation = o.degradation ?? "bicubic";
  if (!["bicubic", "box", "real"].includes(degradation)) throw new RangeError(`options.degradation must be 'bicubic', 'box' or 'real', got '${String(degradation)}'`);
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
    maxImagePixels: posInt(o.maxImagePixels ?? DEFAULT_MAX_IMAGE_PIXELS, "maxImagePixels", 64),
    seed: posInt(o.seed ?? 1, "seed", 0, 2 ** 32 - 1),
    steps, dataNames, valNames,
  };
}

async function defaultThreads(): Promise<number> {
  const os = await import("node:os");
  return Math.max(1, Math.min(64, os.availableParallelism?.() ?? os.cpus().length));
}

async function readBytes(src: string | Uint8Array, what: string): Promise<Uint8Array> {
  if (src instanceof Uint8Array) return src;
  const { readFile } = await import("node:fs/promises");
  try {
    return new Uint8Array(await readFile(src));
  } catch (cause) {
    throw new IoError(`cannot read ${what} '${src}': ${(cause as Error).message}`, { cause });
  }
}

/** Writes via a temporary file and a rename, so a crash never leaves half a checkpoint. */
async function writeAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const { writeFile, rename } = await import("node:fs/promises");
  try {
    await writeFile(`${path}.tmp`, bytes);
    await rename(`${path}.tmp`, path);
  } catch (cause) {
    throw new IoError(`cannot write '${path}': ${(cause as Error).message}`, { cause });
  }
}

/** The graph stored in a checkpoint, with its weights. */
const toRgba = (img: { data: Uint8Array; width: number; height: number }): RgbaImage => {
  const n = img.width * img.height, data = new Uint8ClampedArray(4 * n);
  for (let i = 0; i < n; i++) { data.set(img.data.subarray(3 * i, 3 * i + 3), 4 * i); data[4 * i + 3] = 255; }
  return { data, width: img.width, height: img.height };
};

/**
 * Trains a network. Resolves with the trained graph; save it with encodeNetwork() and run it with
 * createUpscaler({ model: graph }).
 * @example
 * const { graph } = await train({ data: "photos/", scale: 4, arch: "natural-fast", steps: 20000, checkpoint: "run.ckpt" });
 * await fs.writeFile("natural-fast.srnet", encodeNetwork(graph));
 */
export async function train(o: TrainOptions): Promise<TrainResult> {
  if (!o || typeof o !== "object") throw new TypeError("train(options): options must be an object");
  const resumed = o.resume !== undefined ? decodeCheckpoint(await readBytes(o.resume, "checkpoint")) : undefined;

  // Data: training images in name order; validation from its own folder or the last images held out.
  const all = typeof o.data === "string" ? await readSources(o.data) : o.data;
  if (!Array.isArray(all) || all.length === 0) throw new TypeError("options.data must be a folder path or a non-empty array of images");
  const valOpts = o.validation ?? {};
  let trainSources = all, valSources: ImageSource[] = [];
  if (valOpts.data !== undefined) valSources = typeof valOpts.data === "string" ? await readSources(valOpts.data) : valOpts.data;
  else {
    // With validation switched off (every: 0) nothing is held out unless asked.
    const count = valOpts.count ?? (valOpts.every === 0 ? 0 : Math.min(4, Math.floor(all.length / 10)));
    posInt(count, "validation.count", 0, all.length - 1);
    trainSources = all.slice(0, all.length - count);
    valSources = all.slice(all.length - count);
  }
  const dataNames = trainSources.map((s) => s.name), valNames = valSources.map((s) => s.name);
  // A resumed run keeps every option that shapes its trajectory; only the total steps may change.
  const run = resumed ? { ...(resumed.options as unknown as RunOptions), steps: posInt(o.steps, "steps"), valNames } : resolveRun(o, dataNames, valNames);
  if (resumed) {
    const was = (resumed.options as unknown as RunOptions).dataNames;
    if (was.join("\n") !== dataNames.join("\n")) throw new SrganError("ERR_INVALID_INPUT", `the checkpoint was trained on ${was.length} images (${was.slice(0, 3).join(", ")}…), not these ${run.dataNames.length}: resume with the same data (and validation split)`);
    if (resumed.step >= run.steps) throw new RangeError(`options.steps (${run.steps}) must exceed the checkpoint's step ${resumed.step}`);
  }
  const valEvery = posInt(valOpts.every ?? 500, "validation.every", 0);
  const valMaxSide = posInt(valOpts.maxSide ?? 128, "validation.maxSide", 8);
  const logEvery = posInt(o.logEvery ?? 10, "logEvery");
  const checkpointEvery = posInt(o.checkpointEvery ?? 1000, "checkpointEvery");
  const threads = o.threads === undefined || o.threads === "auto" ? await defaultThreads() : posInt(o.threads, "threads", 0, 64);

  const base = resumed ? checkpointGraph(resumed) : o.network ?? buildNetwork(o.arch ?? "natural", { scale: run.scale, seed: deriveSeed(run.seed, 0), name: o.name });
  // A resumed graph already carries its branches (and its run options the flag).
  const graph = run.reparam ? addBranches(base, deriveSeed(run.seed, 2)) : base;
  if (graph.scale !== run.scale) throw new RangeError(`options.scale is ${run.scale} but the network is ×${graph.scale}`);
  const prog = compileProgram(graph, { conv: o.convAlgorithm ?? "auto" });
  const pairs = await makePairs(trainSources, run.scale, run.degradation, run.maxImagePixels);
  // `real` networks are validated on the JPEG protocol (clean bicubic LR, then JPEG q75).
  const valPairs = (await makePairs(valSources, run.scale, run.degradation, run.maxImagePixels))
    .map((p) => centreCrop(p, run.scale, valMaxSide)).map((p) => (run.degradation === "real" ? jpegPair(p, REAL_VAL_QUALITY) : p));
  const sampler = new PatchSampler(pairs, run.patchSize, run.scale, run.augment, run.degradation);

  const session = await Session.open(prog, run, threads, o.memoryLimit, o.wasmVariant ?? "auto");
  try {
    return await session.loop(o, run, resumed, graph, sampler, valPairs, { valEvery, logEvery, checkpointEvery });
  } finally {
    await session.close();
  }
}

/** The engine, the leases and the runner of one training run. */
class Session {
  private readonly leases: Lease[] = [];
  private constructor(readonly engine: Engine, readonly runner: GradRunner, readonly prog: TrainProgram) {}

  static async open(prog: TrainProgram, run: RunOptions, threads: number, memoryLimit: number | undefined, variant: WasmVariantOption): Promise<Session> {
    const plan = planImage(prog, run.patchSize, run.patchSize);
    const P = prog.spec.paramCount;
    const layout = packedLayout(packAll(prog, new Float32Array(P)));
    const n = run.patchSize * run.patchSize * 3;
    const need = 16 * P + layout.bytes + run.batchSize * (4 * n * (1 + run.scale * run.scale) + 4 * P + 256) + Math.max(1, threads) * (plan.arenaBytes + 65536);
    const limit = memoryLimit ?? Math.min(MAX_MEMORY_BYTES, Math.ceil(need * 1.25) + (64 << 20));
    const engine = await Engine.create({ memoryLimit: limit, wasmVariant: variant });
    let runner: GradRunner;
    if (threads > 0) {
      const { GradPool } = await import("./grad-pool.js");
      runner = GradPool.create(engine, threads);
    } else runner = new InlineGradRunner(engine);
    return new Session(engine, runner, prog);
  }

  lease(bytes: number): Lease {
    const l = this.engine.pool.lease(bytes);
    this.leases.push(l);
    return l;
  }

  async close(): Promise<void> {
    await this.runner.dispose();
    for (const l of this.leases) this.engine.pool.release(l);
    this.leases.length = 0;
  }

  async loop(o: TrainOptions, run: RunOptions, resumed: Checkpoint | undefined, graph: Graph, sampler: PatchSampler, valPairs: Pair[],
    every: { valEvery: number; logEvery: number; checkpointEvery: number }): Promise<TrainResult> {
    const { engine, prog, runner } = this;
    const { spec } = prog;
    const k = engine.kernels;
    const P = spec.paramCount, B = run.batchSize, s = run.scale;
    const plan = planImage(prog, run.patchSize, run.patchSize);
    const align = (bytes: number) => Math.ceil((bytes + 16) / 64) * 64;

    // State: params, Adam's m and v, the summed gradient.
    const vecBytes = align(4 * P);
    const state = this.lease(4 * vecBytes);
    const ptr = { p: state.ptr, m: state.ptr + vecBytes, v: state.ptr + 2 * vecBytes, g: state.ptr + 3 * vecBytes };
    const params = engine.f32(ptr.p, P);
    if (resumed) {
      params.set(resumed.params);
      engine.f32(ptr.m, P).set(resumed.m);
      engine.f32(ptr.v, P).set(resumed.v);
    } else {
      flattenParams(spec, graph.weights, params);
      engine.f32(ptr.m, P).fill(0);
      engine.f32(ptr.v, P).fill(0);
    }
    // With training branches the kernels are packed from their folded sums (reparam.ts).
    const folder = BranchFolder.of(spec, graph);
    const folded = folder ? new Float32Array(P) : params;
    const packParams = () => { folder?.fold(params, folded); return packAll(prog, folded); };
    const layout = packedLayout(packParams());
    const weights = this.lease(layout.bytes);
    const handle = trainingHandle(spec, weights.ptr, layout.offsets);
    // Batch: per image its parameter gradient, and two sets of LR + HR patches: the next batch is
    // drawn into one while the workers read the other.
    const nLr = run.patchSize * run.patchSize * 3, nHr = nLr * s * s;
    const patchBytes = align(4 * nLr) + align(4 * nHr);
    const batch = this.lease(B * (2 * patchBytes + vecBytes));
    const gradPtrs = Array.from({ length: B }, (_, i) => batch.ptr + i * vecBytes);
    const patchSets = [0, 1].map((set) => Array.from({ length: B }, (_, i) => {
      const lrPtr = batch.ptr + B * vecBytes + (set * B + i) * patchBytes;
      return { lrPtr, hrPtr: lrPtr + align(4 * nLr) };
    }));
    // One contiguous share of the batch per thread: T round trips per step instead of B.
    const shares = Array.from({ length: runner.concurrency }, (_, c) => [Math.floor((c * B) / runner.concurrency), Math.floor(((c + 1) * B) / runner.concurrency)])
      .filter(([a, b]) => b > a);
    const arenas = shares.map(() => this.lease(plan.arenaBytes));

    const rng = new Rng(deriveSeed(run.seed, 1));
    if (resumed) rng.setState(resumed.rngState);
    const schedule: Schedule = { lr: run.lr, minLr: run.minLr, warmupSteps: run.warmupSteps, steps: run.steps };
    const history: HistoryEntry[] = resumed ? [...resumed.history] : [];
    let step = resumed?.step ?? 0;
    const priorMs = resumed?.elapsedMs ?? 0;
    const t0 = performance.now();
    const recent: number[] = [];
    let windowLoss = 0, windowSteps = 0, lastLoss = NaN, lastVal: number | undefined;

    // The generator's state after the draws of the completed steps: what a checkpoint stores (the
    // batch drawn ahead is drawn again, from that state, by a resumed run).
    let rngAtStep = rng.state;
    const snapshot = (): Checkpoint => ({
      step, rngState: rngAtStep, paramCount: P,
      graph: {
        name: graph.name, scale: graph.scale, channels: graph.channels, input: graph.input, output: graph.output, nodes: graph.nodes, meta: graph.meta,
        weights: Object.values(spec.params).map(({ name, shape, offset, length }) => ({ name, shape, offset, length })),
      },
      options: run as unknown as Record<string, unknown>,
      elapsedMs: priorMs + performance.now() - t0,
      history,
      params: params.slice(), m: engine.f32(ptr.m, P).slice(), v: engine.f32(ptr.v, P).slice(),
    });
    const saveCheckpoint = async (): Promise<string | undefined> => {
      if (!o.checkpoint) return undefined;
      await writeAtomic(o.checkpoint, encodeCheckpoint(snapshot()));
      return o.checkpoint;
    };

    const drawBatch = async (set: number): Promise<number> => {
      await sampler.drawBatch(rng, patchSets[set].map((slot) => ({ lr: engine.f32(slot.lrPtr, nLr), hr: engine.f32(slot.hrPtr, nHr) })));
      return rng.state;
    };
    let set = 0;
    let drawnState = await drawBatch(set);
    while (step < run.steps) {
      if (o.signal?.aborted) {
        await saveCheckpoint();
        throw new AbortError(o.signal.reason);
      }
      const ts = performance.now();
      step++;
      const arrays = packParams();
      arrays.forEach((a, i) => { for (const [role, arr] of Object.entries(a)) engine.f32(weights.ptr + layout.offsets[i][role], arr.length).set(arr); });

      const patches = patchSets[set];
      const lossScale = 1 / (B * nHr);
      const done = Promise.all(shares.map(([a, b], c) => {
        const task = {
          spec, handle, plan, arena: arenas[c],
          jobs: patches.slice(a, b).map((pt, j) => ({ ...pt, gradPtr: gradPtrs[a + j], arenaPtr: arenas[c].ptr, loss: run.loss, lossScale, eps: run.charbonnierEps })),
        };
        // A worker that died has been replaced and the share's inputs are untouched: run it once more
        // (the result is the same bits as a first run would have given).
        return runner.run(task).catch((e: unknown) => (e instanceof WorkerError ? runner.run(task) : Promise.reject(e)));
      }));
      // Draw the next batch while the workers run this one (same draws, same order as without overlap).
      const nextState = step < run.steps ? await drawBatch(1 - set) : drawnState;
      const losses = (await done).flatMap((d) => d.losses);
      rngAtStep = drawnState;
      drawnState = nextState;
      set = 1 - set;

      // Sum the images' gradients in image order: the same bits whatever thread computed which.
      engine.f32(ptr.g, P).set(engine.f32(gradPtrs[0], P));
      for (let i = 1; i < B; i++) k.add_f32(ptr.g, gradPtrs[i], ptr.g, 0, P);
      folder?.chain(params, engine.f32(ptr.g, P));
      const lr = learningRate(step, schedule);
      adamStep(k, ptr, P, step, lr, run.adam);

      let lossSum = 0;
      for (let i = 0; i < B; i++) lossSum += losses[i];
      lastLoss = lossSum / (B * nHr);
      if (!Number.isFinite(lastLoss)) throw new SrganError("ERR_KERNEL", `training diverged at step ${step} (loss ${lastLoss}); lower options.lr (now ${run.lr})`);
      windowLoss += lastLoss;
      windowSteps++;
      recent.push(performance.now() - ts);
      if (recent.length > 20) recent.shift();

      const last = step === run.steps;
      let valPsnr: number | undefined;
      if (valPairs.length > 0 && every.valEvery > 0 && (step % every.valEvery === 0 || last)) {
        valPsnr = lastVal = validate(engine, prog, params, valPairs, s);
      }
      let checkpoint: string | undefined;
      if (step % every.checkpointEvery === 0 || last) checkpoint = await saveCheckpoint();
      if (step % every.logEvery === 0 || last || valPsnr !== undefined) {
        const stepMs = recent.reduce((a, b) => a + b, 0) / recent.length;
        const entry: HistoryEntry = { step, loss: windowLoss / windowSteps, lr };
        if (valPsnr !== undefined) entry.valPsnr = valPsnr;
        history.push(entry);
        o.onProgress?.({
          step, steps: run.steps, loss: entry.loss, lr, imagesPerSecond: (1000 * B) / stepMs, stepMs,
          elapsedSeconds: (priorMs + performance.now() - t0) / 1000, etaSeconds: ((run.steps - step) * stepMs) / 1000, valPsnr, checkpoint,
        });
        windowLoss = 0;
        windowSteps = 0;
      }
    }

    const seconds = (priorMs + performance.now() - t0) / 1000;
    const trained = graphWithParams(prog, params, {
      training: {
        arch: run.arch, scale: s, steps: run.steps, batchSize: B, patchSize: run.patchSize, lr: run.lr, minLr: run.minLr, warmupSteps: run.warmupSteps,
        loss: run.loss, degradation: run.degradation, augment: run.augment, reparam: run.reparam, seed: run.seed, images: run.dataNames.length,
        finalLoss: lastLoss, valPsnr: lastVal, valImages: run.valNames, seconds: Math.round(seconds), wasmVariant: engine.shared.module.variant,
      },
    });
    return { graph: trained, step, loss: lastLoss, valPsnr: lastVal, history, seconds, threads: runner.concurrency, wasmVariant: engine.shared.module.variant };
  }
}

/**
 * Mean PSNR (BT.601 Y, `scale` pixels shaved, 8-bit output) of the current weights on the validation
 * pairs, through the inference path itself (fused activations, planExecution, runPlanWasm).
 */
export function validate(engine: Engine, prog: TrainProgram, params: Float32Array, pairs: Pair[], scale: number): number {
  const g = validateGraph(graphWithParams(prog, params));
  const net = prepareNetwork(engine, g);
  let sum = 0;
  try {
    for (const p of pairs) {
      const { width: w, height: h } = p.lr;
      const plan = planExecution(g, h, w);
      const outPixels = w * scale * h * scale;
      const lease = engine.pool.lease(plan.arenaBytes + 4 * Math.max(outPixels, w * h) + 64);
      try {
        // Bytes in and out through the colour kernels, exactly as an upscaler tile does.
        const rgbaPtr = lease.ptr + plan.arenaBytes;
        engine.u8(rgbaPtr, 4 * w * h).set(toRgba(p.lr).data);
        engine.kernels.rgba8_to_f32(rgbaPtr, lease.ptr + plan.input.offset, 0, 0, w * h);
        runPlanWasm(engine.kernels, net.handle, plan, lease.ptr);
        engine.kernels.f32_to_rgba8(lease.ptr + plan.output.offset, 0, rgbaPtr, 0, outPixels);
        const sr = { data: new Uint8ClampedArray(engine.u8(rgbaPtr, 4 * outPixels)), width: w * scale, height: h * scale };
        sum += psnr(toRgba(p.hr), sr, { y: true, shave: scale });
      } finally {
        engine.pool.release(lease);
      }
    }
  } finally {
    engine.pool.release(net.weightsLease);
  }
  return sum / pairs.length;
}

