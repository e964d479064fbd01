// SPDX-License-Identifier: MIT
// The WebGL2 runner: upscale(image) (RGBA8 in and out, tiled within MAX_TEXTURE_SIZE and a byte budget,
// alpha resized by the graph it is given, as on the wasm path), forward() for float tensors, stats(),
// dispose(), and context-loss handling: a lost context fails the job with ContextLostError (never returns
// garbage), and the runner rebuilds its GL state by itself once the browser restores the context.
// Tiling, progress and abort are the scheduler's (src/runtime/scheduler.ts), as for the wasm backend.
import { ContextLostError, OutOfMemoryError, SrganError, UnsupportedError, invalidInput, throwIfAborted } from "../../errors.js";
import type { ValidatedGraph } from "../../model/types.js";
import { maxPaddedSide, planTiles, virtualExtent, type Tile } from "../../runtime/tiler.js";
import {
  largestFitting, runTiles, tileGeometry, upscaleInTiles, type ImageJob, type TileBackend, type TileGeometry, type UpscaledImage, type UpscaleOptions,
} from "../../runtime/scheduler.js";
import { copyRect } from "../../image/border.js";
import { checkRgbaImage, type RgbaImage } from "../../image/rgba.js";
import { GlContext, type Capabilities } from "./context.js";
import { TexturePool, type TexturePoolStats } from "./texture-pool.js";
import { GpuNetwork } from "./executor.js";
import { PixelIo } from "./programs/io.js";
import type { GlEnv } from "./programs/common.js";
import type { ResolvedWebglOptions } from "./options.js";
import { selfTest } from "./self-test.js";

export interface WebglStats extends TexturePoolStats {
  backend: "webgl";
  /** Compiled programs held now. */
  programs: number;
  contextLost: boolean;
  /** Times the context was restored and the GL state rebuilt. */
  restores: number;
  /** Tile side used by the last job (after fitting). */
  tileSize: number;
  renderer: string;
  software: boolean;
}

export class WebglRunner implements TileBackend {
  readonly backend = "webgl" as const;
  /** GL state is one per context: tiles run one after another. */
  readonly concurrency = 1;
  readonly geometry: TileGeometry;
  readonly graph: ValidatedGraph;
  private readonly ctx: GlContext;
  private readonly pool: TexturePool;
  private readonly env: GlEnv;
  private readonly alphaGraph: ValidatedGraph;
  private net: GpuNetwork | null = null;
  private alphaNet: GpuNetwork | null = null;
  private io: PixelIo | null = null;
  /** ctx.generation the GL state was built for; -1: not built. */
  private builtFor = -1;
  private lossHandled = false;
  private disposed = false;
  private lastTileSize = 0;
  private readonly ownsCanvas: boolean;

  /** @internal use createWebglRunner() */
  constructor(graph: ValidatedGraph, private readonly opts: ResolvedWebglOptions, alphaGraph: ValidatedGraph) {
    this.graph = graph;
    this.alphaGraph = alphaGraph;
    this.geometry = tileGeometry(graph, false);
    this.ownsCanvas = !opts.canvas;
    this.ctx = new GlContext({
      ...opts,
      onContextLost: () => { this.handleLoss(); opts.onContextLost?.(); },
    });
    this.pool = new TexturePool(this.ctx.gl, this.ctx.caps.maxTextureSize);
    this.env = {
      ctx: this.ctx, pool: this.pool, floatFormat: this.ctx.precision === "float16" ? "rgba16f" : "rgba32f",
      convWeights: opts.convWeights === "auto" ? undefined : opts.convWeights,
    };
  }

  get scale(): number {
    return this.graph.scale;
  }

  get capabilities(): Capabilities {
    return this.ctx.caps;
  }

  /** True while the context is lost (jobs fail with ContextLostError; see whenRestored()). */
  get lost(): boolean {
    return this.ctx.lost;
  }

  /** Resolves once a lost context is back (the next job rebuilds the GL state). */
  whenRestored(): Promise<void> {
    return this.ctx.whenRestored();
  }

