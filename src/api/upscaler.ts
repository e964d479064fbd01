// SPDX-License-Identifier: MIT
// The public Upscaler: owns one engine (shared memory + pool), one prepared network, and a tile runner.
// upscale() plans tiles, keeps up to `concurrency` of them in flight, copies each tile's pixels into a
// lease from the shared pool and its result out again, and always returns the lease, even on failure
// or abort, so the pool's counters net to zero after every job.
import { AbortError, checkImageSides, ContextLostError, invalidInput, OutOfMemoryError, shown, SrganError, throwIfAborted, WorkerError } from "../errors.js";
import type { WebglRunner, WebglStats } from "../backends/webgl/index.js";
import { Engine } from "../runtime/engine.js";
import { prepareNetwork, type PreparedNetwork } from "../runtime/network.js";
import { planExecution, type ExecutionPlan } from "../runtime/plan.js";
import { planTiles, type Tile } from "../runtime/tiler.js";
import { DeferredRunner, InlineRunner, type TileRunner } from "../runtime/runner.js";
import type { Lease } from "../runtime/buffer-pool.js";
import { tileInput, tileOutput } from "../runtime/tile-task.js";
import { runPlanWasm, runStepWasm } from "../runtime/executor.js";
import { getOp } from "../ops/registry.js";
import type { TileTask, WorkerTask } from "../worker/protocol.js";
import type { PoolStats } from "../runtime/counters.js";
import { loadNetwork, type ModelSource } from "../model/load.js";
import { resizeGraph, DEFAULT_MODEL } from "../model/builtin.js";
import { validateGraph, type ValidatedGraph } from "../model/graph.js";
import type { WasmVariantOption } from "../backends/wasm/module.js";
import { resolveOptions, type Backend, type ResolvedOptions, type UpscalerOptions } from "./options.js";

/** RGBA8 pixels, row-major; compatible with ImageData. */
export interface RgbaImage {
  data: Uint8ClampedArray | Uint8Array;
  width: number;
  height: number;
}

export interface Progress {
  /** Finished fraction, 0..1. */
  fraction: number;
  tilesDone: number;
  tilesTotal: number;
  /** The tile just finished, in input pixels. */
  tile: { x: number; y: number; w: number; h: number };
}

export interface UpscaleOptions {
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
}

export interface UpscalerInfo {
  /** The backend of the last job (before any job: the one the next job will try first). */
  backend: "wasm" | "webgl";
  model: string;
  scale: number;
  parameters: number;
  wasmVariant: string;
  /** Threads the wasm backend runs tiles on; 0 with backend 'webgl'/'auto' on a GPU until a job falls back to wasm. */
  threads: number;
  tileSize: number;
  receptiveRadius: number;
  memoryLimit: number;
}

export async function createUpscaler(options: UpscalerOptions = {}): Promise<Upscaler> {
  const opts = resolveOptions(options);
  const graph = await loadNetwork(opts.model ?? DEFAULT_MODEL, { scale: opts.scale });
  const engine = await Engine.create({ memoryLimit: opts.memoryLimit, wasmVariant: opts.wasmVariant as WasmVariantOption });
  const net = prepareNetwork(engine, graph, { conv: opts.convAlgorithm });
  const alpha = prepareNetwork(engine, validateGraph(resizeGraph("bicubic", graph.scale, 1)));
  const gpu = opts.backend === "wasm" ? null : await createGpuRunner(graph, opts);
  const weights = [net.weightsLease, alpha.weightsLease];
  const startRunner = async () => (opts.threads > 0 ? createWorkerRunner(engine, opts, weights) : new InlineRunner(engine));
  // On the GPU the wasm workers are only a fallback: start them when a job first needs them.
  const runner = gpu ? new DeferredRunner(startRunner) : await startRunner();
  return new Upscaler(engine, runner, graph, net, alpha, opts.tileSize, opts.memoryLimit, gpu, opts.backend);
}

