// SPDX-License-Identifier: MIT
// The wasm backend as the scheduler (./scheduler.ts) sees it: one engine (shared memory + pool), the
// network and the alpha resize packed into it, and a TileRunner (worker threads, or the calling
// thread). A tile's memory is one lease from the pool holding its padded RGBA8 input, the plans' arena
// and its RGBA8 output; pixels are copied in before the task and out after it.
import { OutOfMemoryError, SrganError, WorkerError } from "../errors.js";
import type { ValidatedGraph } from "../model/types.js";
import { getOp } from "../ops/registry.js";
import type { WorkerTask } from "../worker/protocol.js";
import type { Lease } from "./buffer-pool.js";
import type { Engine } from "./engine.js";
import { runPlanWasm, runStepWasm } from "./executor.js";
import type { PreparedNetwork } from "./network.js";
import { planExecution, type ExecutionPlan } from "./plan.js";
import { paddedBytes } from "./align.js";
import { DeferredRunner, type TileRunner } from "./runner.js";
import { largestFitting, runLayerMajor, type ImageJob, type TileBackend } from "./scheduler.js";
import { tileInput } from "./tile-task.js";
import type { Tile } from "./tiler.js";

export class WasmBackend implements TileBackend<Lease> {
  /** Even cuts: the Winograd kernel's 2×2 grid then falls alike in tiles and the whole image. */
  readonly evenTiles = true;
  private disposed = false;
  private readonly plans = new Map<string, { plan: ExecutionPlan; alphaPlan: ExecutionPlan }>();

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
  ) {}

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
   * memory bounds the tile instead of failing the job. Global networks are one whole-image tile, which
   * must fit the pool.
   */
  tileSize(width: number, height: number, halo: number, hasAlpha: boolean): number {
    if (!Number.isFinite(halo)) {
      this.checkWholeImage(width, height);
      return this.maxTileSize;
    }
    const free = this.engine.pool.largestFreeRun() * 0.9;
    return largestFitting(8, this.maxTileSize, (t) => {
      const side = t + 2 * halo;
      return this.concurrency * this.tileBytes({ core: { x: 0, y: 0, w: t, h: t }, padded: { x: 0, y: 0, w: side, h: side }, index: 0 }, hasAlpha) <= free;
    });
  }

  /**
   * For whole-image networks: throws OutOfMemoryError when a width×height image's working memory is
   * more than the pool can ever give a job (all but the weights; what is free now does not matter, as
   * another job's lease is returned when it ends and the scheduler waits for it).
   */
  checkWholeImage(width: number, height: number): void {
    if (!this.graph.global) return; // tiles shrink to fit the pool
    const whole = { x: 0, y: 0, w: width, h: height };
    const need = this.tileBytes({ core: whole, padded: whole, index: 0 }, false, this.bandsOf({ bands: 1 }));
    const most = this.engine.pool.capacityBytes - this.net.weightsLease.bytes - this.alphaNet.weightsLease.bytes;
    if (need > most) throw this.wholeImageOom(need, most);
  }

  acquire(job: ImageJob, tile: Tile): Lease {
    try {
      return this.engine.pool.lease(this.tileBytes(tile, job.hasAlpha, this.bandsOf(job)));
    } catch (e) {
      // A whole-image network is one tile: no other tile will free memory for it, so say why it is this large.
      if (e instanceof OutOfMemoryError && this.graph.global) throw this.wholeImageOom(e.requestedBytes, e.availableBytes);
      throw e;
    }
  }

  release(lease: Lease): void {
    this.engine.pool.release(lease);
  }

  async runTile(job: ImageJob, tile: Tile, lease: Lease, onLayer: (fraction: number) => void): Promise<void> {
    const { image, out, hasAlpha } = job;
    const { padded, core } = tile;
    const bands = this.bandsOf(job);
    const { plan, alphaPlan } = this.plansFor(padded.h, padded.w, bands);
    const s = this.scale;
    const rgbaPtr = lease.ptr;
    const arenaPtr = rgbaPtr + paddedBytes(padded.w * padded.h * 4);
    const outPtr = arenaPtr + plan.arenaBytes + (hasAlpha ? alphaPlan.arenaBytes : 0);
    const mem = this.engine.u8(0, lease.ptr + lease.bytes);
    for (let row = 0; row < padded.h; row++) {
      const src = ((padded.y + row) * image.width + padded.x) * 4;
      mem.set(image.data.subarray(src, src + padded.w * 4), rgbaPtr + row * padded.w * 4);
    }
    const crop = { x: core.x - padded.x, y: core.y - padded.y, w: core.w, h: core.h };
    const tileJob = { rgbaPtr, width: padded.w, height: padded.h, arenaPtr, plan, alphaPlan: hasAlpha ? alphaPlan : null, crop, outPtr };
    const net = this.net.handle;
    if (bands === 1 && !this.graph.global) await this.runRetrying({ kind: "tile", net, alphaNet: hasAlpha ? this.alphaNet.handle : null, job: tileJob, lease });
    else {
      // Layer-major: bands of each step on the threads, the rest here (./scheduler.ts runLayerMajor).
      const k = this.engine.kernels;
      tileInput(k, tileJob);
      await runLayerMajor(plan.steps, {
        rows: (step) => step.output.shape.h,
        bandable: (step) => getOp(net.nodes[step.nodeIndex].op)!.bandable === true,
        parts: bands,
        runWhole: (step) => runStepWasm(k, net, step, arenaPtr, 0, step.output.shape.h),
        runBand: (step, y0, y1, band) => this.runRetrying({ kind: "band", node: net.nodes[step.nodeIndex], packed: net.packed[step.nodeIndex], step, arenaPtr, lease, y0, y1, band }),
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
      const outW = plan.output.shape.w, cw = core.w * s;
      const rgb = this.engine.f32(arenaPtr + plan.output.offset, plan.output.shape.h * outW * 3);
      for (let row = 0; row < core.h * s; row++) {
        const src = ((crop.y * s + row) * outW + crop.x * s) * 3;
        job.floatOut.set(rgb.subarray(src, src + cw * 3), row * cw * 3);
      }
    }
    const ow = image.width * s;
    const rowBytes = core.w * s * 4;
    const mem2 = this.engine.u8(0, lease.ptr + lease.bytes);
    for (let row = 0; row < core.h * s; row++) {
      out.set(mem2.subarray(outPtr + row * rowBytes, outPtr + (row + 1) * rowBytes), ((core.y * s + row) * ow + core.x * s) * 4);
    }
  }

  /**
   * Marks the backend disposed: jobs still running fail with ERR_DISPOSED. The threads, the weights
   * and the engine are the upscaler's to end (its networks share them).
   */
  stop(): void {
    this.disposed = true;
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

  /**
   * Threads on each of the job's tiles: all of them for whole-image networks (one tile, layer-major),
   * else as the scheduler planned.
   */
  private bandsOf(job: { bands: number }): number {
    return this.graph.global ? Math.max(1, this.concurrency) : job.bands;
  }

  /** Plans for an h×w tile run as `bands` concurrent row bands (each band has its own op scratch). */
  private plansFor(h: number, w: number, bands: number) {
    const key = `${h}x${w}x${bands}`;
    let p = this.plans.get(key);
    if (!p) {
      p = { plan: planExecution(this.graph, h, w, bands), alphaPlan: planExecution(this.alphaNet.graph, h, w) };
      if (this.plans.size > 64) this.plans.clear();
      this.plans.set(key, p);
    }
    return p;
  }

  /** Pool bytes one tile's run leases (its RGBA8 input, the plans' arena, its RGBA8 output). */
  tileBytes(tile: Tile, hasAlpha: boolean, bands = 1): number {
    const { w, h } = tile.padded;
    const { plan, alphaPlan } = this.plansFor(h, w, bands);
    return paddedBytes(w * h * 4) + plan.arenaBytes + (hasAlpha ? alphaPlan.arenaBytes : 0) + paddedBytes(tile.core.w * this.scale * tile.core.h * this.scale * 4);
  }
}

export function disposedError(duringJob = false): SrganError {
  return new SrganError("ERR_DISPOSED", duringJob
    ? "this upscaler was disposed while the job ran, so the job was stopped; dispose() only after the jobs you still need have settled"
    : "this upscaler was disposed; create a new one with createUpscaler()");
}
