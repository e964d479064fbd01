// Self-ensemble (upscale(img, { tta: true })): the output is the mean of the network's float outputs on
// the 8 flips/rotations, each turned back, rounded once; computed here on its own (whole images, no
// tiles, the transforms as array operations, the rounding by the f32_to_rgba8 kernel) and compared bit
// for bit. Also: alpha as without tta, progress across the passes, abort, the pool back to baseline.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createUpscaler, type Upscaler } from "../../src/index.js";
import { Engine } from "../../src/runtime/engine.js";
import { prepareNetwork } from "../../src/runtime/network.js";
import { planExecution } from "../../src/runtime/plan.js";
import { runPlanWasm } from "../../src/runtime/executor.js";
import { validateGraph } from "../../src/model/graph.js";
import type { Graph } from "../../src/model/types.js";
import type { ConvAlgorithm } from "../../src/ops/op.js";
import { rng, shuffleNetwork, globalNetwork, randomImage } from "../helpers.js";
import { fillTransparentColour } from "../../src/image/alpha-fill.js";
import type { RgbaImage } from "../../src/image/rgba.js";

const test = suite("tta");
const rand = rng(27);
const net = shuffleNetwork(rand, 12);

interface Planes { data: ArrayLike<number> & { length: number }; w: number; h: number; c: number }
const mapPlanes = <T extends Planes>(p: T, w: number, h: number, from: (x: number, y: number) => [number, number], make: (n: number) => T["data"]): T => {
  const data = make(w * h * p.c) as unknown as number[];
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const [sx, sy] = from(x, y);
    for (let k = 0; k < p.c; k++) data[(y * w + x) * p.c + k] = p.data[(sy * p.w + sx) * p.c + k];
  }
  return { ...p, data, w, h } as T;
};
const mirrorCols = <T extends Planes>(p: T, make: (n: number) => T["data"]) => mapPlanes(p, p.w, p.h, (x, y) => [p.w - 1 - x, y], make);
const mirrorRows = <T extends Planes>(p: T, make: (n: number) => T["data"]) => mapPlanes(p, p.w, p.h, (x, y) => [x, p.h - 1 - y], make);
const transpose = <T extends Planes>(p: T, make: (n: number) => T["data"]) => mapPlanes(p, p.h, p.w, (x, y) => [y, x], make);

/** The mean of the 8 transformed runs, each a whole-image pass, turned back, rounded once by the kernel. */
async function expectedTta(graph: Graph, img: RgbaImage, conv: ConvAlgorithm): Promise<Uint8ClampedArray> {
  const engine = await Engine.create({ memoryLimit: 128 << 20 });
  const g = validateGraph(graph);
  const prepared = prepareNetwork(engine, g, { conv });
  const s = g.scale, W = img.width * s, H = img.height * s;
  const sum = new Float64Array(W * H * 3);
  const bytes = (n: number) => new Uint8ClampedArray(n), floats = (n: number) => new Float32Array(n);
  for (let t = 0; t < 8; t++) {
    let a: Planes = { data: img.data, w: img.width, h: img.height, c: 4 };
    if (t & 1) a = mirrorCols(a, bytes);
    if (t & 2) a = mirrorRows(a, bytes);
    if (t & 4) a = transpose(a, bytes);
    const plan = planExecution(g, a.h, a.w);
    const lease = engine.pool.lease(plan.arenaBytes + a.w * a.h * 4 + 64);
    const rgbaPtr = lease.ptr + plan.arenaBytes;
    engine.u8(rgbaPtr, a.w * a.h * 4).set(a.data as Uint8ClampedArray);
    engine.kernels.rgba8_to_f32(rgbaPtr, lease.ptr + plan.input.offset, 0, 0, a.w * a.h);
    runPlanWasm(engine.kernels, prepared.handle, plan, lease.ptr);
    let o: Planes = { data: engine.f32(lease.ptr + plan.output.offset, a.w * s * a.h * s * 3).slice(), w: a.w * s, h: a.h * s, c: 3 };
    engine.pool.release(lease);
    if (t & 4) o = transpose(o, floats);
    if (t & 2) o = mirrorRows(o, floats);
    if (t & 1) o = mirrorCols(o, floats);
    for (let i = 0; i < sum.length; i++) sum[i] += o.data[i];
  }
  const mean = Float32Array.from(sum, (v) => v / 8);
  const lease = engine.pool.lease(mean.length * 4 + W * H * 4 + 64);
  engine.f32(lease.ptr, mean.length).set(mean);
  engine.kernels.f32_to_rgba8(lease.ptr, 0, lease.ptr + mean.length * 4, 0, W * H);
  return new Uint8ClampedArray(engine.u8(lease.ptr + mean.length * 4, W * H * 4));
}

const poolState = (up: Upscaler) => { const s = up.stats(); return { currentBytes: s.currentBytes, activeLeases: s.activeLeases }; };