// Loaded lazily so wasm-only bundles never include the WebGL backend.
async function createGpuRunner(graph: ValidatedGraph, opts: ResolvedOptions): Promise<WebglRunner | null> {
  try {
    const { createWebglRunner } = await import("../backends/webgl/index.js");
    return await createWebglRunner(graph, { tileSize: opts.tileSize, requireHardware: opts.backend === "auto" });
  } catch (e) {
    if (opts.backend === "auto" && e instanceof SrganError && e.code === "ERR_UNSUPPORTED") return null; // no usable GPU: wasm
    throw e;
  }
}

// Loaded lazily so single-threaded use (and bundles without workers) never pull in the pool.
async function createWorkerRunner(engine: Engine, opts: ResolvedOptions, weights: Lease[]): Promise<TileRunner> {
  const { createPool } = await import("../platform/pool.js");
  return createPool(engine, opts.threads, { onWarning: opts.onWarning, weights });
}

export class Upscaler {
  private disposed = false;
  private readonly plans = new Map<string, { plan: ExecutionPlan; alphaPlan: ExecutionPlan }>();

  /** @internal use createUpscaler() */
  constructor(
    private readonly engine: Engine,
    private readonly runner: TileRunner,
    readonly graph: ValidatedGraph,
    private readonly net: PreparedNetwork,
    private readonly alphaNet: PreparedNetwork,
    private readonly tileSize: number,
    private readonly memoryLimit: number,
    private readonly gpu: WebglRunner | null = null,
    private readonly backendOption: Backend = "wasm",
  ) {
    this.lastBackend = gpu ? "webgl" : "wasm";
  }

  private lastBackend: "wasm" | "webgl";

  get scale(): number {
    return this.graph.scale;
  }

  info(): UpscalerInfo {
    return {
      backend: this.lastBackend,
      model: this.graph.name,
      scale: this.graph.scale,
      parameters: this.graph.parameterCount,
      wasmVariant: this.engine.shared.module.variant,
      threads: this.runner.concurrency,
      tileSize: this.tileSize,
      receptiveRadius: this.graph.receptiveRadius,
      memoryLimit: this.memoryLimit,
    };
  }

  /**
   * Pool accounting from the Atomics counters (weights included: they hold one lease), and, when the
   * WebGL backend is in use, its texture pool's current/peak bytes under `webgl`.
   */
  stats(): PoolStats & { webgl?: WebglStats } {
    const s = this.engine.pool.stats();
    return this.gpu ? { ...s, webgl: this.gpu.stats() } : s;
  }