  /** @internal Builds programs and uploads weights for the current context generation. */
  prepare(): void {
    this.checkUsable();
    this.handleLoss();
    this.ctx.checkLost("before the job started");
    if (this.builtFor === this.ctx.generation) return;
    this.lossHandled = false;
    try {
      this.net = new GpuNetwork(this.env, this.graph);
      this.alphaNet = new GpuNetwork(this.env, this.alphaGraph);
      this.io = new PixelIo(this.env);
    } catch (e) {
      // GL calls on a context that just died fail in odd ways (null objects, link errors): name the cause.
      this.ctx.checkLost("while the network was uploaded");
      throw e;
    }
    this.builtFor = this.ctx.generation;
    this.ctx.checkLost("while the network was uploaded");
  }

  /**
   * Upscales RGBA8 pixels by the network's scale (alpha, when present, is resized on its own with
   * bicubic, as on the wasm path). Rejects with ContextLostError if the context is lost before or
   * during the job.
   */
  async upscale(image: RgbaImage, options: UpscaleOptions = {}): Promise<UpscaledImage> {
    checkRgbaImage(image);
    if ((this.graph.channels ?? 3) !== 3) throw invalidInput(`network '${this.graph.name}' takes ${this.graph.channels} channel(s); upscale() feeds RGB. Use forward() for planes.`);
    return upscaleInTiles(this, image, options);
  }

  /**
   * Runs the network on a float HWC tensor (h×w×graph.channels) and returns the float output before
   * any quantisation, tiled exactly as upscale() tiles (tests compare it with the reference).
   */
  async forward(input: Float32Array, h: number, w: number, options: UpscaleOptions & { tileSize?: number } = {}): Promise<{ data: Float32Array; h: number; w: number; c: number }> {
    const c = this.graph.channels ?? 3;
    if (!(input instanceof Float32Array) || input.length !== h * w * c) throw invalidInput(`forward() needs a Float32Array of ${h}×${w}×${c} values`);
    return this.session(async () => {
      const out = this.net!.shapes(h, w).get(this.graph.output)!;
      const s = this.graph.scale;
      const data = new Float32Array(out.h * out.w * out.c);
      const halo = this.graph.receptiveRadius;
      const tiles = planTiles(w, h, { tileSize: this.fitTileSize(w, h, halo, false, options.tileSize), halo });
      const run = (tile: Tile) => this.glTile(tile, tiles.length, options.signal, () => {
        const { padded, core } = tile;
        const t = this.io!.uploadFloat(input, w, c, padded.x, padded.y, padded.w, padded.h);
        const y = this.net!.run(t);
        try {
          // One tile: the whole output, even where it is not exactly scale × input (⌈n / factor⌉ shrinks).
          if (tiles.length === 1) this.io!.readFloat(y, 0, 0, out.w, out.h, data, out.w, 0, 0);
          else this.io!.readFloat(y, (core.x - padded.x) * s, (core.y - padded.y) * s, core.w * s, core.h * s, data, out.w, core.x * s, core.y * s);
        } finally {
          this.pool.release(y.tex);
        }
      });
      await runTiles({ concurrency: 1, acquire: () => null, release: () => {}, run, checkUsable: () => this.checkUsable() }, tiles, options);
      return { data, h: out.h, w: out.w, c: out.c };
    });
  }

  stats(): WebglStats {
    return {
      ...this.pool.stats(), backend: "webgl", programs: this.ctx.programCount, contextLost: this.ctx.lost,
      restores: this.ctx.generation, tileSize: this.lastTileSize, renderer: this.ctx.caps.renderer, software: this.ctx.caps.software,
    };
  }

  /** Deletes every texture and program; the runner cannot be used afterwards. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.net?.dispose();
    this.alphaNet?.dispose();
    this.net = this.alphaNet = null;
    this.pool.dispose();
    this.ctx.dispose();
    // A context we created is ours to end now rather than at garbage collection (browsers cap live contexts).
    if (this.ownsCanvas && !this.ctx.gl.isContextLost()) this.ctx.gl.getExtension("WEBGL_lose_context")?.loseContext();
  }

  /** @internal Rejects a GPU that computes a test convolution wrongly (see ./self-test.ts). */
  selfTest(): void {
    selfTest(this.env, this.io!);
  }

  // ---- internals ----

