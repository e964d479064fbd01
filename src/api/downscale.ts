// SPDX-License-Identifier: MIT
// Image-space downscaling for making low-resolution inputs (evaluation, training pairs): antialiased
// bicubic as MATLAB's imresize(img, 1/factor), and factor×factor box means in sRGB or in linear light.
// The maths is the Resize op and the sRGB kernels, run on an engine the Downscaler holds (its own, or
// one it is given); this file validates, crops and moves bytes.
import { Engine, MAX_MEMORY_BYTES } from "../runtime/engine.js";
import { paddedBytes } from "../runtime/align.js";
import { Resize } from "../ops/resize.js";
import { checkImage, cropToMultiple, DOWNSCALE_METHODS, type DownscaleMethod } from "../image/resample.js";
import type { RgbaImage } from "../image/rgba.js";
import type { GraphNode } from "../model/types.js";

/**
 * Downscales images on one engine. Without an engine it makes its own and replaces it by a larger one
 * when an image needs more; its kernels are the plain SIMD build ("simd", not "auto": no fused
 * multiply-add), so an LR image is the same bytes on every machine. Hold one for a run of images.
 */
export class Downscaler {
  private engine: Promise<Engine> | undefined;
  private engineBytes = 0;

  /** `engine`: run on this one instead (large enough for every image; the plain SIMD build for machine-independent bytes). */
  constructor(engine?: Engine) {
    if (engine) {
      this.engine = Promise.resolve(engine);
      this.engineBytes = Infinity;
    }
  }

  private engineFor(bytes: number): Promise<Engine> {
    if (!this.engine || bytes > this.engineBytes * 0.9) {
      const limit = Math.min(MAX_MEMORY_BYTES, Math.max(256 << 20, Math.ceil(bytes * 1.25) + (16 << 20)));
      this.engineBytes = limit;
      const engine = Engine.create({ memoryLimit: limit, wasmVariant: "simd" });
      engine.catch(() => { if (this.engine === engine) { this.engine = undefined; this.engineBytes = 0; } });
      this.engine = engine;
    }
    return this.engine;
  }

  /**
   * Shrinks an RGBA8 image by an integer factor. The input is first cropped top-left to a multiple of
   * `factor` (cropToMultiple), so the output is exactly (width/factor)×(height/factor) and every output
   * pixel has a whole block.
   * - `bicubic`: MATLAB imresize(img, 1/factor, 'bicubic') with antialiasing (Keys a = −0.5 widened by
   *   factor, symmetric edges), in float on 0..255 values, rounded half up to bytes at the end only.
   * - `box`: the mean of each factor×factor block of sRGB-coded bytes, rounded to nearest with ties to
   *   even. Exact .5 means are common (1 in 16 for 4×4 blocks); rounding them all up would brighten the
   *   image by 1/32 level on average and lands 0.016 dB off the ×4 references in
   *   ../shared/docs/srgan-rust-rsr.md §8, whose float64 means broke ties either way. Ties to even is unbiased.
   * - `box-linear`: the block mean in linear light (IEC 61966-2-1), coded back to sRGB, rounded.
   * Alpha is resized like the colour channels (straight, not premultiplied) but never linearised.
   * Async only because the engine may have to be made; the work itself is synchronous.
   */
  async downscale(img: RgbaImage, factor: number, method: DownscaleMethod = "bicubic"): Promise<RgbaImage> {
    checkImage(img, "img");
    if (!Number.isInteger(factor) || factor < 1 || factor > 16) throw new RangeError(`factor must be an integer in [1, 16], got ${factor}`);
    if (!DOWNSCALE_METHODS.includes(method)) throw new RangeError(`method must be one of ${DOWNSCALE_METHODS.join(", ")}, got '${method}'`);
    return this.resample(img, 1, factor, method);
  }

  /**
   * Shrinks to keep/of of the size (antialiased bicubic, as `downscale`; e.g. 3/4), after cropping
   * top-left to a multiple of `of`, so the output is exactly (width·keep/of)×(height·keep/of).
   */
  async shrinkBy(img: RgbaImage, keep: number, of: number): Promise<RgbaImage> {
    checkImage(img, "img");
    if (!Number.isInteger(keep) || !Number.isInteger(of) || keep < 1 || keep >= of || of > 16) throw new RangeError(`shrinkBy needs integers 1 ≤ keep < of ≤ 16, got ${keep}/${of}`);
    return this.resample(img, keep, of, "bicubic");
  }

  private async resample(img: RgbaImage, up: number, factor: number, method: DownscaleMethod): Promise<RgbaImage> {
    const src = cropToMultiple(img, factor);
    const { width: w, height: h } = src;
    const ow = (w * up) / factor, oh = (h * up) / factor;
    const attrs = { method: method === "bicubic" ? "bicubic" : "box", factor, ...(up > 1 ? { scale: up } : {}) };
    const node: GraphNode = { op: "Resize", inputs: ["x"], output: "y", attrs, weights: {} };
    const inShape = { h, w, c: 4 }, outShape = { h: oh, w: ow, c: 4 };
    const scratch = Resize.scratchBytes!(node, [inShape], outShape);
    const n = w * h * 4, on = ow * oh * 4;
    const bytes = paddedBytes(n) + paddedBytes(n * 4) + paddedBytes(on * 4) + paddedBytes(scratch) + paddedBytes(on);
    const eng = await this.engineFor(bytes);
    const k = eng.kernels;
    const lease = eng.pool.lease(bytes);
    try {
      const inU8 = lease.ptr, inF = inU8 + paddedBytes(n), outF = inF + paddedBytes(n * 4), scratchPtr = outF + paddedBytes(on * 4), outU8 = scratchPtr + paddedBytes(scratch);
      eng.u8(inU8, n).set(src.data);
      // Box means of bytes are exact in f32 on the 0..255 scale (for power-of-two factors), so a tie is
      // seen as a tie; the sRGB curve needs 0..1.
      const linear = method === "box-linear";
      k.u8_to_f32(inU8, inF, 0, n, linear ? 1 / 255 : 1);
      if (linear) k.srgb_to_linear_f32(inF, inF, 0, w * h, 4, 3);
      Resize.wasm(k, { node, inputs: [{ ptr: inF, shape: inShape }], output: { ptr: outF, shape: outShape }, packed: {}, scratchPtr, y0: 0, y1: oh });
      if (linear) k.linear_to_srgb_f32(outF, outF, 0, ow * oh, 4, 3);
      k.f32_to_u8(outF, outU8, 0, on, linear ? 255 : 1, method === "box" ? 1 : 0);
      return { data: new Uint8ClampedArray(eng.u8(outU8, on)), width: ow, height: oh };
    } finally {
      eng.pool.release(lease);
    }
  }
}

/** Downscales one image on an engine made for it (see Downscaler.downscale); hold a Downscaler for many. */
export function downscale(img: RgbaImage, factor: number, method: DownscaleMethod = "bicubic"): Promise<RgbaImage> {
  return new Downscaler().downscale(img, factor, method);
}
