// SPDX-License-Identifier: MIT
// The tile scheduler every backend runs under. It owns what is the same for all of them: the output-size
// guard (before any backend is touched), tile planning and sizing, the queue that keeps up to
// `concurrency` tiles in flight and retries a tile whose memory is not free until another one finishes,
// layer-major band runs, progress, and abort and disposal between tiles. A backend (the wasm runner in
// ./wasm-backend.ts, the WebGL runner in ../backends/webgl/index.ts) only runs one tile.
import { AbortError, invalidInput, OutOfMemoryError, throwIfAborted } from "../errors.js";
import { fillTransparentColour } from "../image/alpha-fill.js";
import type { RgbaImage } from "../image/rgba.js";
import type { InputPad } from "../model/types.js";
import { planTiles, type Tile, type TilingOptions } from "./tiler.js";

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

export interface UpscaledImage {
  data: Uint8ClampedArray;
  width: number;
  height: number;
}

/** One upscale job as a backend's runTile sees it. */
export interface ImageJob {
  image: RgbaImage;
  /** width·scale × height·scale RGBA8; each tile writes the part of its core. */
  out: Uint8ClampedArray;
  /** Alpha is not all 255: it is resized on its own and rejoined. */
  hasAlpha: boolean;
  tilesTotal: number;
  /** Threads that run each tile together, in row bands layer by layer (1: each tile on one thread). */
  bands: number;
  signal?: AbortSignal;
  /** What the backend's statistics() gave (the network to run with them given), else undefined. */
  stage?: unknown;
  /**
   * When set, each tile also leaves its core's network output here, f32 RGB before the rounding to 8 bits
   * (core.w·scale × core.h·scale × 3, row-major): for callers that combine several runs (src/api/tta.ts).
   */
  floatOut?: Float32Array;
}

/** How a network's tiles are cut: grids (./tiler.ts), and the border the network sees past the image. */
export interface TileGeometry extends Pick<TilingOptions, "even" | "border" | "align"> {
  /** How pixels past the image are filled (padded rectangles reach past it when border > 0). */
  inputPad?: InputPad;
}

/** The geometry a graph asks for; `even` for kernels with a 2×2 grid anchored at each tensor's origin. */
export function tileGeometry(g: { inputPad?: InputPad; align?: number }, even: boolean): TileGeometry {
  return { even, border: g.inputPad?.size ?? 0, align: g.align ?? 1, inputPad: g.inputPad };
}

/** What a backend implements to be scheduled. */
export interface TileBackend<R = null> {
  readonly scale: number;
  /** Tiles that may run at once. */
  readonly concurrency: number;
  readonly geometry: TileGeometry;
  /** Runs one whole job: e.g. waits for the backend to be ready and its turn; may translate errors. */
  session<T>(job: () => Promise<T>): Promise<T>;
  /** Input pixels of context per side (Infinity: whole-image statistics, one tile). */
  halo(hasAlpha: boolean): number;
  /** The tile side for this image: as large as allowed while the job's tiles fit the backend's memory; throws when none fits. */
  tileSize(width: number, height: number, halo: number, hasAlpha: boolean, job: ImageJob): number;
  /**
   * Whole-image statistics the job needs first, when the backend computes them in passes of their own
   * (images too large to hold whole: src/runtime/stages.ts), reporting progress up to `share`; the job
   * then runs `stage` with halo `halo`. Undefined: run as usual.
   */
  statistics?(image: RgbaImage, hasAlpha: boolean, options: UpscaleOptions): Promise<{ halo: number; stage: unknown; share: number } | undefined>;
  /** The memory of one tile, now; OutOfMemoryError when it is not free now (the scheduler retries after another tile). */
  acquire?(job: ImageJob, tile: Tile): R;
  release?(resource: R): void;
  /**
   * Reads the tile's padded rectangle from job.image and writes its core's output into job.out; with
   * job.bands > 1, on that many threads at once in row bands (planLayout gives bands only to backends
   * with that many threads).
   */
  runTile(job: ImageJob, tile: Tile, resource: R, onLayer: (fraction: number) => void): Promise<void>;
  /** Throws once the backend was disposed (checked between tiles and after the last one). */
  checkUsable(): void;
}

/** Largest output: one Uint8ClampedArray (2 GiB keeps every engine's typed-array limit). */
export const MAX_OUTPUT_BYTES = 2 ** 31;