  /** @internal One job at a time with the GL state built; a loss during it surfaces as ContextLostError. */
  session<T>(job: () => Promise<T>): Promise<T> {
    return this.exclusive(async () => {
      this.prepare();
      this.pool.beginJob();
      try {
        return await job();
      } catch (e) {
        this.handleLoss();
        // A GL error surfacing as an exception after a loss is a loss, whatever its message says.
        if (this.ctx.lost && !(e instanceof ContextLostError) && !(e instanceof SrganError && e.code === "ERR_ABORTED")) {
          throw new ContextLostError(`the WebGL context was lost during a job (${(e as Error).message})`, true);
        }
        throw e;
      } finally {
        if (!this.ctx.lost && !this.disposed) this.pool.trim();
      }
    });
  }

  /** @internal */
  halo(hasAlpha: boolean): number {
    return Math.max(this.graph.receptiveRadius, hasAlpha ? this.alphaGraph.receptiveRadius : 0);
  }

  /** @internal */
  tileSize(width: number, height: number, halo: number, hasAlpha: boolean): number {
    return this.fitTileSize(width, height, halo, hasAlpha);
  }

  /** @internal */
  runTile(job: ImageJob, tile: Tile): Promise<void> {
    return this.glTile(tile, job.tilesTotal, job.signal, () => this.rgbaTile(job.image, tile, job.hasAlpha, job.out));
  }

  /** @internal Throws ERR_DISPOSED once dispose() ran. */
  checkUsable(): void {
    if (this.disposed) throw new SrganError("ERR_DISPOSED", "this WebGL runner was disposed; create a new one");
  }

  /**
   * Runs one tile's GL work with the checks around it: the context before and after (readPixels on a
   * lost context returns zeros without an error, so a loss must never pass garbage on, tfjs#756) and
   * GL errors after. Tiles after the first start from a fresh event-loop turn: GL calls are synchronous,
   * and the page (and an abort) must get a turn between tiles.
   */
  private async glTile(tile: Tile, total: number, signal: AbortSignal | undefined, one: () => void): Promise<void> {
    const where = `tile ${tile.index + 1} of ${total}`;
    if (tile.index > 0) await yieldToEventLoop();
    throwIfAborted(signal);
    this.checkUsable(); // dispose() may have run while we yielded
    this.handleLoss();
    this.ctx.checkLost(`before ${where}`);
    one();
    this.ctx.checkLost(`during ${where}`);
    // Any other GL error means some draw or copy did not happen: fail rather than return its zeros.
    const err = this.ctx.gl.getError();
    if (err !== this.ctx.gl.NO_ERROR) {
      this.ctx.checkLost(`during ${where}`);
      throw new SrganError("ERR_KERNEL", `WebGL reported error 0x${err.toString(16)} in ${where} (${this.ctx.caps.renderer}); the result was discarded. Use backend: 'wasm'.`);
    }
  }

  private rgbaTile(image: RgbaImage, tile: Tile, hasAlpha: boolean, out: Uint8ClampedArray): void {
    const { padded, core } = tile;
    const s = this.graph.scale, shrink = this.graph.shrink;
    const inputs = this.uploadRect(image, padded, hasAlpha);
    let alphaIn = inputs.alpha;
    let rgb = null, alpha = null;
    try {
      rgb = this.net!.run(inputs.rgb);
      if (alphaIn) { const a = alphaIn; alphaIn = null; alpha = this.alphaNet!.run(a); }
      // The network's output starts `shrink` pixels into the padded rectangle; the alpha resize's at it.
      const [cx, cy] = [core.x - padded.x, core.y - padded.y];
      this.io!.readRgba(rgb, alpha, (cx - shrink) * s, (cy - shrink) * s, core.w * s, core.h * s,
        out, image.width * s, core.x * s, core.y * s, [cx * s, cy * s]);
    } finally {
      for (const t of [alphaIn, rgb, alpha]) if (t) this.pool.release(t.tex);
    }
  }

