// Conv2D: wasm kernel vs the plain-TypeScript reference on random shapes, plus band/whole identity.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { Engine } from "../../src/runtime/engine.js";
import { validateGraph, type Graph } from "../../src/model/graph.js";
import { prepareNetwork } from "../../src/runtime/network.js";
import { planExecution } from "../../src/runtime/plan.js";
import { runPlanWasm, runPlanReference, runStepWasm } from "../../src/runtime/executor.js";
import type { ConvAlgorithm } from "../../src/ops/op.js";
import { planTiles } from "../../src/runtime/tiler.js";
import { WINOGRAD_AUTO_MIN_CHANNELS } from "../../src/ops/conv2d.js";
import { getOp } from "../../src/ops/registry.js";
import { rng, randomArray, randInt, assertClose, assertBitIdentical, firstMismatch } from "../helpers.js";

const test = suite("Conv2D");
const engine = await Engine.create({ memoryLimit: 64 << 20, wasmVariant: "simd" });
const defaultEngine = engine;
const relaxed = await Engine.create({ memoryLimit: 64 << 20, wasmVariant: "relaxed" });

function convGraph(rand: () => number, cin: number, couts: number[], k: number, act: string): Graph {
  const weights: Graph["weights"] = {};
  const nodes: Graph["nodes"] = [];
  let prev = "x", c = cin;
  // A stem producing `cin` channels from RGB, then the layers under test.
  weights.stem = { shape: [cin, 1, 1, 3], data: randomArray(cin * 3, rand) };
  nodes.push({ op: "Conv2D", inputs: ["x"], output: "s", attrs: { k: 1, cout: cin }, weights: { kernel0: "stem" } });
  prev = "s";
  couts.forEach((co, i) => {
    weights[`k${i}`] = { shape: [co, k, k, c], data: randomArray(co * k * k * c, rand, -0.5, 0.5) };
    weights[`b${i}`] = { shape: [co], data: randomArray(co, rand) };
    weights[`p${i}`] = { shape: [co], data: randomArray(co, rand, 0, 0.3) };
    weights[`sp${i}`] = { shape: [3, co], data: randomArray(3 * co, rand, 0, 1.5) };
    const w: Record<string, string> = { kernel0: `k${i}`, bias: `b${i}` };
    if (act === "prelu") w.slope = `p${i}`;
    if (act === "spline") w.spline = `sp${i}`;
    nodes.push({ op: "Conv2D", inputs: [prev], output: `t${i}`, attrs: { k, cout: co, act, alpha: 0.2 }, weights: w });
    prev = `t${i}`;
    c = co;
  });
  weights.head = { shape: [3, 1, 1, c], data: randomArray(3 * c, rand) };
  nodes.push({ op: "Conv2D", inputs: [prev], output: "y", attrs: { k: 1, cout: 3 }, weights: { kernel0: "head" } });
  return { name: "t", scale: 1, input: "x", output: "y", nodes, weights };
}

function runBoth(g: Graph, h: number, w: number, rand: () => number, conv: ConvAlgorithm = "direct", engine = defaultEngine) {
  const vg = validateGraph(g);
  const net = prepareNetwork(engine, vg, { conv });
  const plan = planExecution(vg, h, w);
  const lease = engine.pool.lease(plan.arenaBytes * 2);
  try {
    const a = lease.ptr, b = lease.ptr + plan.arenaBytes;
    const x = randomArray(h * w * 3, rand, 0, 1);
    engine.f32(a + plan.input.offset, x.length).set(x);
    engine.f32(b + plan.input.offset, x.length).set(x);
    runPlanWasm(engine.kernels, net.handle, plan, a);
    runPlanReference(engine.memory.buffer, vg, plan, b);
    const n = plan.output.shape.h * plan.output.shape.w * plan.output.shape.c;
    return { wasm: engine.f32(a + plan.output.offset, n).slice(), ref: engine.f32(b + plan.output.offset, n).slice(), net, plan, vg, x };
  } finally {
    engine.pool.release(lease);
  }
}