/** Throws ERR_INVALID_INPUT when a width×height input's output would not fit one RGBA array. */
export function checkOutputSize(width: number, height: number, scale: number): void {
  if (width * scale * height * scale * 4 > MAX_OUTPUT_BYTES) {
    throw invalidInput(`a ${width}×${height} input gives a ${width * scale}×${height * scale} output, over the ${MAX_OUTPUT_BYTES / 2 ** 30} GiB one RGBA array may hold here; upscale it in parts`);
  }
}

/**
 * Upscales a checked RGBA8 image on `backend`: guards the output size, then in the backend's session
 * plans tiles of the size it allows and runs them.
 */
export async function upscaleInTiles<R>(backend: TileBackend<R>, image: RgbaImage, options: UpscaleOptions = {}): Promise<UpscaledImage> {
  const { width, height } = image;
  const s = backend.scale;
  checkOutputSize(width, height, s);
  return backend.session(async () => {
    const hasAlpha = !isOpaque(image.data);
    // Whatever colour hides under transparent pixels must not bleed into the edges: fill it from the
    // visible ones first, on the whole image, so every backend and every tiling sees the same input.
    const input = hasAlpha ? fillTransparentColour(image) : image;
    const staged = await backend.statistics?.(input, hasAlpha, options);
    const halo = staged?.halo ?? backend.halo(hasAlpha);
    const job: ImageJob = { image: input, out: new Uint8ClampedArray(width * s * height * s * 4), hasAlpha, tilesTotal: 0, bands: 1, signal: options.signal, stage: staged?.stage };
    const tileSize = backend.tileSize(width, height, halo, hasAlpha, job);
    const { tiles, bands } = planLayout(width, height, { ...backend.geometry, tileSize, halo }, backend.concurrency);
    Object.assign(job, { tilesTotal: tiles.length, bands });
    const share = staged?.share ?? 0;
    const onProgress = options.onProgress && ((p: Progress) => options.onProgress!({ ...p, fraction: share + (1 - share) * p.fraction }));
    await runTiles({
      concurrency: backend.concurrency,
      acquire: (tile) => (backend.acquire ? backend.acquire(job, tile) : (null as R)),
      release: (r) => backend.release?.(r),
      run: (tile, r, onLayer) => backend.runTile(job, tile, r, onLayer),
      checkUsable: () => backend.checkUsable(),
    }, tiles, { signal: options.signal, onProgress });
    return { data: job.out, width: width * s, height: height * s };
  });
}

// Bands wait for every thread at each layer (a round trip to each, some 0.1 ms): each thread's band
// must be large enough for that to be small (MIN_BAND_ROWS rows and MIN_BAND_PIXELS pixels, a few ms
// of a layer of `natural`), and bands must save more than BAND_MARGIN of the estimated time.
const MIN_BAND_ROWS = 16;
const MIN_BAND_PIXELS = 128 * 128;
const BAND_MARGIN = 0.05;

/**
 * How a job uses `threads`. Tiles cut as for one thread are the least work (each tile recomputes its
 * halo); but when they are fewer than the threads, or the last of them leaves threads idle, the
 * alternatives may finish sooner: thinner tiles (more halo recomputed), or all threads on each tile in
 * row bands, layer by layer (no halo, a barrier per layer). Picks the shortest makespan estimated from
 * the padded tiles' areas (a network's work is proportional to its input pixels).
 */
export function planLayout(width: number, height: number, opts: TilingOptions, threads: number): { tiles: Tile[]; bands: number } {
  const own = planTiles(width, height, opts);
  if (threads <= 1 || !Number.isFinite(opts.halo)) return { tiles: own, bands: 1 };
  const thin = planTiles(width, height, { ...opts, minTiles: threads });
  const area = (t: Tile) => t.padded.w * t.padded.h;
  const [ownSpan, thinSpan] = [makespan(own.map(area), threads), makespan(thin.map(area), threads)];
  const bandSpan = own.reduce((sum, t) => sum + area(t), 0) / threads;
  const bandable = own.every((t) => t.padded.h >= MIN_BAND_ROWS * threads && area(t) >= MIN_BAND_PIXELS * threads);
  if (bandable && bandSpan * (1 + BAND_MARGIN) < Math.min(ownSpan, thinSpan)) return { tiles: own, bands: threads };
  return ownSpan <= thinSpan ? { tiles: own, bands: 1 } : { tiles: thin, bands: 1 };
}

