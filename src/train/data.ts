// SPDX-License-Identifier: MIT
// Training data: HR/LR image pairs and the random patches drawn from them. LR images are made once per
// whole image by the same code as `srgan downscale` (antialiased bicubic by default, or box), so
// patches see true neighbours at their borders, and every patch is cut at matching places of the two
// with one of the 8 flips/rotations applied to both. Images are kept as RGB bytes (3 B per pixel).
import type { Rgb8Image, RgbaImage } from "../image/rgba.js";
import { cropToMultiple } from "../image/resample.js";
import { Downscaler } from "../api/downscale.js";
import { decodeImage, MAX_IMAGE_PIXELS } from "../image/codec.js";
import { invalidInput, IoError } from "../errors.js";
import type { Rng } from "./rng.js";
import { DEGRADE_MARGIN, degradeSquares, MIXES, type DegradationMix, type MixName } from "./degrade.js";
import { jpegRoundTrip } from "../image/jpeg-roundtrip.js";

/**
 * How LR is made from HR: `bicubic` (antialiased, as `srgan downscale`) or `box`, once per image; or
 * a mix (`real`, `real-light`), randomly per patch (blur, noise, JPEG: degrade.ts), for photographs as users have them.
 */
export type Degradation = "bicubic" | "box" | MixName;

/** Every `--degradation` name, the per-image ones first. */
export const DEGRADATIONS = ["bicubic", "box", ...(Object.keys(MIXES) as MixName[])] as const;

/** The per-patch mix a degradation names, or undefined for the per-image ones. */
export function mixOf(d: Degradation): DegradationMix | undefined {
  return Object.hasOwn(MIXES, d) ? MIXES[d as MixName] : undefined;
}

/** An RGB8 image (no alpha: training ignores it). */

export interface Pair { name: string; hr: Rgb8Image; lr: Rgb8Image }

/** A named image to train on: decoded pixels, or the bytes of a PNG/JPEG file. */
export interface ImageSource { name: string; image?: RgbaImage; bytes?: Uint8Array }

const IMAGE_EXT = /\.(png|jpe?g)$/i;

/** Default cap on one HR image (a memory guard; camera photos pass): larger ones are first shrunk by the smallest integer factor that fits. */
export const DEFAULT_MAX_IMAGE_PIXELS = 64_000_000;

/** The PNG/JPEG files of a folder, in name order (the order every run sees them in). */
export async function listImages(dir: string): Promise<string[]> {
  const { readdir } = await import("node:fs/promises");
  const { join } = await import("node:path");
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (cause) {
    throw new IoError(`cannot read the training folder '${dir}': ${(cause as Error).message}`, { cause });
  }
  const files = names.filter((n) => IMAGE_EXT.test(n)).sort();
  if (files.length === 0) throw new IoError(`'${dir}' holds no .png, .jpg or .jpeg files to train on`);
  return files.map((n) => join(dir, n));
}

export async function readSources(dir: string): Promise<ImageSource[]> {
  const { readFile } = await import("node:fs/promises");
  const { basename } = await import("node:path");
  const files = await listImages(dir);
  return Promise.all(files.map(async (f) => ({ name: basename(f), bytes: new Uint8Array(await readFile(f)) })));
}

function toRgb(img: RgbaImage): Rgb8Image {
  const n = img.width * img.height;
  const data = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    data[3 * i] = img.data[4 * i];
    data[3 * i + 1] = img.data[4 * i + 1];
    data[3 * i + 2] = img.data[4 * i + 2];
  }
  return { data, width: img.width, height: img.height };
}

/**
 * Scale augmentation (`scaleAugment`): each photo also as copies shrunk to these sizes (antialiased
 * bicubic), so patches carry more detail per pixel, as the small, dense test images do (VDSR's and
 * LapSRN's scale augmentation, in two fixed steps).
 */
export const SCALE_AUGMENT: readonly (readonly [number, number])[] = [[3, 4], [1, 2]];

/**
 * Decodes (if needed), caps the size, crops to a multiple of `scale` and makes the LR image. Sources
 * one at a time, so only one decoded full-size photo is alive at once.
 */
export async function makePairs(sources: ImageSource[], scale: number, degradation: Degradation, maxPixels = DEFAULT_MAX_IMAGE_PIXELS, scaleAugment = false): Promise<Pair[]> {
  const pairs: Pair[] = [];
  const downscaler = new Downscaler();
  for (const src of sources) {
    let img = src.image ?? (src.bytes ? decodeImage(src.bytes, { maxPixels: MAX_IMAGE_PIXELS }) : undefined); // big photos are shrunk below
    if (!img) throw new TypeError(`image source '${src.name}' has neither image nor bytes`);
    const shrink = Math.ceil(Math.sqrt((img.width * img.height) / maxPixels));
    // Big photos shrink first (antialiased bicubic): what the network learns is then cleaner detail,
    // and 200 MP of photographs need not sit in memory.
    if (shrink > 1) img = await downscaler.downscale(img, shrink, "bicubic");
    if (img.width < scale || img.height < scale) throw invalidInput(`training image '${src.name}' is ${img.width}×${img.height}, smaller than the scale ${scale}`);
    const versions = [{ name: src.name, img }];
    if (scaleAugment) {
      for (const [keep, of] of SCALE_AUGMENT) {
        const fits = Math.floor(img.width / of) * keep >= scale && Math.floor(img.height / of) * keep >= scale; // the copy still holds one LR pixel
        if (fits) versions.push({ name: `${src.name}@${keep}/${of}`, img: await downscaler.shrinkBy(img, keep, of) });
      }
    }
    for (const { name, img } of versions) {
      const hr = cropToMultiple(img, scale);
      // For `real` the sampler degrades each patch itself; the clean LR serves validation.
      const lr = await downscaler.downscale(hr, scale, degradation === "box" ? "box" : "bicubic");
      pairs.push({ name, hr: toRgb(hr), lr: toRgb(lr) });
    }
  }
  return pairs;
}