  /**
   * Upscales RGBA8 pixels by the network's scale. Alpha is resized separately (bicubic) and kept.
   * @example
   * const up = await createUpscaler({ model: "bicubic" });
   * const out = await up.upscale({ data, width, height }); // out.width === width * up.scale
   */
  async upscale(image: RgbaImage, options: UpscaleOptions = {}): Promise<{ data: Uint8ClampedArray; width: number; height: number }> {
    if (this.disposed) throw disposedError();
    checkImage(image);
    const { signal, onProgress } = checkUpscaleOptions(options);
    throwIfAborted(signal);
    if (this.gpu && !this.gpu.lost) {
      try {
        const out = await this.gpu.upscale(image, options);
        this.lastBackend = "webgl";
        return out;
      } catch (e) {
        // Context loss always falls back; with 'auto' so do GPU limits. The job reruns on wasm (progress
        // restarts at 0); later jobs return to WebGL once the browser restores the context.
        const fallback = e instanceof ContextLostError || (this.backendOption === "auto" && e instanceof SrganError
          && (e.code === "ERR_UNSUPPORTED" || e.code === "ERR_OUT_OF_MEMORY" || e.code === "ERR_KERNEL"));
        if (!fallback) throw e;
      }
    }
    this.lastBackend = "wasm";
    if (this.runner instanceof DeferredRunner) await this.runner.ready();
    if (this.disposed) throw disposedError(true);
    const { width, height } = image;
    const s = this.graph.scale;
    this.checkSize(width, height);
    const out = new Uint8ClampedArray(width * s * height * s * 4);
    const hasAlpha = !isOpaque(image.data);
    const halo = Math.max(this.graph.receptiveRadius, hasAlpha ? this.alphaNet.graph.receptiveRadius : 0);
    const tileSize = this.fitTileSize(halo, hasAlpha);
    // Even cuts: the Winograd kernel's 2×2 grid then falls alike in tiles and the whole image.
    const tiles = planTiles(width, height, { tileSize, halo, minTiles: this.runner.concurrency, even: true });
    let done = 0;
    let failure: unknown;
    const queue = [...tiles];
    const inFlight = new Set<Promise<void>>();
    const runOne = async (tile: Tile, lease: Lease) => {
      try {
        // A whole-image network is one long tile: report each of its layers (tilesDone stays 0 until it ends).
        const onLayer = (f: number) => onProgress?.({ fraction: f, tilesDone: 0, tilesTotal: 1, tile: tile.core });
        await this.runTileJob(image, out, tile, lease, hasAlpha, signal, onLayer);
        done++;
        onProgress?.({ fraction: done / tiles.length, tilesDone: done, tilesTotal: tiles.length, tile: tile.core });
      } finally {
        this.engine.pool.release(lease);
      }
    };
    while (queue.length > 0 && failure === undefined) {
      if (signal?.aborted) { failure = new AbortError(signal.reason); break; }
      if (this.disposed) break;
      const tile = queue[0];
      let lease: Lease;
      try {
        lease = this.engine.pool.lease(this.tileBytes(tile, hasAlpha));
      } catch (e) {
        // Pool full while other tiles run: wait for one and retry; with nothing in flight it never fits.
        if (e instanceof OutOfMemoryError && inFlight.size > 0) { await Promise.race(inFlight); continue; }
        failure = e instanceof OutOfMemoryError && this.graph.global ? this.wholeImageOom(e.requestedBytes, e.availableBytes) : e;
        break;
      }
      queue.shift();
      const p: Promise<void> = runOne(tile, lease).catch((e) => { failure ??= e; }).finally(() => inFlight.delete(p));
      inFlight.add(p);
      if (inFlight.size >= this.runner.concurrency) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    // dispose() mid-job stops the workers under the running tiles: say so, not "a worker died".
    if (this.disposed) throw disposedError(true);
    if (failure !== undefined) throw failure;
    return { data: out, width: width * s, height: height * s };
  }

  /**
   * Refuses a width×height input as upscale() would for its size (output over 2 GiB; for whole-image
   * networks, working memory beyond what the pool holds besides the weights), but before the caller
   * decodes or allocates anything.
   * @throws SrganError ERR_INVALID_INPUT, OutOfMemoryError
   */
  checkSize(width: number, height: number): void {
    checkImageSides("", width, height, MAX_SIDE);
    const s = this.graph.scale;
    if (width * s * height * s * 4 > MAX_OUTPUT_BYTES) {
      throw invalidInput(`a ${width}×${height} input gives a ${width * s}×${height * s} output, over the ${MAX_OUTPUT_BYTES / 2 ** 30} GiB one RGBA array may hold here; upscale it in parts`);
    }
    if (!this.graph.global) return; // tiles shrink to fit the pool
    const whole = { x: 0, y: 0, w: width, h: height };
    const need = this.tileBytes({ core: whole, padded: whole, index: 0 }, false);
    // What the pool can ever give a job (all but the weights), not what is free now: another job's
    // lease is returned when it ends, and upscale() itself waits for it.
    const most = this.engine.pool.capacityBytes - this.net.weightsLease.bytes - this.alphaNet.weightsLease.bytes;
    if (need > most) throw this.wholeImageOom(need, most);
  }

  private wholeImageOom(requested: number, available: number): OutOfMemoryError {
    return new OutOfMemoryError(requested, available,
      `Network '${this.graph.name}' reads whole-image statistics, so the image cannot be tiled and every activation is image-sized: raise options.memoryLimit or upscale a smaller image.`);
  }

  /** Starts a new peak window at the current usage (for measuring one job). */
  resetPeak(): void {
    this.engine.pool.resetPeak();
  }

  /** Releases the workers and the shared memory. The upscaler cannot be used afterwards. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.gpu?.dispose();
    await this.runner.dispose();
    this.engine.pool.release(this.net.weightsLease);
    this.engine.pool.release(this.alphaNet.weightsLease);
  }

  /**
   * The largest tile side ≤ options.tileSize for which one tile per thread fits in the free pool, so
   * memory bounds the tile instead of failing the job. Global networks are one whole-image tile.
   */
  private fitTileSize(halo: number, hasAlpha: boolean): number {
    if (!Number.isFinite(halo)) return this.tileSize;
    const free = this.engine.pool.largestFreeRun() * 0.9;
    const fits = (t: number) => {
      const side = t + 2 * halo;
      return this.runner.concurrency * this.tileBytes({ core: { x: 0, y: 0, w: t, h: t }, padded: { x: 0, y: 0, w: side, h: side }, index: 0 }, hasAlpha) <= free;
    };
    if (fits(this.tileSize)) return this.tileSize;
    let lo = 8, hi = this.tileSize;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (fits(mid)) lo = mid; else hi = mid - 1;
    }
    return lo;
  }