/** When the last of `costs` ends if each goes, in order, to the first thread free (as runTiles does). */
function makespan(costs: number[], threads: number): number {
  const busy = new Array<number>(threads).fill(0);
  for (const c of costs) busy[busy.indexOf(Math.min(...busy))] += c;
  return Math.max(...busy);
}

/** The per-tile work runTiles drives (a backend's methods bound to one job). */
export interface TileWork<R> {
  concurrency: number;
  acquire(tile: Tile): R;
  release(resource: R): void;
  run(tile: Tile, resource: R, onLayer: (fraction: number) => void): Promise<void>;
  checkUsable(): void;
}

/**
 * Runs `tiles` in order, up to work.concurrency at once. A tile's memory is acquired before it starts
 * and released when it ends, on success, failure and abort alike. When the memory is not free, the
 * scheduler waits for a running tile and tries again; with none running it never will be, and the job
 * fails. After the first failure no new tile starts; the running ones are awaited, then it is thrown.
 */
export async function runTiles<R>(work: TileWork<R>, tiles: readonly Tile[], { signal, onProgress }: UpscaleOptions = {}): Promise<void> {
  let done = 0;
  let failure: unknown;
  const queue = [...tiles];
  const inFlight = new Set<Promise<void>>();
  const runOne = async (tile: Tile, resource: R) => {
    try {
      // A job of one tile (whole-image networks; one tile in row bands) reports each of its layers
      // (tilesDone stays 0 until it ends); with several tiles in flight only tiles count.
      const onLayer = (f: number) => { if (tiles.length === 1) onProgress?.({ fraction: f, tilesDone: 0, tilesTotal: 1, tile: tile.core }); };
      await work.run(tile, resource, onLayer);
      done++;
      onProgress?.({ fraction: done / tiles.length, tilesDone: done, tilesTotal: tiles.length, tile: tile.core });
    } finally {
      work.release(resource);
    }
  };
  while (queue.length > 0 && failure === undefined) {
    if (signal?.aborted) { failure = new AbortError(signal.reason); break; }
    let resource: R;
    try {
      work.checkUsable();
      resource = work.acquire(queue[0]);
    } catch (e) {
      if (e instanceof OutOfMemoryError && inFlight.size > 0) { await Promise.race(inFlight); continue; }
      failure = e;
      break;
    }
    const p: Promise<void> = runOne(queue.shift()!, resource).catch((e) => { failure ??= e; }).finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (inFlight.size >= work.concurrency) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  // Disposal stops the threads under the running tiles: say so rather than what it broke.
  work.checkUsable();
  if (failure !== undefined) throw failure;
}

/**
 * The largest side in [min, max] for which `fits` holds (bisection: fits must hold for every side below
 * one that fits); min when none does.
 */
export function largestFitting(min: number, max: number, fits: (side: number) => boolean): number {
  if (fits(max)) return max;
  let lo = min, hi = max;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (fits(mid)) lo = mid; else hi = mid - 1;
  }
  return lo;
}

/** How runLayerMajor runs the steps of one backend. */
export interface LayerMajorWork<S> {
  /** Output rows of a step. */
  rows(step: S): number;
  /** Whether a step's rows may be split into bands (false: runWhole). */
  bandable(step: S): boolean;
  /** Bands a bandable step is split into (at most its rows). */
  parts: number;
  runWhole(step: S): void;
  runBand(step: S, y0: number, y1: number, band: number): Promise<void>;
  signal?: AbortSignal;
  onLayer(fraction: number): void;
}

/**
 * Networks with whole-image statistics run layer by layer over the whole image: each bandable step's
 * output rows are split into bands that run at once and are all awaited before the next step; the rest
 * (means, small dense layers) run whole on the scheduling thread. The signal is checked and progress
 * reported between steps; the finished tile reports 1.
 */
export async function runLayerMajor<S>(steps: readonly S[], work: LayerMajorWork<S>): Promise<void> {
  for (const [index, step] of steps.entries()) {
    throwIfAborted(work.signal);
    const h = work.rows(step);
    if (!work.bandable(step)) work.runWhole(step);
    else {
      const parts = Math.min(h, work.parts);
      await Promise.all(Array.from({ length: parts }, (_, i) => work.runBand(step, Math.round((i * h) / parts), Math.round(((i + 1) * h) / parts), i)));
    }
    work.onLayer((index + 1) / (steps.length + 1));
  }
}

function isOpaque(data: Uint8Array | Uint8ClampedArray): boolean {
  for (let i = 3; i < data.length; i += 4) if (data[i] !== 255) return false;
  return true;
}