for (const act of ["none", "relu", "leaky", "prelu", "spline"]) {
  test(`random shapes, act ${act}: wasm matches reference`, () => {
    const rand = rng(act.length * 7919);
    for (let trial = 0; trial < 6; trial++) {
      const h = trial === 0 ? 1 : randInt(rand, 1, 19), w = trial === 1 ? 1 : randInt(rand, 1, 23);
      const k = [1, 3, 5, 9][randInt(rand, 0, 3)];
      const cin = randInt(rand, 1, 13), co = randInt(rand, 1, 21);
      const { wasm, ref, net } = runBoth(convGraph(rand, cin, [co], k, act), h, w, rand);
      engine.pool.release(net.weightsLease);
      assertClose(wasm, ref, 1e-4, `${h}x${w} k${k} ${cin}->${co}`);
    }
  });
}

// Winograd F(2×2,3×3) against the float64 direct reference. Tolerance: |wasm − ref| ≤ 2e-5·max(1, |ref|),
// the direct kernel's order of error (its transforms add a few roundings per output, no more).
const WINOGRAD_TOL = 2e-5;
const winogradUsed = (net: ReturnType<typeof prepareNetwork>) => net.handle.packed.some((p) => p.winograd0 !== undefined);

for (const [variant, eng] of [["simd", engine], ["relaxed", relaxed]] as const) {
  test(`Winograd (${variant}), random shapes and every activation: matches the f64 reference`, () => {
    const rand = rng(variant.length * 104729);
    for (let trial = 0; trial < 14; trial++) {
      const act = ["none", "relu", "leaky", "prelu", "spline"][trial % 5];
      const h = trial === 0 ? 1 : randInt(rand, 1, 19), w = trial <= 1 ? 1 : randInt(rand, 1, 23);
      const big = trial % 4 === 3; // channel counts of real layers, some not multiples of 4 or 8
      const cin = big ? randInt(rand, 30, 66) : randInt(rand, 1, 13), co = big ? randInt(rand, 30, 66) : randInt(rand, 1, 21);
      const { wasm, ref, net } = runBoth(convGraph(rand, cin, [co], 3, act), h, w, rand, "winograd", eng);
      const used = winogradUsed(net);
      eng.pool.release(net.weightsLease);
      assert.ok(used, "the Winograd kernel ran");
      assertClose(wasm, ref, WINOGRAD_TOL, `${variant} ${h}x${w} ${cin}->${co} ${act}`);
    }
  });
}

/**
 * Runs `plan` once whole and once step by step through `runBanded` (in a second arena), on the same
 * random input, and asserts the outputs are bit-identical.
 */
function assertBandsMatchWhole(net: ReturnType<typeof prepareNetwork>, plan: ReturnType<typeof planExecution>, rand: () => number,
  runBanded: (step: (typeof plan.steps)[number], arena: number) => void): void {
  const lease = engine.pool.lease(plan.arenaBytes * 2);
  const { h, w, c } = plan.input.shape;
  const x = randomArray(h * w * c, rand, 0, 1);
  for (const base of [lease.ptr, lease.ptr + plan.arenaBytes]) engine.f32(base + plan.input.offset, x.length).set(x);
  runPlanWasm(engine.kernels, net.handle, plan, lease.ptr);
  const banded = lease.ptr + plan.arenaBytes;
  for (const step of plan.steps) runBanded(step, banded);
  const o = plan.output.shape, n = o.h * o.w * o.c;
  assertBitIdentical(engine.f32(banded + plan.output.offset, n), engine.f32(lease.ptr + plan.output.offset, n), "banded");
  engine.pool.release(lease);
}

// Row bands (as threads split a layer) give the whole's bits, for both 3×3 algorithms; odd bands for
// Winograd, whose 2×2 output tiles a band may cut through.
for (const [conv, band] of [["direct", 5], ["winograd", 3]] as const) {
  test(`${conv}: row bands of ${band} give bit-identical results to the whole`, () => {
    const rand = rng(conv === "direct" ? 42 : 43);
    const g = validateGraph(convGraph(rand, 8, [16, 12], 3, "prelu"));
    const net = prepareNetwork(engine, g, { conv });
    assert.is(winogradUsed(net), conv === "winograd");
    const h = 17, w = 21;
    assertBandsMatchWhole(net, planExecution(g, h, w), rand, (step, arena) => {
      const H = step.output.shape.h;
      for (let y = 0; y < H; y += band) runStepWasm(engine.kernels, net.handle, step, arena, y, Math.min(H, y + band));
    });
    engine.pool.release(net.weightsLease);
  });
}