for (const conv of ["direct", "winograd"] as const) {
  test(`${conv}: tta output = the mean of the 8 transformed whole-image runs, rounded once (tiled on 2 threads and whole on 1; odd sizes)`, async () => {
    const ups = [await createUpscaler({ model: net, threads: 2, tileSize: 16, convAlgorithm: conv }),
      await createUpscaler({ model: net, threads: 0, tileSize: 4096, convAlgorithm: conv })];
    try {
      for (const [w, h] of [[1, 1], [1, 9], [13, 2], [31, 17], [37, 41], [151, 97]]) {
        const img = randomImage(rand, w, h);
        const want = await expectedTta(net, img, conv);
        for (const up of ups) {
          const before = poolState(up);
          const got = await up.upscale(img, { tta: true });
          assert.is(got.width, w * 4); assert.is(got.height, h * 4);
          const bad = got.data.findIndex((v, i) => v !== want[i]);
          assert.is(bad, -1, `${w}×${h} (${up.info().threads} threads): byte ${bad} is ${got.data[bad]}, expected ${want[bad]}`);
          assert.equal(poolState(up), before, "the pool is back to where it was");
        }
      }
    } finally {
      for (const up of ups) await up.dispose();
    }
  });
}

test("a whole-image-statistics network (one tile, layer-major on 2 threads): the same mean", async () => {
  const g = globalNetwork(rng(5));
  const up = await createUpscaler({ model: g, threads: 2 });
  try {
    const img = randomImage(rand, 29, 23);
    const want = await expectedTta(g, img, "auto");
    const got = await up.upscale(img, { tta: true });
    assert.ok(got.data.every((v, i) => v === want[i]));
  } finally {
    await up.dispose();
  }
});

test("alpha is resized as without tta; the colour is the ensemble's", async () => {
  const up = await createUpscaler({ model: net, threads: 2, tileSize: 16 });
  try {
    const img = randomImage(rand, 23, 19, false);
    const plain = await up.upscale(img), tta = await up.upscale(img, { tta: true });
    // The colour under fully transparent pixels is filled from the visible ones first, in every job.
    const want = await expectedTta(net, fillTransparentColour(img), "auto");
    for (let i = 0; i < tta.data.length; i += 4) {
      assert.is(tta.data[i + 3], plain.data[i + 3], `alpha of pixel ${i / 4}`);
      for (let k = 0; k < 3; k++) assert.is(tta.data[i + k], want[i + k], `colour of pixel ${i / 4}`);
    }
  } finally {
    await up.dispose();
  }
});

test("progress runs once from 0 to 1 across the 8 passes (one-tile job: each pass reports)", async () => {
  const up = await createUpscaler({ model: net, threads: 0, tileSize: 4096 });
  try {
    const seen: number[] = [];
    await up.upscale(randomImage(rand, 20, 12), { tta: true, onProgress: (p) => seen.push(p.fraction) });
    assert.ok(seen.every((f, i) => i === 0 || f >= seen[i - 1]), `monotonic: ${seen.join(", ")}`);
    for (let k = 1; k <= 8; k++) assert.ok(seen.includes(k / 8), `reports ${k}/8 (${seen.join(", ")})`);
    assert.is(seen.at(-1), 1);
  } finally {
    await up.dispose();
  }
});

test("abort mid-way (during the passes of a one-tile job, and between tiles): AbortError, the pool back to baseline", async () => {
  for (const opts of [{ threads: 0, tileSize: 4096 }, { threads: 2, tileSize: 16 }]) {
    const up = await createUpscaler({ model: net, ...opts });
    try {
      const before = poolState(up);
      const ac = new AbortController();
      let reports = 0;
      const job = up.upscale(randomImage(rand, 64, 48), { tta: true, signal: ac.signal, onProgress: () => { if (++reports === 2) ac.abort(); } });
      const err = await job.then(() => null, (e) => e);
      assert.ok(err && err.code === "ERR_ABORTED", `aborted (${String(err)})`);
      assert.ok(reports <= 4, `stopped soon after (${reports} reports of 8 passes or 12 tiles)`);
      assert.equal(poolState(up), before);
      // The upscaler still works afterwards.
      assert.is((await up.upscale(randomImage(rand, 5, 3), { tta: true })).width, 20);
    } finally {
      await up.dispose();
    }
  }
});

test("a network that sees the image extended on a grid (waifu2x-like: inputPad, align 2) is refused with ERR_UNSUPPORTED, nothing leaks", async () => {
  const { opCase } = await import("../ops/cases.js");
  const up = await createUpscaler({ model: opCase("unpadded U-Net stage (valid convs, SpaceToDepth, PixelShuffle, Crop, Concat)").graph, threads: 0 });
  try {
    const before = up.stats().activeLeases;
    try {
      await up.upscale(randomImage(rng(1), 20, 16), { tta: true });
      assert.unreachable("tta ran");
    } catch (e) {
      assert.is((e as { code?: string }).code, "ERR_UNSUPPORTED");
      assert.match((e as Error).message, /upscale without tta/);
    }
    assert.is(up.stats().activeLeases, before);
    assert.is((await up.upscale(randomImage(rng(1), 20, 16))).width, 20);
  } finally {
    await up.dispose();
  }
});

test("options.tta must be a boolean", async () => {
  const up = await createUpscaler({ model: net, threads: 0 });
  try {
    const err = await up.upscale(randomImage(rand, 2, 2), { tta: 1 as unknown as boolean }).then(() => null, (e) => e);
    assert.instance(err, TypeError);
    assert.match(err.message, /options\.tta must be a boolean/);
  } finally {
    await up.dispose();
  }
});

test.run();
