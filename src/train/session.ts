// SPDX-License-Identifier: MIT
// Everything a training run settles before its first step. planRun: the checkpoint it resumes, the
// training/validation split, the network and its program, the patch pairs. Session: the shared memory
// sized for that run, the gradient runner, and where each buffer of a step lives, leased once for the
// whole run. Node only (reads folders and checkpoints, runs piscina).
import { SrganError } from "../errors.js";
import type { Graph } from "../model/types.js";
import { Engine, MAX_MEMORY_BYTES } from "../runtime/engine.js";
import type { Lease } from "../runtime/buffer-pool.js";
import { paddedBytes } from "../runtime/align.js";
import type { WasmVariantOption } from "../backends/wasm/module.js";
import { readBytes } from "../platform/files.js";
import { buildNetwork } from "./arch.js";
import { compileProgram, packAll, packedLayout, planImage, type TrainPlan, type TrainProgram } from "./program.js";
import { centreCrop, jpegPair, makePairs, mixOf, PatchSampler, readSources, REAL_VAL_QUALITY, type ImageSource, type Pair } from "./data.js";
import { checkpointTrainingGraph, decodeCheckpoint, type Checkpoint } from "./checkpoint.js";
import { deriveSeed } from "./rng.js";
import { addBranches, BranchFolder } from "./reparam.js";
import { InlineGradRunner, type GradRunner } from "./grad-task.js";
import { posInt, resolveLoop, resolveRun, type LoopOptions, type RunOptions, type TrainOptions } from "./options.js";

/** A run ready to start: its settings, the checkpoint it continues, its network and its data. */
export interface RunPlan {
  run: RunOptions;
  loop: LoopOptions;
  resumed?: Checkpoint;
  /** The network as trained (with its training branches when run.reparam). */
  graph: Graph;
  prog: TrainProgram;
  sampler: PatchSampler;
  valPairs: Pair[];
}

export async function planRun(o: TrainOptions): Promise<RunPlan> {
  const resumed = o.resume === undefined ? undefined
    : decodeCheckpoint(o.resume instanceof Uint8Array ? o.resume : await readBytes(o.resume, "read checkpoint"));

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
  const loop = resolveLoop(o);

  const base = resumed ? checkpointTrainingGraph(resumed) : o.network ?? buildNetwork(o.arch ?? "natural", { scale: run.scale, seed: deriveSeed(run.seed, 0), name: o.name });
  // A resumed graph already carries its branches (and its run options the flag).
  const graph = run.reparam ? addBranches(base, deriveSeed(run.seed, 2)) : base;
  if (graph.scale !== run.scale) throw new RangeError(`options.scale is ${run.scale} but the network is ×${graph.scale}`);
  const prog = compileProgram(graph, { conv: o.convAlgorithm ?? "auto" });
  const pairs = await makePairs(trainSources, run.scale, run.degradation, run.maxImagePixels, run.scaleAugment);
  // Networks for real photos (a per-patch mix) are validated on the JPEG protocol (clean bicubic LR, then JPEG q75).
  const valPairs = (await makePairs(valSources, run.scale, run.degradation, run.maxImagePixels))
    .map((p) => centreCrop(p, run.scale, loop.valMaxSide)).map((p) => (mixOf(run.degradation) ? jpegPair(p, REAL_VAL_QUALITY) : p));
  const sampler = new PatchSampler(pairs, run.patchSize, run.scale, run.augment, run.degradation);
  return { run, loop, resumed, graph, prog, sampler, valPairs };
}

/** Where a step's data lives in the shared memory (pointers are byte offsets). */
export interface StepBuffers {
  /** Parameters, Adam's moments and the summed gradient, paramCount floats each. */
  p: number; m: number; v: number; g: number;
  /** The packed weights the kernels read, and where each node's arrays sit in them. */
  weights: Lease;
  offsets: Record<string, number>[];
  /** Per image of the batch: its own gradient. */
  gradPtrs: number[];
  /** Two sets of per-image LR + HR patches: the next batch is drawn into one while the workers read the other. */
  patchSets: { lrPtr: number; hrPtr: number }[][];
  /** One contiguous share [first, end) of the batch per thread (T round trips per step instead of B), each with its arena. */
  shares: [number, number][];
  arenas: Lease[];
  /** With training branches (reparam.ts): the folded parameters the weights are packed from, and the chain rule's scratch. */
  fold?: { folder: BranchFolder; effective: number; scratch: number };
}