// The float-level form of the executor's promise (bytes out of the upscaler would hide last-bit
// differences): every tile of planTiles, run on its padded rectangle, reproduces its core exactly.
test("Winograd: tiles from planTiles reproduce the whole image bit for bit (float outputs)", () => {
  const rand = rng(44);
  const g = validateGraph(convGraph(rand, 6, [16, 9, 16], 3, "prelu"));
  const net = prepareNetwork(engine, g, { conv: "winograd" });
  const H = 23, W = 37, C = 3;
  const x = randomArray(H * W * C, rand, 0, 1);
  const run = (h: number, w: number, input: (yy: number, xx: number, c: number) => number) => {
    const plan = planExecution(g, h, w);
    const lease = engine.pool.lease(plan.arenaBytes);
    const xin = engine.f32(lease.ptr + plan.input.offset, h * w * C);
    for (let yy = 0; yy < h; yy++) for (let xx = 0; xx < w; xx++) for (let c = 0; c < C; c++) xin[(yy * w + xx) * C + c] = input(yy, xx, c);
    runPlanWasm(engine.kernels, net.handle, plan, lease.ptr);
    const out = engine.f32(lease.ptr + plan.output.offset, h * w * C).slice();
    engine.pool.release(lease);
    return out;
  };
  const whole = run(H, W, (yy, xx, c) => x[(yy * W + xx) * C + c]);
  for (const tileSize of [7, 9, 16]) {
    for (const t of planTiles(W, H, { tileSize, halo: g.receptiveRadius, even: true })) {
      const p = t.padded;
      const out = run(p.h, p.w, (yy, xx, c) => x[((p.y + yy) * W + p.x + xx) * C + c]);
      for (let yy = t.core.y; yy < t.core.y + t.core.h; yy++) {
        for (let xx = t.core.x; xx < t.core.x + t.core.w; xx++) {
          for (let c = 0; c < C; c++) {
            const a = out[((yy - p.y) * p.w + xx - p.x) * C + c], b = whole[(yy * W + xx) * C + c];
            if (a !== b) assert.unreachable(`tile size ${tileSize}, tile ${t.index}: (${yy}, ${xx}, ${c}) is ${a}, whole image ${b}`);
          }
        }
      }
    }
  }
  engine.pool.release(net.weightsLease);
});

test("Winograd: 'auto' takes it from WINOGRAD_AUTO_MIN_CHANNELS on, 'direct' never, other shapes never", () => {
  const rand = rng(5);
  const packs = (cin: number, couts: number[], k: number, conv: ConvAlgorithm) => {
    const net = prepareNetwork(engine, validateGraph(convGraph(rand, cin, couts, k, "none")), { conv });
    engine.pool.release(net.weightsLease);
    return net.handle.packed.map((p) => p.winograd0 !== undefined);
  };
  const n = WINOGRAD_AUTO_MIN_CHANNELS;
  assert.equal(packs(n, [n], 3, "auto"), [false, true, false]);
  assert.equal(packs(n - 1, [n + 5], 3, "auto"), [false, false, false]);
  assert.equal(packs(n + 5, [n - 1], 3, "auto"), [false, false, false]);
  assert.equal(packs(16, [16], 3, "direct"), [false, false, false]);
  assert.equal(packs(4, [5], 3, "winograd"), [false, true, false]);
  assert.equal(packs(16, [16], 5, "winograd"), [false, false, false]);
});

