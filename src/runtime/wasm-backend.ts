// SPDX-License-Identifier: MIT
// The wasm backend as the scheduler (./scheduler.ts) sees it: one engine (shared memory + pool), the
// network and the alpha resize packed into it, and a TileRunner (worker threads, or the calling
// thread). A tile's memory is one lease from the pool holding its padded RGBA8 input, the plans' arena
// and its RGBA8 output; pixels are copied in before the task and out after it.
import { OutOfMemoryError, SrganError, WorkerError } from "../errors.js";
import type { ValidatedGraph } from "../model/types.js";
import type { GivenTensors } from "../model/graph.js";
import type { RgbaImage } from "../image/rgba.js";
import { getOp } from "../ops/registry.js";
import type { WorkerTask } from "../worker/protocol.js";
import type { Lease } from "./buffer-pool.js";
import type { Engine } from "./engine.js";
import { runPlanWasm, runStepWasm } from "./executor.js";
import type { NetworkHandle, PreparedNetwork } from "./network.js";
import { planExecution, type ExecutionPlan } from "./plan.js";
import { paddedBytes } from "./align.js";
import { DeferredRunner, type TileRunner } from "./runner.js";
import { largestFitting, runLayerMajor, runTiles, tileGeometry, type ImageJob, type TileBackend, type TileGeometry, type UpscaleOptions } from "./scheduler.js";
import { copyRect } from "../image/border.js";
import { givenFloats, tileInput, type TileJob } from "./tile-task.js";
import { ownedWindow, planStages, stageHandle, type Stage } from "./stages.js";
import { maxPaddedSide, planTiles, type Tile } from "./tiler.js";

/**
 * What a tile runs: the whole network, or one stage of a network with whole-image statistics
 * (./stages.ts). `key` names it in the plan cache.
 */
interface TileNet {
  key: string;
  graph: ValidatedGraph;
  handle: NetworkHandle;
  given: GivenTensors;
  /** A statistic stage: where its output tensor lies (tiles sum their share of it instead of writing pixels). */
  statistic?: Stage["statistic"];
}

/** A job of a network with whole-image statistics run in stages: its last stage, the statistics given. */
interface StagedJob {
  net: TileNet;
  /** The statistics, each padded to 4 floats, in the last stage's plan.given order. */
  values: Float32Array;
}

export class WasmBackend implements TileBackend<Lease> {
  /** Even cuts: the Winograd kernel's 2×2 grid then falls alike in tiles and the whole image. */
  readonly geometry: TileGeometry;
  private disposed = false;
  private readonly plans = new Map<string, { plan: ExecutionPlan; alphaPlan: ExecutionPlan }>();
  private readonly whole: TileNet;
  private stageNets: TileNet[] | undefined;

  /**
   * `net` and `alphaNet` (the bicubic alpha resize) are packed into `engine`; `runner` may be a
   * DeferredRunner (threads started by the first job that needs them: a GPU upscaler's fallback).
   */
  constructor(
    readonly engine: Engine,
    readonly net: PreparedNetwork,
    readonly alphaNet: PreparedNetwork,
    private readonly runner: TileRunner,
    private readonly maxTileSize: number,
  ) {
    this.geometry = tileGeometry(net.graph, true);
    this.whole = { key: "whole", graph: net.graph, handle: net.handle, given: {} };
  }

  get graph(): ValidatedGraph {
    return this.net.graph;
  }

  get scale(): number {
    return this.net.graph.scale;
  }

  /** Threads tiles run on (0 until a deferred runner has started). */
  get concurrency(): number {
    return this.runner.concurrency;
  }

  async session<T>(job: () => Promise<T>): Promise<T> {
    if (this.runner instanceof DeferredRunner) await this.runner.ready();
    this.checkUsable();
    return job();
  }

  checkUsable(): void {
    if (this.disposed) throw disposedError(true);
  }

  halo(hasAlpha: boolean): number {
    return Math.max(this.graph.receptiveRadius, hasAlpha ? this.alphaNet.graph.receptiveRadius : 0);
  }

  /**
   * The largest tile side ≤ options.tileSize for which one tile per thread fits in the free pool, so
   * memory bounds the tile instead of failing the job. Whole-image networks that fit are one tile.
   */
  tileSize(width: number, height: number, halo: number, hasAlpha: boolean, job: ImageJob): number {
    if (!Number.isFinite(halo)) {
      this.checkWholeImage(width, height);
      return this.maxTileSize;
    }
    return this.fittingTileSize(this.netOf(job), width, height, halo, hasAlpha);
  }