  private plansFor(h: number, w: number) {
    const key = `${h}x${w}`;
    let p = this.plans.get(key);
    if (!p) {
      p = { plan: planExecution(this.graph, h, w), alphaPlan: planExecution(this.alphaNet.graph, h, w) };
      if (this.plans.size > 64) this.plans.clear();
      this.plans.set(key, p);
    }
    return p;
  }

  private tileBytes(tile: Tile, hasAlpha: boolean): number {
    const { w, h } = tile.padded;
    const { plan, alphaPlan } = this.plansFor(h, w);
    const s = this.graph.scale;
    return align(w * h * 4) + plan.arenaBytes + (hasAlpha ? alphaPlan.arenaBytes : 0) + align(tile.core.w * s * tile.core.h * s * 4);
  }

  private async runTileJob(image: RgbaImage, out: Uint8ClampedArray, tile: Tile, lease: Lease, hasAlpha: boolean, signal: AbortSignal | undefined, onLayer: (fraction: number) => void): Promise<void> {
    const { padded, core } = tile;
    const { plan, alphaPlan } = this.plansFor(padded.h, padded.w);
    const s = this.graph.scale;
    const rgbaPtr = lease.ptr;
    const arenaPtr = rgbaPtr + align(padded.w * padded.h * 4);
    const outPtr = arenaPtr + plan.arenaBytes + (hasAlpha ? alphaPlan.arenaBytes : 0);
    const mem = this.engine.u8(0, lease.ptr + lease.bytes);
    for (let row = 0; row < padded.h; row++) {
      const src = ((padded.y + row) * image.width + padded.x) * 4;
      mem.set(image.data.subarray(src, src + padded.w * 4), rgbaPtr + row * padded.w * 4);
    }
    const crop = { x: core.x - padded.x, y: core.y - padded.y, w: core.w, h: core.h };
    const task: TileTask = {
      kind: "tile",
      net: this.net.handle,
      alphaNet: hasAlpha ? this.alphaNet.handle : null,
      job: { rgbaPtr, width: padded.w, height: padded.h, arenaPtr, plan, alphaPlan: hasAlpha ? alphaPlan : null, crop, outPtr },
      lease,
    };
    if (this.graph.global) await this.runLayerMajor(task, signal, onLayer);
    else await this.runRetrying(task);
    const ow = image.width * s;
    const rowBytes = core.w * s * 4;
    const mem2 = this.engine.u8(0, lease.ptr + lease.bytes);
    for (let row = 0; row < core.h * s; row++) {
      out.set(mem2.subarray(outPtr + row * rowBytes, outPtr + (row + 1) * rowBytes), ((core.y * s + row) * ow + core.x * s) * 4);
    }
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

  /**
   * Networks with whole-image statistics run layer by layer over the whole image: each bandable step's
   * rows are split across the threads (on the calling thread with threads: 0, returning to the event
   * loop between steps), the rest (means, small dense layers) run here. Every output element is
   * computed exactly as in one pass, so the result does not depend on the thread count. The signal is
   * checked and progress reported between steps.
   */
  private async runLayerMajor(task: TileTask, signal: AbortSignal | undefined, onLayer: (fraction: number) => void): Promise<void> {
    const k = this.engine.kernels;
    const { job, net, lease } = task;
    const steps = job.plan.steps;
    tileInput(k, job);
    for (const [index, step] of steps.entries()) {
      throwIfAborted(signal);
      const h = step.output.shape.h;
      if (!getOp(net.nodes[step.nodeIndex].op)!.bandable) runStepWasm(k, net, step, job.arenaPtr, 0, h);
      else {
        const parts = Math.min(h, this.runner.concurrency);
        await Promise.all(Array.from({ length: parts }, (_, i) => this.runRetrying({
          kind: "band", net, step, arenaPtr: job.arenaPtr, lease,
          y0: Math.round((i * h) / parts), y1: Math.round(((i + 1) * h) / parts),
        })));
      }
      onLayer((index + 1) / (steps.length + 1)); // the finished tile reports 1
    }
    if (job.alphaPlan && task.alphaNet) runPlanWasm(k, task.alphaNet, job.alphaPlan, job.arenaPtr + job.plan.arenaBytes);
    tileOutput(k, net.scale, job);
  }
}

const align = (n: number) => Math.ceil(n / 64) * 64;

function isOpaque(data: Uint8Array | Uint8ClampedArray): boolean {
  for (let i = 3; i < data.length; i += 4) if (data[i] !== 255) return false;
  return true;
}

/** Largest input side the API accepts. */
export const MAX_SIDE = 65535;
/** Largest output: one Uint8ClampedArray (2 GiB keeps every engine's typed-array limit). */
const MAX_OUTPUT_BYTES = 2 ** 31;

function disposedError(duringJob = false): SrganError {
  return new SrganError("ERR_DISPOSED", duringJob
    ? "this upscaler was disposed while the job ran, so the job was stopped; dispose() only after the jobs you still need have settled"
    : "this upscaler was disposed; create a new one with createUpscaler()");
}

function checkUpscaleOptions(o: UpscaleOptions): UpscaleOptions {
  if (o === null || typeof o !== "object") throw new TypeError(`upscale(image, options): options must be an object, got ${shown(o)}`);
  const { signal, onProgress } = o;
  const isSignal = typeof signal === "object" && signal !== null && typeof signal.aborted === "boolean" && typeof signal.addEventListener === "function";
  if (signal !== undefined && !isSignal) throw new TypeError(`options.signal must be an AbortSignal, got ${shown(signal)}`);
  if (onProgress !== undefined && typeof onProgress !== "function") throw new TypeError(`options.onProgress must be a function, got ${shown(onProgress)}`);
  return o;
}

function checkImage(image: RgbaImage): void {
  if (!image || typeof image !== "object") throw new TypeError("image must be { data, width, height }");
  const { data, width, height } = image;
  if (!(data instanceof Uint8Array || data instanceof Uint8ClampedArray)) throw new TypeError("image.data must be a Uint8Array or Uint8ClampedArray of RGBA bytes");
  checkImageSides("", width, height, MAX_SIDE);
  if (data.length !== width * height * 4) throw invalidInput(`image.data has ${data.length} bytes; ${width}×${height} RGBA needs ${width * height * 4}`);
}
