// SPDX-License-Identifier: MIT
// The tile scheduler on its own, with stand-in backends: the 2 GiB output guard runs before any backend
// (the WebGL runner's included), every acquired tile's memory is released on success, failure and
// abort, a tile whose memory is not free waits for a running one, and layer-major bands cover each
// step's rows once.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { largestFitting, planLayout, runLayerMajor, runTiles, upscaleInTiles, type TileBackend, type TileWork } from "../../src/runtime/scheduler.js";
import { planTiles, type Tile } from "../../src/runtime/tiler.js";
import { WebglRunner } from "../../src/backends/webgl/index.js";
import { OutOfMemoryError, SrganError } from "../../src/errors.js";

const test = suite("scheduler");

// 4097×2048 at ×8 is 32776×16384 RGBA: just over 2 GiB.
const huge = () => ({ data: new Uint8Array(4097 * 2048 * 4), width: 4097, height: 2048 });

const codeOf = (p: Promise<unknown>) => p.then(() => "resolved", (e: SrganError) => e.code ?? e.name);

test("the output guard refuses an image over 2 GiB before the backend is touched", async () => {
  const touched: string[] = [];
  const backend = new Proxy({ scale: 8 } as TileBackend, {
    get: (t, k) => (k === "scale" ? t.scale : (touched.push(String(k)), () => { throw new Error(`touched ${String(k)}`); })),
  });
  assert.is(await codeOf(upscaleInTiles(backend, huge())), "ERR_INVALID_INPUT");
  assert.equal(touched, []);
});

test("the WebGL runner's upscale() goes through the same guard before any GL state is used", async () => {
  // A stand-in `this` that records every member the method reads besides the network's description.
  const touched: string[] = [];
  const graph = { name: "x", scale: 8, channels: 3 };
  const self = new Proxy({}, {
    get: (_, k) => {
      if (k === "graph") return graph;
      if (k === "scale") return 8;
      touched.push(String(k));
      return () => { throw new Error(`touched ${String(k)}`); };
    },
  });
  assert.is(await codeOf(WebglRunner.prototype.upscale.call(self as WebglRunner, huge())), "ERR_INVALID_INPUT");
  assert.equal(touched, []);
});

/** TileWork over `tiles` whose acquire takes `cost(tile)` units of a `capacity`-unit pool. */
function work(capacity: number, concurrency: number, run: (t: Tile) => Promise<void>, cost = (_: Tile) => 1) {
  let free = capacity, live = 0, peak = 0;
  const log = { acquired: 0, released: 0, peak: () => peak, free: () => free };
  const w: TileWork<number> = {
    concurrency,
    acquire: (t) => {
      const n = cost(t);
      if (n > free) throw new OutOfMemoryError(n, free, "test");
      free -= n; log.acquired++;
      return n;
    },
    release: (n) => { free += n; log.released++; },
    run: async (t) => { live++; peak = Math.max(peak, live); try { await run(t); } finally { live--; } },
    checkUsable: () => {},
  };
  return { w, log };
}

const tiles = planTiles(64, 64, { tileSize: 16, halo: 2 }); // 16 tiles
const tick = () => new Promise<void>((r) => setTimeout(r, 1));

test("keeps `concurrency` tiles in flight and reports progress in order of completion", async () => {
  const { w, log } = work(100, 3, tick);
  const seen: number[] = [];
  await runTiles(w, tiles, { onProgress: (p) => seen.push(p.tilesDone) });
  assert.is(log.peak(), 3);
  assert.equal(seen, tiles.map((_, i) => i + 1));
  assert.equal([log.acquired, log.released, log.free()], [16, 16, 100]);
});

test("a tile whose memory is not free waits for a running one; with none running the job fails", async () => {
  const { w, log } = work(2, 4, tick); // room for 2 of the 4 threads' tiles
  await runTiles(w, tiles);
  assert.equal([log.acquired, log.released, log.peak()], [16, 16, 2]);
  const big = work(2, 4, tick, () => 3);
  assert.is(await codeOf(runTiles(big.w, tiles)), "ERR_OUT_OF_MEMORY");
  assert.is(big.log.acquired, 0);
});