  private fittingTileSize(net: TileNet, width: number, height: number, halo: number, hasAlpha: boolean): number {
    const free = this.engine.pool.largestFreeRun() * 0.9;
    return largestFitting(8, this.maxTileSize, (t) => {
      const opts = { ...this.geometry, tileSize: t, halo };
      const padded = { x: 0, y: 0, w: maxPaddedSide(width, opts), h: maxPaddedSide(height, opts) };
      return this.concurrency * this.tileBytes({ core: { x: 0, y: 0, w: t, h: t }, padded, index: 0 }, hasAlpha, 1, net) <= free;
    });
  }

  /** True when a whole-image network's working memory for one whole image fits what the pool can give a job. */
  private wholeImageFits(width: number, height: number): boolean {
    const [whole] = planTiles(width, height, { ...this.geometry, tileSize: Infinity, halo: Infinity });
    return this.tileBytes(whole, false, this.bandsOf({ bands: 1 }), this.whole) <= this.jobCapacity();
  }

  private jobCapacity(): number {
    return this.engine.pool.capacityBytes - this.net.weightsLease.bytes - this.alphaNet.weightsLease.bytes;
  }

  /**
   * For whole-image networks run as one tile: throws OutOfMemoryError when a width×height image's working
   * memory is more than the pool can ever give a job (all but the weights; what is free now does not
   * matter, as another job's lease is returned when it ends and the scheduler waits for it).
   */
  checkWholeImage(width: number, height: number): void {
    if (!this.graph.global || this.wholeImageFits(width, height)) return;
    const [whole] = planTiles(width, height, { ...this.geometry, tileSize: Infinity, halo: Infinity });
    throw this.wholeImageOom(this.tileBytes(whole, false, this.bandsOf({ bands: 1 }), this.whole), this.jobCapacity());
  }

  /**
   * Whole-image statistics of an image too large to hold whole: computed here stage by stage, each stage
   * tile by tile (./stages.ts); the job then runs the last stage, tileable, with them given. Undefined
   * when the network has none or the whole image fits (one whole-image pass is less arithmetic).
   */
  async statistics(image: RgbaImage, hasAlpha: boolean, options: UpscaleOptions): Promise<{ halo: number; stage: StagedJob; share: number } | undefined> {
    if (!this.graph.global || this.wholeImageFits(image.width, image.height)) return undefined;
    const nets = this.stageNets ??= planStages(this.graph).map((st, i) => ({
      key: `stage${i}`, graph: st.graph, handle: stageHandle(this.net.handle, this.graph, st), given: st.given, statistic: st.statistic,
    }));
    const values: number[] = [];
    const means = new Map<string, Float32Array>();
    const statisticStages = nets.slice(0, -1);
    // Progress: each stage about as long as the last one (a rough, honest split).
    const share = statisticStages.length / nets.length;
    for (const [i, net] of statisticStages.entries()) {
      const { channels, node } = net.statistic!;
      const halo = net.graph.receptiveRadius;
      const tiles = planTiles(image.width, image.height, { ...this.geometry, halo, tileSize: this.fittingTileSize(net, image.width, image.height, halo, false) });
      const sums = new Float64Array(channels);
      const perTile = tiles.map(() => new Float64Array(channels));
      let count = 0;
      await runTiles({
        concurrency: this.concurrency,
        acquire: (tile) => this.engine.pool.lease(this.tileBytes(tile, false, 1, net)),
        release: (lease) => this.engine.pool.release(lease),
        run: async (tile, lease) => {
          const tileJob = this.tileJob(net, tile, lease, false, image, givenValues(net, means));
          await this.runRetrying({ kind: "tile", net: net.handle, alphaNet: null, job: tileJob, lease });
          perTile[tile.index].set(this.engine.f64(tileJob.sum!.ptr, channels));
          count += tileJob.sum!.w * tileJob.sum!.h;
        },
        checkUsable: () => this.checkUsable(),
      }, tiles, {
        signal: options.signal,
        onProgress: (p) => options.onProgress?.({ ...p, fraction: (share * (i + p.fraction)) / statisticStages.length }),
      });
      // Added in tile order, so the statistic is the same whatever order the threads finished in.
      for (const t of perTile) for (let k = 0; k < channels; k++) sums[k] += t[k];
      means.set(this.graph.nodes[node].output, Float32Array.from(sums, (v) => v / count));
    }
    const last = nets.at(-1)!;
    for (const v of givenValues(last, means)) values.push(v);
    const halo = Math.max(last.graph.receptiveRadius, hasAlpha ? this.alphaNet.graph.receptiveRadius : 0);
    return { halo, stage: { net: last, values: Float32Array.from(values) }, share };
  }