  /** Uploads a padded rectangle, straight from the image when it lies inside, else through a copy with its border filled. */
  private uploadRect(image: RgbaImage, r: Tile["padded"], hasAlpha: boolean) {
    if (r.x >= 0 && r.y >= 0 && r.x + r.w <= image.width && r.y + r.h <= image.height) return this.io!.uploadRgba(image, r.x, r.y, r.w, r.h, hasAlpha);
    const data = new Uint8Array(r.w * r.h * 4);
    copyRect(image, r.x, r.y, r.w, r.h, this.graph.inputPad?.mode ?? "zero", data);
    return this.io!.uploadRgba({ data, width: r.w }, 0, 0, r.w, r.h, hasAlpha);
  }

  /**
   * The tile side for this image: options.tileSize, lowered until every tensor of a padded tile fits
   * MAX_TEXTURE_SIZE and its working set fits memoryLimit. Whole-image graphs (halo ∞) must fit as is.
   */
  private fitTileSize(width: number, height: number, halo: number, hasAlpha: boolean, requested = this.opts.tileSize): number {
    const max = this.ctx.caps.maxTextureSize;
    const ratio = Math.max(this.net!.sizeRatio, hasAlpha ? this.alphaNet!.sizeRatio : 1);
    const bytes = (h: number, w: number) => this.net!.peakBytes(h, w) + (hasAlpha ? this.alphaNet!.peakBytes(h, w, 1) : 0);
    // Padded rectangles lie within the virtual image (the image and the border the network sees).
    const { border, align } = this.geometry;
    const [vw, vh] = [width, height].map((n) => { const v = virtualExtent(n, border, align); return v.end - v.start; });
    if (!Number.isFinite(halo)) {
      if (Math.ceil(Math.max(vw, vh) * ratio) > max) {
        throw new UnsupportedError(`network '${this.graph.name}' reads whole-image statistics, so it cannot be tiled, and a ${width}×${height} image needs textures over this GPU's ${max}-pixel limit. Use backend: 'wasm'.`);
      }
      const need = bytes(vh, vw);
      if (need > this.opts.memoryLimit) throw new OutOfMemoryError(need, this.opts.memoryLimit, `Network '${this.graph.name}' cannot be tiled: raise the WebGL memoryLimit, upscale a smaller image, or use backend: 'wasm'.`);
      this.lastTileSize = Math.max(width, height);
      return this.lastTileSize;
    }
    const r = Math.ceil(halo);
    const byTexture = Math.floor(max / ratio) - 2 * r;
    if (byTexture < 1) throw new UnsupportedError(`network '${this.graph.name}' needs ${2 * r + 1}-pixel tiles at ${ratio}× inside ${max}-pixel textures; this GPU cannot hold one. Use backend: 'wasm'.`);
    // The largest padded rectangle a tile of core side t can have (the tiler's own bound, on its grids).
    const fits = (t: number) => {
      const opts = { ...this.geometry, tileSize: t, halo };
      return bytes(maxPaddedSide(height, opts), maxPaddedSide(width, opts)) <= this.opts.memoryLimit;
    };
    const t = largestFitting(1, Math.min(requested, byTexture), fits);
    if (!fits(t)) throw new OutOfMemoryError(bytes(1 + 2 * r, 1 + 2 * r), this.opts.memoryLimit, "Raise the WebGL memoryLimit or use backend: 'wasm'.");
    this.lastTileSize = t;
    return t;
  }

  /** Once per loss: the GL objects are gone with the context, so forget them (accounting reads 0). */
  private handleLoss(): void {
    if (this.lossHandled || !this.ctx.lost) return;
    this.lossHandled = true;
    this.net = this.alphaNet = null;
    this.io = null;
    this.pool.forgetAll();
    this.builtFor = -1;
  }

  // GL state (bound programs, framebuffer) is shared: one job at a time, others wait their turn.
  private queue: Promise<unknown> = Promise.resolve();
  private exclusive<T>(job: () => Promise<T>): Promise<T> {
    this.checkUsable();
    const run = this.queue.then(() => { this.checkUsable(); return job(); });
    this.queue = run.catch(() => undefined);
    return run;
  }
}

function yieldToEventLoop(): Promise<void> {
  const sched = (globalThis as { scheduler?: { yield?: () => Promise<void> } }).scheduler;
  if (typeof sched?.yield === "function") return sched.yield();
  return new Promise((resolve) => setTimeout(resolve, 0));
}
