// SPDX-License-Identifier: MIT
// The public Upscaler: option checks, the network (with model 'auto' two of them, one picked per job by
// the input's format), and the choice of backend per job (WebGL when asked for and working, else wasm).
// Tiling, the tile queue, memory retries, progress and abort are the scheduler's
// (src/runtime/scheduler.ts); running a tile is the backends'.
import { checkImageSides, ContextLostError, shown, SrganError, throwIfAborted } from "../errors.js";
import type { WebglStats } from "../backends/webgl/index.js";
import type { GpuRunner } from "../backends/webgl/worker-host.js";
import { Engine } from "../runtime/engine.js";
import type { PoolStats } from "../runtime/counters.js";
import { checkOutputSize, upscaleInTiles, type UpscaledImage, type UpscaleOptions as JobOptions } from "../runtime/scheduler.js";
import { disposedError, WasmBackend } from "../runtime/wasm-backend.js";
import { prepareNetwork } from "../runtime/network.js";
import { DeferredRunner, InlineRunner, type TileRunner } from "../runtime/runner.js";
import type { Lease } from "../runtime/buffer-pool.js";
import { loadNetwork } from "./load-network.js";
import { alphaGraph, AUTO_MODEL, autoModel, DEFAULT_MODEL, DEFAULT_SCALE } from "../model/builtin.js";
import type { ValidatedGraph } from "../model/types.js";
import { checkRgbaImage, MAX_IMAGE_SIDE, type RgbaImage } from "../image/rgba.js";
import type { WasmVariantOption } from "../backends/wasm/module.js";
import type { ImageFormat } from "../image/codec.js";
import { resolveOptions, type ResolvedOptions, type UpscalerOptions } from "./options.js";
import { SelfEnsembleBackend } from "./tta.js";

export type { RgbaImage } from "../image/rgba.js";
export type { Progress } from "../runtime/scheduler.js";

export interface UpscaleOptions extends JobOptions {
  /**
   * The format of the file the pixels came from (readImageInfo(bytes).format). With model 'auto' it
   * picks the network: `natural-real` for 'jpeg', `natural` otherwise (also when left out).
   */
  format?: ImageFormat;
  /**
   * Self-ensemble: upscale the 8 flips/rotations of the image and average them before rounding
   * (src/api/tta.ts). About 8× the time for a small gain (docs/models.md measures it). Runs on wasm,
   * also on an upscaler whose backend is WebGL. Default false.
   */
  tta?: boolean;
}

export interface UpscalerInfo {
  /** The backend of the last job (before any job: the one the next job will try first). */
  backend: "wasm" | "webgl";
  /** The network of the last job (before any job: the default one; with model 'auto', `natural`). */
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
  // 'auto' holds both networks autoModel chooses from (one where the scale has no natural-real).
  const at = opts.scale ?? DEFAULT_SCALE;
  const names = opts.model === AUTO_MODEL ? [...new Set([autoModel("png", at), autoModel("jpeg", at)])] : [opts.model ?? DEFAULT_MODEL];
  const graphs = await Promise.all(names.map((name) => loadNetwork(name, { scale: opts.scale })));
  const engine = await Engine.create({ memoryLimit: opts.memoryLimit, wasmVariant: opts.wasmVariant as WasmVariantOption });
  const nets = graphs.map((g) => prepareNetwork(engine, g, { conv: opts.convAlgorithm }));
  const alphaNet = alphaGraph(graphs[0].scale);
  const alpha = prepareNetwork(engine, alphaNet);
  const gpus: Array<GpuRunner | null> = [];
  try {
    for (const g of graphs) gpus.push(opts.backend === "wasm" ? null : await createGpuRunner(g, alphaNet, opts));
  } catch (e) {
    for (const gpu of gpus) gpu?.dispose(); // browsers cap live GL contexts
    throw e;
  }
  const weights = [...nets.map((n) => n.weightsLease), alpha.weightsLease];
  const startRunner = async () => (opts.threads > 0 ? createWorkerRunner(engine, opts, weights) : new InlineRunner(engine));
  // On the GPU the wasm workers are only a fallback: start them when a job first needs them.
  const runner = gpus.some((g) => g) ? new DeferredRunner(startRunner) : await startRunner();
  const routes = nets.map((net, i) => ({ name: names[i], wasm: new WasmBackend(engine, net, alpha, runner, opts.tileSize), gpu: gpus[i] }));
  return new Upscaler(engine, runner, routes, weights, opts);
}

/** One network of an upscaler and the backends that run it. */
interface Route {
  /** What the model was asked for as (with 'auto': autoModel's name). */
  name: unknown;
  wasm: WasmBackend;
  gpu: GpuRunner | null;
}

