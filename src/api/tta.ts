// SPDX-License-Identifier: MIT
// Self-ensemble (`upscale(img, { tta: true })`, `srgan upscale --tta`): the network runs on the 8
// flips/rotations of the input, each output is turned back, and the 8 are averaged before the one
// rounding to 8 bits (Timofte et al. 2016's "x8"; realesrgan-ncnn-vulkan's -x). Built as a TileBackend
// around the wasm one, so the scheduler plans, queues, threads, sizes and aborts the job as any other:
// each tile runs its 8 passes, averaging in a buffer of the tile's own size (memory grows with the tile,
// never with the image), and only the mean is rounded, with the rounding f32_to_rgba8 does. Alpha is
// resized as in every job (bicubic, from the identity pass), not averaged.
import { throwIfAborted, UnsupportedError } from "../errors.js";
import type { Lease } from "../runtime/buffer-pool.js";
import type { ImageJob, TileBackend, TileGeometry } from "../runtime/scheduler.js";
import type { Rect, Tile } from "../runtime/tiler.js";
import type { WasmBackend } from "../runtime/wasm-backend.js";

/** The 8 symmetries of the square, as src/train/data.ts's cutPatch numbers them: bit 2 transpose, bit 0 mirror columns, bit 1 mirror rows. */
export const TTA_TRANSFORMS = [0, 1, 2, 3, 4, 5, 6, 7] as const;

/**
 * Where pixel (x, y) of the image transformed by t comes from in the w×h original, as the affine map
 * sx = ax·x + bx·y + cx, sy = ay·x + by·y + cy (so the copy loops step through it without allocating).
 */
export function sourceMap(t: number, w: number, h: number): { ax: number; bx: number; cx: number; ay: number; by: number; cy: number } {
  const m = t & 4 ? { ax: 0, bx: 1, cx: 0, ay: 1, by: 0, cy: 0 } : { ax: 1, bx: 0, cx: 0, ay: 0, by: 1, cy: 0 };
  if (t & 1) { m.ax = -m.ax; m.bx = -m.bx; m.cx = w - 1; }
  if (t & 2) { m.ay = -m.ay; m.by = -m.by; m.cy = h - 1; }
  return m;
}

/** Rectangle r of a w×h image, as it lies in the image transformed by t. */
export function transformRect(t: number, w: number, h: number, r: Rect): Rect {
  const x = t & 1 ? w - r.x - r.w : r.x, y = t & 2 ? h - r.y - r.h : r.y;
  return t & 4 ? { x: y, y: x, w: r.h, h: r.w } : { x, y, w: r.w, h: r.h };
}

/** The byte f32_to_rgba8 makes of v (assembly/kernels/color.ts: round half up in f32, saturating; NaN → 255). */
export function toByte(v: number): number {
  const s = Math.fround(Math.fround(Math.fround(v) * 255) + 0.5);
  if (!(s >= 0)) return Number.isNaN(s) ? 255 : 0;
  return s >= 255 ? 255 : Math.trunc(s);
}

export class SelfEnsembleBackend implements TileBackend<Lease> {
  /**
   * Networks that see the image extended on its grid (Graph.inputPad / align: waifu2x's, Real-CUGAN's)
   * are refused: a flip moves a tile off that grid, and the passes would no longer be the network's
   * output on the flipped image.
   */
  constructor(private readonly inner: WasmBackend) {
    const g = inner.graph;
    if (g.inputPad || (g.align ?? 1) > 1) {
      throw new UnsupportedError(`self-ensemble (tta) does not support '${g.name}', a network that sees the image extended on a grid (${g.meta?.family ?? "inputPad/align"}); upscale without tta`);
    }
  }

  get scale(): number { return this.inner.scale; }
  get concurrency(): number { return this.inner.concurrency; }
  get geometry(): TileGeometry { return this.inner.geometry; }
  private get evenTiles(): boolean { return this.inner.geometry.even ?? false; }
  session<T>(job: () => Promise<T>): Promise<T> { return this.inner.session(job); }
  halo(hasAlpha: boolean): number { return this.inner.halo(hasAlpha); }
  checkUsable(): void { this.inner.checkUsable(); }
  release(lease: Lease): void { this.inner.release(lease); }

  /** The inner backend's, with room for the one pixel a pass may add to put its tile on the even grid. */
  tileSize(width: number, height: number, halo: number, hasAlpha: boolean, job: ImageJob): number {
    return this.inner.tileSize(width, height, halo + 1, hasAlpha, job);
  }

  /** One lease that holds any of the tile's 8 passes (a pass is the tile transposed and grown by ≤ 1 pixel a side). */
  acquire(job: ImageJob, tile: Tile): Lease {
    const { w, h } = tile.padded;
    const grown = [{ w: w + 1, h: h + 1 }, { w: h + 1, h: w + 1 }].map((s) => ({ ...tile, padded: { x: 0, y: 0, ...s } }));
    const bytes = grown.map((g) => this.inner.tileBytes(g, job.hasAlpha, job.bands));
    return this.inner.acquire(job, grown[bytes[0] >= bytes[1] ? 0 : 1]);
  }