test("failure and abort stop new tiles, await the running ones and release every lease", async () => {
  const failing = work(100, 2, async (t) => { await tick(); if (t.index === 3) throw new SrganError("ERR_KERNEL", "boom"); });
  assert.is(await codeOf(runTiles(failing.w, tiles)), "ERR_KERNEL");
  assert.ok(failing.log.acquired < 16, "no new tile after the failure");
  assert.equal([failing.log.released, failing.log.free()], [failing.log.acquired, 100]);
  const ac = new AbortController();
  const aborted = work(100, 2, async (t) => { await tick(); if (t.index === 4) ac.abort(new Error("stop")); });
  assert.is(await codeOf(runTiles(aborted.w, tiles, { signal: ac.signal })), "ERR_ABORTED");
  assert.equal([aborted.log.released, aborted.log.free()], [aborted.log.acquired, 100]);
});

test("disposal during a job is what the job reports, not the failure it caused", async () => {
  let disposed = false;
  const { w } = work(100, 2, async (t) => { await tick(); if (t.index === 2) { disposed = true; throw new Error("worker gone"); } });
  w.checkUsable = () => { if (disposed) throw new SrganError("ERR_DISPOSED", "disposed"); };
  assert.is(await codeOf(runTiles(w, tiles)), "ERR_DISPOSED");
});

test("layer progress is reported for a job of one tile only (with several, tiles in flight would interleave)", async () => {
  const seen: string[] = [];
  for (const ts of [tiles.slice(0, 1), tiles.slice(0, 3)]) {
    const { w } = work(100, 2, async () => {});
    w.run = async (_t, _r, onLayer) => { onLayer(0.5); };
    await runTiles(w, ts, { onProgress: (p) => seen.push(`${p.tilesDone}/${p.tilesTotal}@${p.fraction.toFixed(2)}`) });
  }
  assert.equal(seen, ["0/1@0.50", "1/1@1.00", "1/3@0.33", "2/3@0.67", "3/3@1.00"]);
});

test("largestFitting bisects to the largest side that fits, and gives the minimum when none does", () => {
  assert.is(largestFitting(8, 256, (t) => t <= 100), 100);
  assert.is(largestFitting(8, 256, () => true), 256);
  assert.is(largestFitting(8, 256, () => false), 8);
});

test("layer-major: bands cover each bandable step's rows exactly once, at most `parts` at a time", async () => {
  const steps = [{ h: 7, band: true }, { h: 1, band: false }, { h: 2, band: true }];
  const rows: string[] = [];
  const layers: number[] = [];
  await runLayerMajor(steps, {
    rows: (s) => s.h, bandable: (s) => s.band, parts: 3,
    runWhole: (s) => { rows.push(`whole ${s.h}`); },
    runBand: async (s, y0, y1, band) => { rows.push(`${s.h}: ${y0}-${y1} #${band}`); },
    onLayer: (f) => layers.push(f),
  });
  assert.equal(rows, ["7: 0-2 #0", "7: 2-5 #1", "7: 5-7 #2", "whole 1", "2: 0-1 #0", "2: 1-2 #1"]);
  assert.equal(layers, [0.25, 0.5, 0.75]);
});

test("layout: one tile per thread when that keeps them busy, row bands when tiles would leave threads idle", () => {
  const lay = (w: number, h: number, threads: number, halo = 12) => {
    const { tiles, bands } = planLayout(w, h, { tileSize: 256, halo, even: true }, threads);
    return `${tiles.length}×${bands}`;
  };
  assert.is(lay(256, 256, 1), "1×1", "one thread: the whole image, no halo");
  assert.is(lay(256, 256, 2), "1×2", "one tile, two threads: bands (thinner tiles would recompute 2 × 12 halo rows)");
  assert.is(lay(512, 512, 2), "4×1", "four tiles on two threads: even, no barriers needed");
  assert.is(lay(768, 256, 2), "3×2", "three tiles on two threads: bands, no idle thread for the last tile");
  assert.is(lay(4096, 4096, 4), "256×1");
  assert.is(lay(40, 40, 3, 2), "2×1", "too few rows for a band per thread: thinner tiles");
  assert.is(lay(67, 45, 2), "2×1", "bands too small to pay for a barrier per layer: thinner tiles");
  assert.is(lay(64, 64, 3, Infinity), "1×1", "whole-image networks: one tile (their bands are the backend's)");
});

test.run();