// Loaded lazily so wasm-only bundles never include the WebGL backend. It runs in a worker where it can
// (the page stays responsive), else on this thread after a warning (src/backends/webgl/worker-host.ts).
async function createGpuRunner(graph: ValidatedGraph, alpha: ValidatedGraph, opts: ResolvedOptions): Promise<GpuRunner | null> {
  try {
    const { startGpuRunner } = await import("../backends/webgl/worker-host.js");
    return await startGpuRunner(graph, alpha, { tileSize: opts.tileSize, requireHardware: opts.backend === "auto" }, opts.onWarning);
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
  private lastBackend: "wasm" | "webgl";
  /** The route of the last job (before any job: the first, the default network). */
  private last: Route;

  /** @internal use createUpscaler() */
  constructor(
    private readonly engine: Engine,
    private readonly runner: TileRunner,
    private readonly routes: Route[],
    private readonly weights: Lease[],
    private readonly opts: Pick<ResolvedOptions, "backend" | "tileSize" | "memoryLimit">,
  ) {
    this.last = routes[0];
    this.lastBackend = this.last.gpu ? "webgl" : "wasm";
  }

  /** The network of the last job (see info().model). */
  get graph(): ValidatedGraph {
    return this.last.wasm.graph;
  }

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
      tileSize: this.opts.tileSize,
      receptiveRadius: this.graph.receptiveRadius,
      memoryLimit: this.opts.memoryLimit,
    };
  }

  /**
   * Pool accounting from the Atomics counters (weights included: they hold one lease each), and, when
   * the WebGL backend is in use, its texture pool's current/peak bytes under `webgl`.
   */
  stats(): PoolStats & { webgl?: WebglStats } {
    const s = this.engine.pool.stats();
    return this.last.gpu ? { ...s, webgl: this.last.gpu.stats() } : s;
  }

  /**
   * Upscales RGBA8 pixels by the network's scale. Alpha is resized separately (bicubic) and kept.
   * @example
   * const up = await createUpscaler({ model: "bicubic" });
   * const out = await up.upscale({ data, width, height }); // out.width === width * up.scale
   * @example
   * const up = await createUpscaler({ model: "auto" }); // natural-real for JPEG files, natural for the rest
   * const out = await up.upscale(decodeImage(bytes), { format: readImageInfo(bytes).format });
   */
  async upscale(image: RgbaImage, options: UpscaleOptions = {}): Promise<UpscaledImage> {
    if (this.disposed) throw disposedError();
    checkRgbaImage(image);
    const { signal, format, tta } = checkUpscaleOptions(options);
    throwIfAborted(signal);
    // Before either backend: an output no array can hold fails the same way on both.
    checkOutputSize(image.width, image.height, this.scale);
    const route = this.routes.length === 1 ? this.routes[0] : this.routes.find((r) => r.name === autoModel(format, this.scale))!;
    this.last = route;
    if (tta) {
      this.lastBackend = "wasm";
      return upscaleInTiles(new SelfEnsembleBackend(route.wasm), image, options);
    }
    if (route.gpu && !route.gpu.lost) {
      try {
        const out = await route.gpu.upscale(image, options);
        this.lastBackend = "webgl";
        return out;
      } catch (e) {
        // Context loss always falls back; with 'auto' so do GPU limits. The job reruns on wasm (progress
        // restarts at 0); later jobs return to WebGL once the browser restores the context.
        const fallback = e instanceof ContextLostError || (this.opts.backend === "auto" && e instanceof SrganError
          && (e.code === "ERR_UNSUPPORTED" || e.code === "ERR_OUT_OF_MEMORY" || e.code === "ERR_KERNEL"));
        if (!fallback) throw e;
      }
    }
    this.lastBackend = "wasm";
    return upscaleInTiles(route.wasm, image, options);
  }

  /**
   * Refuses a width×height input as upscale() would for its size (output over 2 GiB; for whole-image
   * networks, working memory beyond what the pool holds besides the weights), but before the caller
   * decodes or allocates anything.
   * @throws SrganError ERR_INVALID_INPUT, OutOfMemoryError
   */
  checkSize(width: number, height: number): void {
    checkImageSides("", width, height, MAX_IMAGE_SIDE);
    checkOutputSize(width, height, this.scale);
    for (const r of this.routes) r.wasm.checkWholeImage(width, height);
  }

  /** Starts a new peak window at the current usage (for measuring one job). */
  resetPeak(): void {
    this.engine.pool.resetPeak();
  }

  /** Releases the workers and the shared memory. The upscaler cannot be used afterwards. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    for (const r of this.routes) {
      r.gpu?.dispose();
      r.wasm.stop();
    }
    await this.runner.dispose();
    for (const lease of this.weights) this.engine.pool.release(lease);
  }
}

function checkUpscaleOptions(o: UpscaleOptions): UpscaleOptions {
  if (o === null || typeof o !== "object") throw new TypeError(`upscale(image, options): options must be an object, got ${shown(o)}`);
  const { signal, onProgress, format, tta } = o;
  const isSignal = typeof signal === "object" && signal !== null && typeof signal.aborted === "boolean" && typeof signal.addEventListener === "function";
  if (signal !== undefined && !isSignal) throw new TypeError(`options.signal must be an AbortSignal, got ${shown(signal)}`);
  if (onProgress !== undefined && typeof onProgress !== "function") throw new TypeError(`options.onProgress must be a function, got ${shown(onProgress)}`);
  if (format !== undefined && format !== "png" && format !== "jpeg") throw new TypeError(`options.format must be 'png' or 'jpeg', got ${shown(format)}`);
  if (tta !== undefined && typeof tta !== "boolean") throw new TypeError(`options.tta must be a boolean, got ${shown(tta)}`);
  return o;
}