  async runTile(job: ImageJob, tile: Tile, lease: Lease, onLayer: (fraction: number) => void): Promise<void> {
    const { image } = job;
    const s = this.scale, W = image.width, H = image.height;
    const cw = tile.core.w * s, ch = tile.core.h * s;
    const sum = new Float64Array(cw * ch * 3);
    const pass = new Float32Array(cw * ch * 3);
    let alpha: { out: Uint8ClampedArray; padded: Rect } | undefined; // the identity pass's RGBA8 output
    let scratch: Uint8ClampedArray | undefined; // the other passes' RGBA8 output, unused: one buffer for all
    for (const t of TTA_TRANSFORMS) {
      throwIfAborted(job.signal);
      const core = transformRect(t, W, H, tile.core);
      const padded = transformRect(t, W, H, tile.padded);
      // A flip moves the tile's origin to odd coordinates when the image side is odd; grow the tile by a
      // pixel there, so Winograd's 2×2 grid falls as in a whole run of the transformed image.
      if (this.evenTiles) {
        if (padded.x & 1) { padded.x--; padded.w++; }
        if (padded.y & 1) { padded.y--; padded.h++; }
      }
      const sub = new Uint8ClampedArray(padded.w * padded.h * 4);
      const inMap = sourceMap(t, W, H), inStep = inMap.ay * W + inMap.ax; // source pixels per step along a row
      for (let y = 0; y < padded.h; y++) {
        const x0 = padded.x, y0 = padded.y + y;
        let src = (inMap.ay * x0 + inMap.by * y0 + inMap.cy) * W + inMap.ax * x0 + inMap.bx * y0 + inMap.cx;
        for (let x = 0, dst = y * padded.w * 4; x < padded.w; x++, dst += 4, src += inStep) {
          const i = src * 4;
          sub[dst] = image.data[i]; sub[dst + 1] = image.data[i + 1]; sub[dst + 2] = image.data[i + 2]; sub[dst + 3] = image.data[i + 3];
        }
      }
      // The identity pass carries the alpha channel (resized as in any job); the others the colour only.
      const withAlpha = t === 0 && job.hasAlpha;
      const subJob: ImageJob = {
        image: { data: sub, width: padded.w, height: padded.h },
        out: withAlpha ? new Uint8ClampedArray(padded.w * s * padded.h * s * 4) : (scratch ??= new Uint8ClampedArray((tile.padded.w + 1) * (tile.padded.h + 1) * s * s * 4)),
        hasAlpha: withAlpha, tilesTotal: job.tilesTotal, bands: job.bands, signal: job.signal, floatOut: pass,
      };
      const subCore = { x: core.x - padded.x, y: core.y - padded.y, w: core.w, h: core.h };
      await this.inner.runTile(subJob, { index: tile.index, core: subCore, padded: { x: 0, y: 0, w: padded.w, h: padded.h } }, lease,
        (f) => onLayer((t + f) / TTA_TRANSFORMS.length));
      if (withAlpha) alpha = { out: subJob.out, padded };
      // Back to the original orientation: output pixel (x, y) of the pass's core is the transformed
      // output's (core.x·s + x, core.y·s + y), which comes from the original output's pixel sourceMap gives,
      // here relative to the tile's core.
      const outMap = sourceMap(t, W * s, H * s), pw = core.w * s, outStep = (outMap.ay * cw + outMap.ax) * 3;
      for (let y = 0; y < core.h * s; y++) {
        const x0 = core.x * s, y0 = core.y * s + y;
        let d = ((outMap.ay * x0 + outMap.by * y0 + outMap.cy - tile.core.y * s) * cw + outMap.ax * x0 + outMap.bx * y0 + outMap.cx - tile.core.x * s) * 3;
        for (let x = 0, p = y * pw * 3; x < pw; x++, p += 3, d += outStep) {
          sum[d] += pass[p]; sum[d + 1] += pass[p + 1]; sum[d + 2] += pass[p + 2];
        }
      }
      onLayer((t + 1) / TTA_TRANSFORMS.length);
    }
    const ow = W * s, n = TTA_TRANSFORMS.length;
    for (let y = 0; y < ch; y++) {
      for (let x = 0; x < cw; x++) {
        const d = ((tile.core.y * s + y) * ow + tile.core.x * s + x) * 4, m = (y * cw + x) * 3;
        job.out[d] = toByte(sum[m] / n); job.out[d + 1] = toByte(sum[m + 1] / n); job.out[d + 2] = toByte(sum[m + 2] / n);
        job.out[d + 3] = alpha ? alpha.out[(((tile.core.y - alpha.padded.y) * s + y) * alpha.padded.w * s + (tile.core.x - alpha.padded.x) * s + x) * 4 + 3] : 255;
      }
    }
  }
}