  acquire(job: ImageJob, tile: Tile): Lease {
    try {
      return this.engine.pool.lease(this.tileBytes(tile, job.hasAlpha, this.bandsOf(job), this.netOf(job)));
    } catch (e) {
      // A whole-image network is one tile: no other tile will free memory for it, so say why it is this large.
      if (e instanceof OutOfMemoryError && this.netOf(job).graph.global) throw this.wholeImageOom(e.requestedBytes, e.availableBytes);
      throw e;
    }
  }

  release(lease: Lease): void {
    this.engine.pool.release(lease);
  }

  async runTile(job: ImageJob, tile: Tile, lease: Lease, onLayer: (fraction: number) => void): Promise<void> {
    const { image, out, hasAlpha } = job;
    const { core } = tile;
    const net = this.netOf(job);
    const bands = this.bandsOf(job);
    const tileJob = this.tileJob(net, tile, lease, hasAlpha, image, (job.stage as StagedJob | undefined)?.values, bands);
    const s = this.scale;
    const handle = net.handle;
    if (bands === 1 && !net.graph.global) await this.runRetrying({ kind: "tile", net: handle, alphaNet: hasAlpha ? this.alphaNet.handle : null, job: tileJob, lease });
    else {
      // Layer-major: bands of each step on the threads, the rest here (./scheduler.ts runLayerMajor).
      const k = this.engine.kernels;
      const { plan, arenaPtr } = tileJob;
      tileInput(k, tileJob);
      await runLayerMajor(plan.steps, {
        rows: (step) => step.output.shape.h,
        bandable: (step) => getOp(handle.nodes[step.nodeIndex].op)!.bandable === true,
        parts: bands,
        runWhole: (step) => runStepWasm(k, handle, step, arenaPtr, 0, step.output.shape.h),
        runBand: (step, y0, y1, band) => this.runRetrying({ kind: "band", node: handle.nodes[step.nodeIndex], packed: handle.packed[step.nodeIndex], step, arenaPtr, lease, y0, y1, band }),
        signal: job.signal,
        onLayer,
      });
      if (tileJob.alphaPlan) runPlanWasm(k, this.alphaNet.handle, tileJob.alphaPlan, arenaPtr + plan.arenaBytes);
      // The RGBA8 conversion of the output is banded too: on one thread it was the largest serial part.
      const rows = core.h * s;
      const parts = Math.min(rows, bands);
      await Promise.all(Array.from({ length: parts }, (_, i) =>
        this.runRetrying({ kind: "output", job: tileJob, scale: s, y0: Math.round((i * rows) / parts), y1: Math.round(((i + 1) * rows) / parts), lease })));
    }
    if (job.floatOut) {
      const { plan, arenaPtr, crop, shrink } = tileJob;
      const outW = plan.output.shape.w, cw = core.w * s;
      const rgb = this.engine.f32(arenaPtr + plan.output.offset, plan.output.shape.h * outW * 3);
      for (let row = 0; row < core.h * s; row++) {
        const src = (((crop.y - shrink) * s + row) * outW + (crop.x - shrink) * s) * 3;
        job.floatOut.set(rgb.subarray(src, src + cw * 3), row * cw * 3);
      }
    }
    const ow = image.width * s;
    const rowBytes = core.w * s * 4;
    const mem = this.engine.u8(0, lease.ptr + lease.bytes);
    for (let row = 0; row < core.h * s; row++) {
      out.set(mem.subarray(tileJob.outPtr + row * rowBytes, tileJob.outPtr + (row + 1) * rowBytes), ((core.y * s + row) * ow + core.x * s) * 4);
    }
  }

  /**
   * Marks the backend disposed: jobs still running fail with ERR_DISPOSED. The threads, the weights
   * and the engine are the upscaler's to end (its networks share them).
   */
  stop(): void {
    this.disposed = true;
  }