// srgan-rust's layers: several image inputs summed, a bias computed from global means. Each input takes
// its own kernel (Winograd adds into the output); row bands on their own scratch give the whole's bits.
function multiInputGraph(rand: () => number, c1: number, co: number): Graph {
  return {
    name: "multi", scale: 1, input: "x", output: "y",
    nodes: [
      { op: "Conv2D", inputs: ["x"], output: "a", attrs: { k: 3, cout: c1, act: "relu" }, weights: { kernel0: "k0" } },
      { op: "GlobalMean", inputs: ["a"], output: "m", attrs: {}, weights: {} },
      { op: "Dense", inputs: ["m"], output: "d", attrs: { units: co }, weights: { matrix0: "m0" } },
      { op: "Conv2D", inputs: ["a", "x", "d"], output: "b", attrs: { k: 3, cout: co, dynamicBias: true, act: "spline" }, weights: { kernel0: "k1", kernel1: "k2", spline: "sp" } },
      { op: "Conv2D", inputs: ["b"], output: "y", attrs: { k: 1, cout: 3 }, weights: { kernel0: "head" } },
    ],
    weights: {
      k0: { shape: [c1, 3, 3, 3], data: randomArray(c1 * 27, rand, -0.5, 0.5) },
      m0: { shape: [c1, co], data: randomArray(c1 * co, rand) },
      k1: { shape: [co, 3, 3, c1], data: randomArray(co * 9 * c1, rand, -0.3, 0.3) },
      k2: { shape: [co, 3, 3, 3], data: randomArray(co * 27, rand, -0.3, 0.3) },
      sp: { shape: [3, co], data: randomArray(3 * co, rand, 0, 1.5) },
      head: { shape: [3, 1, 1, co], data: randomArray(3 * co, rand) },
    },
  };
}

test("Winograd, several inputs and a dynamic bias: matches the f64 reference", () => {
  const rand = rng(45);
  for (let trial = 0; trial < 8; trial++) {
    const h = trial === 0 ? 1 : randInt(rand, 1, 19), w = trial <= 1 ? 1 : randInt(rand, 1, 23);
    const c1 = randInt(rand, 1, 40), co = randInt(rand, 1, 40);
    const { wasm, ref, net } = runBoth(multiInputGraph(rand, c1, co), h, w, rand, "winograd");
    assert.equal(Object.keys(net.handle.packed[3]).filter((r) => r.startsWith("winograd")), ["winograd0", "winograd1"]);
    engine.pool.release(net.weightsLease);
    assertClose(wasm, ref, WINOGRAD_TOL, `${h}x${w} ${c1}+3->${co}`);
  }
});

test("plan with 3 bands: each band's scratch is its own; banded runs on them equal the whole bit for bit", () => {
  const rand = rng(46);
  const g = validateGraph(multiInputGraph(rand, 16, 24));
  const net = prepareNetwork(engine, g, { conv: "auto" }); // input 0 Winograd, input 1 (3 channels) direct
  assert.equal(Object.keys(net.handle.packed[3]).filter((r) => r.startsWith("winograd")), ["winograd0"]);
  const h = 17, w = 21, bands = 3;
  const plan = planExecution(g, h, w, bands);
  const overlap = (a: number, n: number, b: number, m: number) => a < b + m && b < a + n;
  for (const step of plan.steps) {
    const { offset, bytes } = step.scratch;
    if (!bytes) continue;
    assert.ok(offset + bands * bytes <= plan.arenaBytes);
    for (const t of [...step.inputs, step.output]) assert.not.ok(overlap(offset, bands * bytes, t.offset, t.bytes), `step ${step.nodeIndex}: scratch overlaps ${t.name}`);
  }
  assertBandsMatchWhole(net, plan, rand, (step, arena) => {
    const H = step.output.shape.h;
    if (!getOp(g.nodes[step.nodeIndex].op)!.bandable) { runStepWasm(engine.kernels, net.handle, step, arena, 0, H); return; }
    // Interleaved as concurrent threads would run them: band 2's rows first, each band on its own scratch.
    for (let i = bands - 1; i >= 0; i--) runStepWasm(engine.kernels, net.handle, step, arena, Math.round((i * H) / bands), Math.round(((i + 1) * H) / bands), i);
  });
  engine.pool.release(net.weightsLease);
});

test("a wrong result would be caught (the comparison can fail)", () => {
  const rand = rng(3);
  const { wasm, ref, net } = runBoth(convGraph(rand, 5, [7], 3, "none"), 6, 6, rand);
  engine.pool.release(net.weightsLease);
  assert.is(firstMismatch(wasm, ref, 1e-4), -1);
  wasm[10] += 1e-2;
  assert.is(firstMismatch(wasm, ref, 1e-4), 10);
});

test("pool returns to baseline", () => {
  for (const e of [engine, relaxed]) {
    assert.is(e.pool.stats().currentBytes, 0);
    assert.is(e.pool.stats().activeLeases, 0);
  }
});

test.run();
