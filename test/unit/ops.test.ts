// Every op's wasm implementation against its plain-TypeScript reference on random shapes (odd sizes,
// 1×1 and 1×N images, channel counts not divisible by 4). Conv2D and Resize have their own files.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { Engine } from "../../src/runtime/engine.js";
import type { Graph, GraphNode, ValidatedGraph } from "../../src/model/graph.js";
import { prepareNetwork } from "../../src/runtime/network.js";
import { planExecution } from "../../src/runtime/plan.js";
import { runPlanWasm, runPlanReference } from "../../src/runtime/executor.js";
import { rng, randomArray, randInt, assertClose, firstMismatch } from "../helpers.js";

const test = suite("ops");
const engine = await Engine.create({ memoryLimit: 64 << 20, wasmVariant: "simd" });
const rand = rng(77);

/**
 * Runs `nodes` (reading tensor "x" of c channels) on both backends; the graph is planned directly
 * (not validated as an RGB network), so any op can be the output.
 */
function compare(nodes: GraphNode[], weights: Graph["weights"], c: number, h: number, w: number, output: string, tol = 1e-5) {
  const g = { name: "t", scale: 1, channels: c, input: "x", output, nodes, weights, receptiveRadius: 0, global: false, parameterCount: 0 } as ValidatedGraph;
  const net = prepareNetwork(engine, g);
  const plan = planExecution(g, h, w);
  const lease = engine.pool.lease(2 * plan.arenaBytes);
  try {
    const x = randomArray(h * w * c, rand, -2, 2);
    for (const base of [lease.ptr, lease.ptr + plan.arenaBytes]) engine.f32(base + plan.input.offset, x.length).set(x);
    runPlanWasm(engine.kernels, net.handle, plan, lease.ptr);
    runPlanReference(engine.memory.buffer, g, plan, lease.ptr + plan.arenaBytes);
    const s = plan.output.shape, n = s.h * s.w * s.c;
    const a = engine.f32(lease.ptr + plan.output.offset, n).slice(), b = engine.f32(lease.ptr + plan.arenaBytes + plan.output.offset, n).slice();
    assertClose(a, b, tol, `${nodes.map((n) => n.op).join("+")} ${h}x${w}x${c}`);
    return { a, b };
  } finally {
    engine.pool.release(lease);
    engine.pool.release(net.weightsLease);
  }
}

const shapes = () => [[1, 1], [1, randInt(rand, 2, 17)], [randInt(rand, 2, 13), 1], [randInt(rand, 2, 19), randInt(rand, 2, 23)]];
const node = (op: string, inputs: string[], output: string, attrs: Record<string, unknown> = {}, weights: Record<string, string> = {}): GraphNode => ({ op, inputs, output, attrs, weights });

test("Activation: relu, leaky, prelu, spline on any channel count", () => {
  for (const [h, w] of shapes()) {
    const c = randInt(rand, 1, 11);
    const weights = { s: { shape: [c], data: randomArray(c, rand, 0, 0.5) }, sp: { shape: [3, c], data: randomArray(3 * c, rand, 0, 1.5) } };
    compare([node("Activation", ["x"], "y", { act: "relu" })], {}, c, h, w, "y");
    compare([node("Activation", ["x"], "y", { act: "leaky", alpha: 0.07 })], {}, c, h, w, "y");
    compare([node("Activation", ["x"], "y", { act: "prelu" }, { slope: "s" })], weights, c, h, w, "y");
    compare([node("Activation", ["x"], "y", { act: "spline" }, { spline: "sp" })], weights, c, h, w, "y");
  }
});

test("Spline covers all three pieces and is continuous at ±1", () => {
  const c = 5;
  const weights = { sp: { shape: [3, c], data: Float32Array.from([0.01, 0.02, 0.1, 0.2, 0.3, 1, 1.1, 0.9, 0.5, 1.2, 0.25, 0.3, 0.6, 0.1, 0.9]) } };
  const { b } = compare([node("Activation", ["x"], "y", { act: "spline" }, { spline: "sp" })], weights, c, 40, 40, "y");
  assert.ok(b.some((v) => v !== 0));
});

test("PixelShuffle: tf and torch orders, r = 1..4", () => {
  for (const [h, w] of shapes()) for (const r of [1, 2, 3, 4]) for (const order of ["tf", "torch"]) {
    const c = randInt(rand, 1, 5);
    compare([node("PixelShuffle", ["x"], "y", { r, order })], {}, c * r * r, h, w, "y", 0);
  }
});

test("PixelShuffle orders really differ (the test can tell them apart)", () => {
  const a = compare([node("PixelShuffle", ["x"], "y", { r: 2, order: "tf" })], {}, 8, 3, 3, "y", 0).a;
  const b = compare([node("PixelShuffle", ["x"], "y", { r: 2, order: "torch" })], {}, 8, 3, 3, "y", 0).a;
  assert.ok(firstMismatch(a, b, 0) >= 0);
});

test("Add: same shape, and a [1,1,c] vector broadcast", () => {
  for (const [h, w] of shapes()) {
    const c = randInt(rand, 1, 9);
    compare([node("Activation", ["x"], "t", { act: "relu" }), node("Add", ["x", "t"], "y")], {}, c, h, w, "y");
    compare([node("GlobalMean", ["x"], "m"), node("Add", ["x", "m"], "y")], {}, c, h, w, "y");
  }
});

test("GlobalMean and Dense (several inputs, bias, activation)", () => {
  for (const [h, w] of shapes()) {
    const c = randInt(rand, 1, 9), n = randInt(rand, 1, 13);
    const weights = {
      m0: { shape: [c, n], data: randomArray(c * n, rand) },
      m1: { shape: [c, n], data: randomArray(c * n, rand) },
      b: { shape: [n], data: randomArray(n, rand) },
      sp: { shape: [3, n], data: randomArray(3 * n, rand, 0, 1) },
    };
    compare([node("GlobalMean", ["x"], "y")], {}, c, h, w, "y");
    compare([node("GlobalMean", ["x"], "m"), node("Activation", ["m"], "q", { act: "relu" }),
      node("Dense", ["m", "q"], "y", { units: n, act: "spline" }, { matrix0: "m0", matrix1: "m1", bias: "b", spline: "sp" })], weights, c, h, w, "y");
  }
});

test("pool returns to baseline", () => {
  assert.is(engine.pool.stats().activeLeases, 0);
});

test.run();