/** The engine, the runner and the leased buffers of one training run. */
export class Session {
  private readonly leases: Lease[] = [];
  readonly buffers: StepBuffers;

  private constructor(readonly engine: Engine, readonly runner: GradRunner, readonly prog: TrainProgram, readonly imagePlan: TrainPlan,
    layout: { offsets: Record<string, number>[]; bytes: number }, run: RunOptions, folder: BranchFolder | undefined) {
    this.buffers = this.leaseBuffers(layout, run, folder);
  }

  static async open(plan: RunPlan, memoryLimit: number | undefined, variant: WasmVariantOption): Promise<Session> {
    const { prog, run } = plan;
    const threads = plan.loop.threads;
    const imagePlan = planImage(prog, run.patchSize, run.patchSize);
    const P = prog.spec.paramCount;
    // Packed sizes follow the shapes only, so zeros lay out what every step's weights will fill.
    const layout = packedLayout(packAll(prog, new Float32Array(P)));
    const n = run.patchSize * run.patchSize * 3;
    const folder = BranchFolder.of(prog.spec, plan.graph);
    const need = 16 * P + (folder ? 4 * (P + folder.scratchFloats()) : 0) + layout.bytes + run.batchSize * (4 * n * (1 + run.scale * run.scale) + 4 * P + 256) + Math.max(1, threads) * (imagePlan.arenaBytes + 65536);
    const limit = memoryLimit ?? Math.min(MAX_MEMORY_BYTES, Math.ceil(need * 1.25) + (64 << 20));
    const engine = await Engine.create({ memoryLimit: limit, wasmVariant: variant });
    const runner = threads > 0 ? (await import("./grad-pool.js")).GradPool.create(engine, threads) : new InlineGradRunner(engine);
    try {
      return new Session(engine, runner, prog, imagePlan, layout, run, folder);
    } catch (e) {
      await runner.dispose();
      throw e;
    }
  }

  private leaseBuffers(layout: { offsets: Record<string, number>[]; bytes: number }, run: RunOptions, folder: BranchFolder | undefined): StepBuffers {
    const P = this.prog.spec.paramCount, B = run.batchSize;
    const vecBytes = paddedBytes(4 * P);
    try {
      const state = this.lease(4 * vecBytes);
      const weights = this.lease(layout.bytes);
      const nLr = run.patchSize * run.patchSize * 3, nHr = nLr * run.scale * run.scale;
      const patchBytes = paddedBytes(4 * nLr) + paddedBytes(4 * nHr);
      const batch = this.lease(B * (2 * patchBytes + vecBytes));
      const T = this.runner.concurrency;
      const shares = Array.from({ length: T }, (_, c): [number, number] => [Math.floor((c * B) / T), Math.floor(((c + 1) * B) / T)]).filter(([a, b]) => b > a);
      return {
        p: state.ptr, m: state.ptr + vecBytes, v: state.ptr + 2 * vecBytes, g: state.ptr + 3 * vecBytes,
        weights, offsets: layout.offsets,
        gradPtrs: Array.from({ length: B }, (_, i) => batch.ptr + i * vecBytes),
        patchSets: [0, 1].map((set) => Array.from({ length: B }, (_, i) => {
          const lrPtr = batch.ptr + B * vecBytes + (set * B + i) * patchBytes;
          return { lrPtr, hrPtr: lrPtr + paddedBytes(4 * nLr) };
        })),
        shares,
        arenas: shares.map(() => this.lease(this.imagePlan.arenaBytes)),
        fold: folder && { folder, effective: this.lease(vecBytes).ptr, scratch: this.lease(4 * folder.scratchFloats() + 16).ptr },
      };
    } catch (e) {
      this.releaseAll();
      throw e;
    }
  }

  private lease(bytes: number): Lease {
    const l = this.engine.pool.lease(bytes);
    this.leases.push(l);
    return l;
  }

  private releaseAll(): void {
    for (const l of this.leases) this.engine.pool.release(l);
    this.leases.length = 0;
  }

  async close(): Promise<void> {
    await this.runner.dispose();
    this.releaseAll();
  }
}