/** The central part of a pair with LR sides at most maxSide (validation on bounded time). */
export function centreCrop(p: Pair, scale: number, maxSide: number): Pair {
  const w = Math.min(p.lr.width, maxSide), h = Math.min(p.lr.height, maxSide);
  const x0 = (p.lr.width - w) >> 1, y0 = (p.lr.height - h) >> 1;
  return { name: p.name, lr: cut(p.lr, x0, y0, w, h), hr: cut(p.hr, x0 * scale, y0 * scale, w * scale, h * scale) };
}

/** The JPEG quality of `real` validation: the JPEG evaluation protocol's (`srgan eval --jpeg 75`). */
export const REAL_VAL_QUALITY = 75;

/** The pair with its LR as a JPEG round trip at `quality` would give it. */
export function jpegPair(p: Pair, quality: number): Pair {
  const n = p.lr.width * p.lr.height, rgba = new Uint8ClampedArray(4 * n).fill(255);
  for (let i = 0; i < n; i++) {
    rgba[4 * i] = p.lr.data[3 * i]; rgba[4 * i + 1] = p.lr.data[3 * i + 1]; rgba[4 * i + 2] = p.lr.data[3 * i + 2];
  }
  return { ...p, lr: toRgb(jpegRoundTrip({ data: rgba, width: p.lr.width, height: p.lr.height }, quality)) };
}

function cut(img: Rgb8Image, x0: number, y0: number, w: number, h: number): Rgb8Image {
  if (x0 === 0 && y0 === 0 && w === img.width && h === img.height) return img;
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) data.set(img.data.subarray(((y0 + y) * img.width + x0) * 3, ((y0 + y) * img.width + x0 + w) * 3), y * w * 3);
  return { data, width: w, height: h };
}

// byte · f32(1/255), rounded to f32: the same floats as the rgba8_to_f32 kernel feeds an upscaler
// (the product of an 8-bit integer and a 24-bit mantissa is exact in a double before the rounding).
const INV255 = Math.fround(1 / 255);

/**
 * Writes the n×n square at (x0, y0) of img, transformed by t (bit 2: transpose, bit 0: mirror columns,
 * bit 1: mirror rows; the 8 symmetries of a square), as floats 0..1 into out.
 */
export function cutPatch(img: Rgb8Image, x0: number, y0: number, n: number, t: number, out: Float32Array): void {
  const inv = INV255;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let r = i, c = j;
      if (t & 4) { r = j; c = i; }
      if (t & 1) c = n - 1 - c;
      if (t & 2) r = n - 1 - r;
      const s = ((y0 + r) * img.width + x0 + c) * 3, d = (i * n + j) * 3;
      out[d] = img.data[s] * inv;
      out[d + 1] = img.data[s + 1] * inv;
      out[d + 2] = img.data[s + 2] * inv;
    }
  }
}

/**
 * Draws patch pairs: an image uniformly at random (each photo counts once, whatever its size, so a
 * few big photos, mostly smooth at patch scale, do not crowd out the small detailed ones; with the
 * 4 MP cap lifted too this measured +0.10 dB Set5 at 2 000 steps), then a position and, with
 * augmentation, one of the 8 square symmetries. All draws come from `rng`, in a fixed order.
 */
export class PatchSampler {
  private readonly usable: Pair[];
  /** LR pixels around the patch that a per-patch mix works on too (its blur and JPEG see true neighbours). */
  private readonly margin: number;
  private readonly mix: DegradationMix | undefined;
  /** The degradation's downscaling engine, made on first use and kept for the run. */
  private readonly downscaler = new Downscaler();

  constructor(pairs: Pair[], readonly patch: number, readonly scale: number, readonly augment: boolean, readonly degradation: Degradation = "bicubic") {
    this.mix = mixOf(degradation);
    this.margin = this.mix ? DEGRADE_MARGIN : 0;
    const side = patch + 2 * this.margin;
    this.usable = pairs.filter((p) => p.lr.width >= side && p.lr.height >= side);
    if (this.usable.length === 0) {
      throw invalidInput(`no training image is large enough for ${patch}×${patch} LR patches (${patch * scale}×${patch * scale} HR); lower patchSize`);
    }
  }

  /** Writes one LR patch (patch² × 3 floats) and its HR patch ((patch·scale)² × 3) per slot. */
  async drawBatch(rng: Rng, slots: Array<{ lr: Float32Array; hr: Float32Array }>): Promise<void> {
    const m = this.margin, side = this.patch + 2 * m, s = this.scale;
    const draws = slots.map(() => {
      const p = this.usable[rng.int(this.usable.length)];
      return { p, x0: rng.int(p.lr.width - side + 1), y0: rng.int(p.lr.height - side + 1), t: this.augment ? rng.int(8) : 0 };
    });
    const lrs = this.mix ? await degradeSquares(rng, draws.map((d) => ({ hr: d.p.hr, x: d.x0 * s, y: d.y0 * s })), side, s, this.mix, this.downscaler) : undefined;
    draws.forEach(({ p, x0, y0, t }, i) => {
      if (lrs) cutPatch(toRgb(lrs[i]), m, m, this.patch, t, slots[i].lr);
      else cutPatch(p.lr, x0, y0, this.patch, t, slots[i].lr);
      cutPatch(p.hr, (x0 + m) * s, (y0 + m) * s, this.patch * s, t, slots[i].hr);
    });
  }
}
