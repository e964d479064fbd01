// SPDX-License-Identifier: MIT
// Pure tiling planner: cuts an image into core rectangles, each grown by the network's receptive
// radius (clipped at the image edge). Running the graph on the grown rectangle and keeping only the
// core's output gives exactly the whole-image result: every kept output pixel sees the same inputs
// (and the same zero padding at true image edges) as it would in one pass.
// With `even`, cuts and halos are even, so every tile starts at an even image coordinate: kernels that
// work on a 2×2 grid anchored at the tile's origin (Winograd F(2×2,3×3), assembly/kernels/winograd.ts)
// then use the same grid as the whole image. A tile may then exceed tileSize (+ halo) by a pixel or two.

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
}

export function planTiles(width: number, height: number, opts: TilingOptions): Tile[] {
  if (!Number.isFinite(opts.halo)) {
    const whole = { x: 0, y: 0, w: width, h: height };
    return [{ index: 0, core: whole, padded: whole }];
  }
  const step = opts.even ? 2 : 1;
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
  const r = step * Math.ceil(opts.halo / step);
  for (let j = 0; j < rows; j++) {
    for (let i = 0; i < cols; i++) {
      const core = { x: xs[i], y: ys[j], w: xs[i + 1] - xs[i], h: ys[j + 1] - ys[j] };
      const x0 = Math.max(0, core.x - r), y0 = Math.max(0, core.y - r);
      const x1 = Math.min(width, core.x + core.w + r), y1 = Math.min(height, core.y + core.h + r);
      tiles.push({ index: tiles.length, core, padded: { x: x0, y: y0, w: x1 - x0, h: y1 - y0 } });
    }
  }
  return tiles;
}
