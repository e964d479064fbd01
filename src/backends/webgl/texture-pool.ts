// SPDX-License-Identifier: MIT
// GPU memory for the WebGL backend: 2D-array textures reused by (format, size bucket, layers), with
// byte accounting shaped like the wasm pool's stats (current/peak). Textures are never allocated and
// freed per op (the Anime4K.js / tfjs per-shape leak): a job borrows from the free lists, returns what it
// used, and trim() deletes only what the last job did not touch, so memory follows the working set.

/** Storage formats the backend uses. */
export type TexFormat = "rgba32f" | "rgba16f" | "rgba8" | "rgba8ui";

export interface GpuTexture {
  readonly tex: WebGLTexture;
  readonly format: TexFormat;
  /** Allocated size (≥ any logical size it is used for). */
  readonly width: number;
  readonly height: number;
  readonly layers: number;
  readonly bytes: number;
  /** Pool bookkeeping: the job generation that last used it. */
  lastUse: number;
  inUse: boolean;
  /** Held for the runner's lifetime (weights), never trimmed. */
  pinned: boolean;
  /** The pool's epoch at creation (forgetAll() starts a new one). */
  readonly epoch: number;
}

/** A uniform buffer of parameters (conv weights small enough for a uniform block), pinned like weights. */
export interface GpuBuffer {
  readonly buf: WebGLBuffer;
  readonly bytes: number;
  readonly epoch: number;
}

export interface TexturePoolStats {
  /** Bytes of every texture alive on the GPU now (in use, cached, and weights). */
  currentBytes: number;
  /** Highest currentBytes since creation (or resetPeak()). */
  peakBytes: number;
  /** Bytes of textures handed out and not yet returned (weights included). */
  inUseBytes: number;
  /** Bytes of the network's weight textures and uniform buffers (part of currentBytes). */
  weightBytes: number;
  /** Uniform buffers alive (weights). */
  buffers: number;
  /** Textures alive / handed out now. */
  textures: number;
  activeTextures: number;
  /** Textures ever created, and acquisitions served from the free lists instead. */
  totalAllocations: number;
  reuses: number;
  /** Textures deleted by trim() (not used by the previous job). */
  trimmed: number;
}

const FORMAT: Record<TexFormat, { bytesPerTexel: number; internal: (gl: WebGL2RenderingContext) => number }> = {
  rgba32f: { bytesPerTexel: 16, internal: (gl) => gl.RGBA32F },
  rgba16f: { bytesPerTexel: 8, internal: (gl) => gl.RGBA16F },
  rgba8: { bytesPerTexel: 4, internal: (gl) => gl.RGBA8 },
  rgba8ui: { bytesPerTexel: 4, internal: (gl) => gl.RGBA8UI },
};

/**
 * Sizes are rounded up to a multiple of BUCKET (but not past the device limit), so the edge tiles of an
 * image (a few pixels narrower than the others) reuse the interior tiles' textures; every shader reads
 * through logical sizes, never the allocated ones.
 */
const BUCKET = 32;

export class TexturePool {
  private readonly free = new Map<string, GpuTexture[]>();
  private readonly all = new Set<GpuTexture>();
  private readonly buffers = new Set<GpuBuffer>();
  private current = 0;
  private peak = 0;
  private inUse = 0;
  private weights = 0;
  private allocations = 0;
  private reused = 0;
  private trimmedCount = 0;
  private job = 0;
  private epoch = 0;

  constructor(private readonly gl: WebGL2RenderingContext, private readonly maxTextureSize: number) {}

  /** A texture of at least w×h×layers in `format`, from the free list when one fits the bucket. */
  acquire(format: TexFormat, w: number, h: number, layers: number): GpuTexture {
    const bw = this.bucket(w), bh = this.bucket(h);
    const key = `${format}:${bw}x${bh}x${layers}`;
    const list = this.free.get(key);
    let t = list?.pop();
    if (t) this.reused++;
    else t = this.create(format, bw, bh, layers);
    t.inUse = true;
    t.lastUse = this.job;
    this.inUse += t.bytes;
    return t;
  }

  /** Exactly w×h×layers, held until dispose (weights and tables): never shared, never trimmed. */
  acquirePinned(format: TexFormat, w: number, h: number, layers: number): GpuTexture {
    const t = this.create(format, w, h, layers);
    t.inUse = true;
    t.pinned = true;
    this.inUse += t.bytes;
    this.weights += t.bytes;
    return t;
  }

  /** A pinned uniform buffer holding `data` (accounted as weights until releaseBuffer or dispose). */
  acquireBuffer(data: Float32Array): GpuBuffer {
    const gl = this.gl;
    const buf = gl.createBuffer();
    if (!buf) throw new Error("createBuffer returned null (context lost?)");
    gl.bindBuffer(gl.UNIFORM_BUFFER, buf);
    gl.bufferData(gl.UNIFORM_BUFFER, data, gl.STATIC_DRAW);
    gl.bindBuffer(gl.UNIFORM_BUFFER, null);
    const b: GpuBuffer = { buf, bytes: data.byteLength, epoch: this.epoch };
    this.buffers.add(b);
    this.current += b.bytes;
    this.inUse += b.bytes;
    this.weights += b.bytes;
    if (this.current > this.peak) this.peak = this.current;
    return b;
  }

