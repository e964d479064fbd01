// SPDX-License-Identifier: MIT
// Pure tiling planner: cuts an image into core rectangles, each grown by the network's receptive
// radius (clipped at the image edge). Running the graph on the grown rectangle and keeping only the
// core's output gives exactly the whole-image result: every kept output pixel sees the same inputs
// (and the same zero padding at true image edges) as it would in one pass.
// With `even`, cuts and halos are even, so every tile starts at an even image coordinate: kernels that
// work on a 2×2 grid anchored at the tile's origin (Winograd F(2×2,3×3), assembly/kernels/winograd.ts)
// then use the same grid as the whole image. A tile may then exceed tileSize (+ halo) by a pixel or two.
//
// Networks that see the image extended by `border` pixels per side (Graph.inputPad: waifu2x's
// replicated edges) are tiled over that larger, virtual image: padded rectangles may start at −border
// and end past the image, where the caller fills pixels by the border mode (src/image/border.ts). With
// `align` (stride-2 U-Nets) every padded rectangle starts on the virtual image's align-grid and has
// sides that are multiples of it; the virtual image is itself extended at its bottom/right to one, as
// waifu2x's tools do. Every stage then sees the same grid as in one whole-image run.

export interface Rect { x: number; y: number; w: number; h: number }
export interface Tile {
  index: number;
  /** The pixels this tile is responsible for (input coordinates). */
  core: Rect;
  /** core grown by the halo and clipped to the image: what the graph runs on. */
  padded: Rect;
}

export interface TilingOptions {
  /** Longest side of a tile's core, input pixels. */
  tileSize: number;
  /** Context radius in input pixels (Infinity: the whole image is one tile). */
  halo: number;
  /** Aim for at least this many tiles (so every thread has work), without going below minStrip rows. */
  minTiles?: number;
  minStrip?: number;
  /** Cut cores and halos on even coordinates (see above). */
  even?: boolean;
  /** Pixels the virtual image extends past each side of the image (default 0). */
  border?: number;
  /** Padded rectangles start on, and span, multiples of this in the virtual image (default 1). */
  align?: number;
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** The virtual image's extent along one axis of n pixels: [−border, n + border + the align remainder). */
export function virtualExtent(n: number, border = 0, align = 1): { start: number; end: number } {
  return { start: -border, end: n + border + ((align - ((n + 2 * border) % align)) % align) };
}

/** The cut step (cores start on it) and the halo planTiles uses: ≥ opts.halo and ≡ border (mod step). */
function grid(opts: TilingOptions): { step: number; r: number } {
  const border = opts.border ?? 0, align = opts.align ?? 1;
  const evenStep = opts.even ? 2 : 1;
  const step = (evenStep * align) / gcd(evenStep, align);
  return { step, r: opts.halo + ((((border - opts.halo) % step) + step) % step) };
}

/**
 * A bound on the padded side of any tile planTiles cuts with opts.tileSize along an n-pixel axis, itself
 * a size the network takes (a multiple of align): what memory planning sizes one tile by.
 */
export function maxPaddedSide(n: number, opts: TilingOptions): number {
  const { step, r } = grid(opts);
  const v = virtualExtent(n, opts.border, opts.align);
  const align = opts.align ?? 1;
  const side = Math.min(v.end - v.start, Math.max(step, Math.floor(opts.tileSize)) + step - 1 + 2 * r);
  return Math.min(v.end - v.start, Math.ceil(side / align) * align);
}

export function planTiles(width: number, height: number, opts: TilingOptions): Tile[] {
  const border = opts.border ?? 0, align = opts.align ?? 1;
  const vx = virtualExtent(width, border, align), vy = virtualExtent(height, border, align);
  if (!Number.isFinite(opts.halo)) {
    const core = { x: 0, y: 0, w: width, h: height };
    return [{ index: 0, core, padded: { x: vx.start, y: vy.start, w: vx.end - vx.start, h: vy.end - vy.start } }];
  }
  // Cores are cut on the step-grid of the image; halos are ≡ border (mod step), so every padded
  // rectangle starts on the step-grid of the virtual image (whose origin is −border).
  const { step, r } = grid(opts);
  const size = Math.max(step, Math.floor(opts.tileSize));
  const cols = Math.ceil(width / size);
  let rows = Math.ceil(height / size);
  const minStrip = Math.max(step, opts.minStrip ?? 16);
  // Too few tiles to keep every thread busy: cut rows thinner (halo cost falls on one axis only).
  while (cols * rows < (opts.minTiles ?? 1) && Math.ceil(height / (rows + 1)) >= minStrip && rows < Math.ceil(height / step)) rows++;
  const tiles: Tile[] = [];
  // Cut in units of `step` pixels (parts ≤ units since size ≥ step, so no part is empty); the last cut is n.
  const cut = (n: number, parts: number) => Array.from({ length: parts + 1 }, (_, i) => Math.min(n, step * Math.round((i * Math.ceil(n / step)) / parts)));
  const xs = cut(width, cols), ys = cut(height, rows);
  // [a, b) grown by r, within the virtual extent, its length made a multiple of align towards the end.
  const grow = (a: number, b: number, v: { start: number; end: number }) => {
    const lo = Math.max(v.start, a - r);
    const hi = Math.min(v.end, b + r);
    return { lo, len: Math.min(v.end, hi + ((align - ((hi - lo) % align)) % align)) - lo };
  };
  for (let j = 0; j < rows; j++) {
    for (let i = 0; i < cols; i++) {
      const core = { x: xs[i], y: ys[j], w: xs[i + 1] - xs[i], h: ys[j + 1] - ys[j] };
      const gx = grow(core.x, core.x + core.w, vx), gy = grow(core.y, core.y + core.h, vy);
      tiles.push({ index: tiles.length, core, padded: { x: gx.lo, y: gy.lo, w: gx.len, h: gy.len } });
    }
  }
  return tiles;
}