  /**
   * Lays a tile out in its lease — [RGBA8 input | given statistics | arena (+ alpha arena) | output or
   * sums] — and copies its pixels (and the statistics) in.
   */
  private tileJob(net: TileNet, tile: Tile, lease: Lease, hasAlpha: boolean, image: RgbaImage, given: ArrayLike<number> | undefined, bands = 1): TileJob {
    const { padded, core } = tile;
    const { plan, alphaPlan } = this.plansFor(net, padded.h, padded.w, bands);
    const rgbaPtr = lease.ptr;
    const givenPtr = rgbaPtr + paddedBytes(padded.w * padded.h * 4);
    const arenaPtr = givenPtr + paddedBytes(givenFloats(plan) * 4);
    const outPtr = arenaPtr + plan.arenaBytes + (hasAlpha ? alphaPlan.arenaBytes : 0);
    copyRect(image, padded.x, padded.y, padded.w, padded.h, this.graph.inputPad?.mode ?? "zero", this.engine.u8(0, lease.ptr + lease.bytes), rgbaPtr);
    if (given?.length) this.engine.f32(givenPtr, given.length).set(given);
    const crop = { x: core.x - padded.x, y: core.y - padded.y, w: core.w, h: core.h };
    const { statistic } = net;
    const sum = statistic && { ...ownedWindow(tile, image, statistic, plan.output.shape.w, plan.output.shape.h), ptr: outPtr };
    return { rgbaPtr, width: padded.w, height: padded.h, arenaPtr, plan, alphaPlan: hasAlpha ? alphaPlan : null, crop, shrink: this.graph.shrink, givenPtr: given?.length ? givenPtr : 0, sum, outPtr };
  }

  /** A worker that died is replaced by the pool; the task's inputs are untouched, so run it once more. */
  private async runRetrying(task: WorkerTask): Promise<void> {
    try {
      await this.runner.run(task);
    } catch (e) {
      if (!(e instanceof WorkerError)) throw e;
      await this.runner.run(task);
    }
  }

  private wholeImageOom(requested: number, available: number): OutOfMemoryError {
    return new OutOfMemoryError(requested, available,
      `Network '${this.graph.name}' reads whole-image statistics, so the image cannot be tiled and every activation is image-sized: raise options.memoryLimit or upscale a smaller image.`);
  }

  /** The network a job's tiles run: the whole one, or the last stage of a staged job. */
  private netOf(job: { stage?: unknown } | undefined): TileNet {
    return (job?.stage as StagedJob | undefined)?.net ?? this.whole;
  }

  /**
   * Threads on each of the job's tiles: all of them for whole-image networks (one tile, layer-major),
   * else as the scheduler planned.
   */
  private bandsOf(job: { bands: number; stage?: unknown }): number {
    return this.netOf(job).graph.global ? Math.max(1, this.concurrency) : job.bands;
  }

  /** Plans for an h×w tile of `net` run as `bands` concurrent row bands (each band has its own op scratch). */
  private plansFor(net: TileNet, h: number, w: number, bands: number) {
    const key = `${net.key}:${h}x${w}x${bands}`;
    let p = this.plans.get(key);
    if (!p) {
      p = { plan: planExecution(net.graph, h, w, bands, net.given), alphaPlan: planExecution(this.alphaNet.graph, h, w) };
      if (this.plans.size > 64) this.plans.clear();
      this.plans.set(key, p);
    }
    return p;
  }

  /** Pool bytes one tile's run leases (its RGBA8 input, the statistics, the plans' arena, its output). */
  tileBytes(tile: Tile, hasAlpha: boolean, bands = 1, net: TileNet = this.whole): number {
    const { w, h } = tile.padded;
    const { plan, alphaPlan } = this.plansFor(net, h, w, bands);
    const out = net.statistic ? net.statistic.channels * 16 : tile.core.w * this.scale * tile.core.h * this.scale * 4;
    return paddedBytes(w * h * 4) + paddedBytes(givenFloats(plan) * 4) + plan.arenaBytes + (hasAlpha ? alphaPlan.arenaBytes : 0) + paddedBytes(out);
  }
}

/** A stage's given statistics as the tile layout wants them: plan.given's order, each padded to 4 floats. */
function givenValues(net: TileNet, means: ReadonlyMap<string, Float32Array>): number[] {
  return Object.keys(net.given).flatMap((t) => {
    const v = means.get(t)!;
    return [...v, ...new Array((4 - (v.length % 4)) % 4).fill(0)];
  });
}

export function disposedError(duringJob = false): SrganError {
  return new SrganError("ERR_DISPOSED", duringJob
    ? "this upscaler was disposed while the job ran, so the job was stopped; dispose() only after the jobs you still need have settled"
    : "this upscaler was disposed; create a new one with createUpscaler()");
}