  releaseBuffer(b: GpuBuffer): void {
    if (b.epoch !== this.epoch || !this.buffers.delete(b)) return;
    if (!this.gl.isContextLost()) this.gl.deleteBuffer(b.buf);
    this.current -= b.bytes;
    this.inUse -= b.bytes;
    this.weights -= b.bytes;
  }

  release(t: GpuTexture): void {
    // A texture from before forgetAll() died with its context: nothing to return.
    if (t.epoch !== this.epoch) return;
    if (!t.inUse || !this.all.has(t)) throw new Error("texture released twice or not from this pool");
    t.inUse = false;
    this.inUse -= t.bytes;
    if (t.pinned) {
      this.weights -= t.bytes;
      this.destroy(t);
      return;
    }
    const key = `${t.format}:${t.width}x${t.height}x${t.layers}`;
    let list = this.free.get(key);
    if (!list) this.free.set(key, (list = []));
    list.push(t);
  }

  /** Starts a job: textures acquired from here on count as used by it (for trim()). */
  beginJob(): void {
    this.job++;
  }

  /** Deletes free textures the current job did not use. Returns the bytes freed. */
  trim(): number {
    let freed = 0;
    for (const [key, list] of this.free) {
      const keep = list.filter((t) => t.lastUse === this.job);
      for (const t of list) if (t.lastUse !== this.job) { freed += t.bytes; this.trimmedCount++; this.destroy(t); }
      if (keep.length) this.free.set(key, keep); else this.free.delete(key);
    }
    return freed;
  }

  /** Deletes every free texture. */
  clearFree(): void {
    for (const list of this.free.values()) for (const t of list) this.destroy(t);
    this.free.clear();
  }

  /**
   * The context was lost: every texture is already gone with it. Forget them all (nothing to delete),
   * so the accounting reads what the GPU really holds: zero.
   */
  forgetAll(): void {
    this.free.clear();
    this.all.clear();
    this.buffers.clear();
    this.current = this.inUse = this.weights = 0;
    this.epoch++;
  }

  /** Deletes every texture (in use or not). */
  dispose(): void {
    for (const b of [...this.buffers]) this.releaseBuffer(b);
    for (const t of [...this.all]) this.destroy(t);
    this.free.clear();
    this.inUse = this.weights = 0;
  }

  stats(): TexturePoolStats {
    let active = 0;
    for (const t of this.all) if (t.inUse) active++;
    return {
      currentBytes: this.current, peakBytes: this.peak, inUseBytes: this.inUse, weightBytes: this.weights,
      buffers: this.buffers.size, textures: this.all.size, activeTextures: active, totalAllocations: this.allocations, reuses: this.reused,
      trimmed: this.trimmedCount,
    };
  }

  resetPeak(): void {
    this.peak = this.current;
  }

  /** Bytes a texture of this logical size takes once bucketed (for planning). */
  bytesFor(format: TexFormat, w: number, h: number, layers: number): number {
    return this.bucket(w) * this.bucket(h) * layers * FORMAT[format].bytesPerTexel;
  }

  private bucket(n: number): number {
    return Math.min(Math.max(n, Math.ceil(n / BUCKET) * BUCKET), Math.max(n, this.maxTextureSize));
  }

  private create(format: TexFormat, w: number, h: number, layers: number): GpuTexture {
    const gl = this.gl;
    const tex = gl.createTexture();
    if (!tex) throw new Error("createTexture returned null (context lost?)");
    gl.bindTexture(gl.TEXTURE_2D_ARRAY, tex);
    // texStorage3D: immutable, allocated once, zero-filled by WebGL (so padding channels read 0).
    gl.texStorage3D(gl.TEXTURE_2D_ARRAY, 1, FORMAT[format].internal(gl), w, h, layers);
    // Every read is texelFetch, but NEAREST without mipmaps keeps the texture complete on every driver.
    gl.texParameteri(gl.TEXTURE_2D_ARRAY, gl.TEXTURE_MIN_FILTER, gl.NEAREST);
    gl.texParameteri(gl.TEXTURE_2D_ARRAY, gl.TEXTURE_MAG_FILTER, gl.NEAREST);
    gl.texParameteri(gl.TEXTURE_2D_ARRAY, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
    gl.texParameteri(gl.TEXTURE_2D_ARRAY, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
    const bytes = w * h * layers * FORMAT[format].bytesPerTexel;
    const t: GpuTexture = { tex, format, width: w, height: h, layers, bytes, lastUse: this.job, inUse: false, pinned: false, epoch: this.epoch };
    this.all.add(t);
    this.allocations++;
    this.current += bytes;
    if (this.current > this.peak) this.peak = this.current;
    return t;
  }

  private destroy(t: GpuTexture): void {
    if (!this.all.delete(t)) return;
    if (!this.gl.isContextLost()) this.gl.deleteTexture(t.tex);
    this.current -= t.bytes;
  }
}
