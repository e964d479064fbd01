// Backward kernels: every one against its float64 TypeScript reference, and every reference against
// finite differences of the forward it differentiates (random small shapes: odd sizes, channel counts
// that are not multiples of 4, k = 1 and 3). Then the whole training pass of small networks, wasm vs
// reference vs finite differences, and Adam / the schedule against their references.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { Engine } from "../../src/runtime/engine.js";
import type { Graph, GraphNode, Shape } from "../../src/model/graph.js";
import { Conv2D, packTransposed, winogradGradScratchBytes } from "../../src/ops/conv2d.js";
import { PixelShuffle } from "../../src/ops/pixel-shuffle.js";
import { Activation } from "../../src/ops/activation.js";
import { Add } from "../../src/ops/add.js";
import type { BackwardCall } from "../../src/ops/op.js";
import { GRAD_ACCUMULATE, ShuffleOrder } from "../../src/backends/wasm/abi.js";
import { LOSSES, lossRef, lossWasm } from "../../src/train/loss.js";
import { adamRef, adamStep, learningRate } from "../../src/train/optim.js";
import { compileProgram, flattenParams, imageGrad, packAll, packedLayout, planImage, trainingHandle } from "../../src/train/program.js";
import { refForward, refLossAndGrad } from "../../src/train/reference.js";
import { buildNetwork } from "../../src/train/arch.js";
import { rng, randomArray, randInt, assertBitIdentical } from "../helpers.js";

const test = suite("grad");
const [Conv2DGrad, ActivationGrad, PixelShuffleGrad, AddGrad] = [Conv2D, Activation, PixelShuffle, Add].map((op) => op.backward!);
const engines = {
  simd: await Engine.create({ memoryLimit: 48 << 20, wasmVariant: "simd" }),
  relaxed: await Engine.create({ memoryLimit: 48 << 20, wasmVariant: "auto" }),
};
const engine = engines.simd;
// 'auto' takes relaxed SIMD (fused multiply-add) wherever this Node can run it; say which ran.
console.log(`grad: kernel variants simd and ${engines.relaxed.shared.module.variant}`);

/** A bump allocator over one lease (64-byte aligned, 16 bytes of slack per block, as the planners). */
function arena(eng: Engine, bytes: number) {
  const lease = eng.pool.lease(bytes);
  let at = lease.ptr;
  return {
    put(data: ArrayLike<number> | number): number {
      const n = typeof data === "number" ? data : data.length;
      const ptr = at;
      at += Math.ceil((n * 4 + 16) / 64) * 64;
      if (at > lease.ptr + lease.bytes) throw new Error("test arena too small");
      const view = eng.f32(ptr, n);
      if (typeof data === "number") view.fill(0); else view.set(data);
      // Poison the slack: kernels may read it as dropped lanes but must never let it into a result.
      eng.f32(ptr + n * 4, Math.floor((at - ptr - n * 4) / 4)).fill(NaN);
      return ptr;
    },
    get: (ptr: number, n: number) => Float64Array.from(eng.f32(ptr, n)),
    release: () => eng.pool.release(lease),
  };
}

/** Index of the first element with |a − b| > atol + rtol·|b| (NaN fails), or -1. */
function firstFar(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, atol: number): number {
  if (actual.length !== expected.length) return 0;
  for (let i = 0; i < expected.length; i++) {
    if (!(Math.abs(actual[i] - expected[i]) <= atol + rtol * Math.abs(expected[i]))) return i;
  }
  return -1;
}

function assertNear(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, atol: number, label: string): void {
  assert.is(actual.length, expected.length, `${label}: length`);
  const i = firstFar(actual, expected, rtol, atol);
  if (i >= 0) assert.unreachable(`${label}: element ${i} is ${actual[i]}, expected ${expected[i]}`);
}

/** Central difference of f at the `at` indices of θ (θ restored afterwards). */
function finiteDiff(f: () => number, theta: Float64Array | Float32Array, at: number[], eps: number): number[] {
  return at.map((i) => {
    const keep = theta[i];
    theta[i] = keep + eps; const up = f();
    theta[i] = keep - eps; const down = f();
    theta[i] = keep;
    return (up - down) / (2 * eps);
  });
}

const sample = (rand: () => number, n: number, count: number) => Array.from({ length: Math.min(n, count) }, (_, j) => (count >= n ? j : randInt(rand, 0, n - 1)));
const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => { let s = 0; for (let i = 0; i < a.length; i++) s += a[i] * b[i]; return s; };
const f64 = (a: ArrayLike<number>) => Float64Array.from(a);
type AnyRef = { data: Float32Array; shape: Shape };
const asRef = (data: Float64Array, shape: Shape) => ({ data, shape }) as unknown as AnyRef;

/** L(x, W, b) = Σ dZ ⊙ conv(x) in float64, through Conv2D's own reference. */
function convLoss(node: GraphNode, x: Float64Array, shape: Shape, W: Float64Array, b: Float64Array, dz: Float64Array): number {
  const cout = node.attrs.cout as number;
  const out = new Float64Array(shape.h * shape.w * cout);
  Conv2D.reference({ node, inputs: [asRef(x, shape)], output: asRef(out, { ...shape, c: cout }), weights: { kernel0: W, bias: b } as unknown as Record<string, Float32Array>, y0: 0, y1: shape.h });
  return dot(out, dz);
}

function bwCall(eng: Engine, partial: Partial<BackwardCall> & Pick<BackwardCall, "node" | "inputs" | "output" | "dOutPtr" | "dInputs">): BackwardCall {
  return { k: eng.kernels, f32: (p, n) => eng.f32(p, n), packed: {}, paramGrads: {}, tmpPtr: 0, scratchPtr: 0, ...partial };
}

for (const variant of ["simd", "relaxed"] as const) {
  test(`conv2d backward (dX, dW, db): reference = finite differences, ${variant} wasm = reference`, () => {
    const eng = engines[variant];
    const rand = rng(variant === "simd" ? 11 : 12);
    const cases = [[1, 1, 1, 1, 1], [7, 30, 24, 9, 3], [5, 7, 3, 5, 3], [9, 3, 13, 6, 3], [4, 11, 8, 9, 1], [7, 5, 6, 17, 3], [3, 9, 32, 12, 3], [6, 2, 5, 3, 3]];
    for (let trial = 0; trial < cases.length + 3; trial++) {
      const [h, w, cin, cout, k] = trial < cases.length ? cases[trial]
        : [randInt(rand, 1, 9), randInt(rand, 1, 11), randInt(rand, 1, 14), randInt(rand, 1, 14), [1, 3][randInt(rand, 0, 1)]];
      const label = `${variant} ${h}×${w} ${cin}→${cout} k${k}`;
      const node: GraphNode = { op: "Conv2D", inputs: ["x"], output: "z", attrs: { k, cout }, weights: { kernel0: "w", bias: "b" } };
      const shape = { h, w, c: cin };
      const x = f64(randomArray(h * w * cin, rand)), W = f64(randomArray(cout * k * k * cin, rand, -0.5, 0.5));
      const b = f64(randomArray(cout, rand)), dz = f64(randomArray(h * w * cout, rand));
      const dx = new Float64Array(x.length), dW = new Float64Array(W.length), db = new Float64Array(cout);
      Conv2DGrad.reference({ node, inputs: [{ data: x, shape }], output: { data: new Float64Array(0), shape: { h, w, c: cout } }, dOut: dz,
        dInputs: [dx], weights: { kernel0: W, bias: b }, dWeights: { kernel0: dW, bias: db } });
      // The loss is linear in each argument: a central difference is exact up to rounding.
      const L = () => convLoss(node, x, shape, W, b, dz);
      for (const [name, theta, grad] of [["dX", x, dx], ["dW", W, dW], ["db", b, db]] as const) {
        const at = sample(rand, theta.length, 24);
        assertNear(finiteDiff(L, theta, at, 0.5), at.map((i) => grad[i]), 1e-9, 1e-9, `${label} ${name} vs finite differences`);
      }
      // wasm, from f32 copies of the same data.
      const mem = arena(eng, 1 << 20);
      try {
        const xp = mem.put(x), dzp = mem.put(dz), dWp = mem.put(W.length), dbp = mem.put(cout), dxp = mem.put(x.length);
        assert.is(eng.kernels.conv2d_grad_weight_f32(xp, h, w, cin, dzp, cout, k, dWp, dbp, 0), 0);
        const tol = 2e-5 * Math.sqrt(h * w);
        assertNear(mem.get(dWp, W.length), dW, tol, tol, `${label} wasm dW`);
        assertNear(mem.get(dbp, cout), db, tol, tol, `${label} wasm db`);
        // Accumulate mode adds: twice the first result (x2 is exact in float).
        eng.kernels.conv2d_grad_weight_f32(xp, h, w, cin, dzp, cout, k, dWp, dbp, GRAD_ACCUMULATE);
        assertNear(mem.get(dWp, W.length), dW.map((v) => 2 * v), 2 * tol, 2 * tol, `${label} wasm dW accumulated`);
        if (k === 3) {
          // Winograd F(2×2,3×3) weight gradient: the same sums, rounded differently.
          const scratchPtr = mem.put(Math.ceil(winogradGradScratchBytes(cin, cout) / 4));
          eng.kernels.winograd_grad_weight_f23_f32(xp, h, w, cin, dzp, cout, dWp, dbp, 0, scratchPtr);
          assertNear(mem.get(dWp, W.length), dW, tol, tol, `${label} wasm Winograd dW`);
          assertNear(mem.get(dbp, cout), db, tol, tol, `${label} wasm Winograd db`);
          eng.kernels.winograd_grad_weight_f23_f32(xp, h, w, cin, dzp, cout, dWp, dbp, GRAD_ACCUMULATE, scratchPtr);
          assertNear(mem.get(dWp, W.length), dW.map((v) => 2 * v), 2 * tol, 2 * tol, `${label} wasm Winograd dW accumulated`);
        }
        // dX with the direct kernel, and (3×3) the Winograd kernel in the forward's scratch.
        for (const conv of ["direct", "winograd"] as const) {
          const wt = packTransposed(node, Float32Array.from(W), cin, conv);
          if (conv === "winograd" && !wt.winograd0) continue;
          const packed = { kernel0T: mem.put(wt.kernel0), ...(wt.winograd0 ? { winograd0T: mem.put(wt.winograd0) } : {}) };
          const scratchPtr = mem.put(Math.ceil(Conv2D.scratchBytes!(node, [shape], { h, w, c: cout }) / 4));
          Conv2DGrad.wasm(bwCall(eng, { node, inputs: [{ ptr: xp, shape }], output: { ptr: 0, shape: { h, w, c: cout } }, dOutPtr: dzp,
            dInputs: [{ ptr: dxp, accumulate: false }], packed, paramGrads: { kernel0: dWp, bias: dbp }, scratchPtr }));
          assertNear(mem.get(dxp, x.length), dx, 1e-4, 1e-4, `${label} ${conv} wasm dX`);
        }
      } finally { mem.release(); }
    }
  });

  test(`PReLU backward (dz, dSlope): reference = finite differences, ${variant} wasm = reference`, () => {
    const eng = engines[variant];
    const rand = rng(variant === "simd" ? 21 : 22);
    for (const [h, w, c] of [[1, 1, 1], [3, 5, 7], [5, 3, 8], [2, 7, 13], [4, 4, 3]]) {
      const label = `${variant} ${h}×${w}×${c}`;
      const node: GraphNode = { op: "Activation", inputs: ["z"], output: "a", attrs: { act: "prelu" }, weights: { slope: "s" } };
      const shape = { h, w, c };
      const z = f64(randomArray(h * w * c, rand)), s = f64(randomArray(c, rand, -0.2, 0.5)), dy = f64(randomArray(h * w * c, rand));
      z[0] = 0; // at the kink both sides take the slope branch (forward: z > 0 ? z : slope·z)
      const dz = new Float64Array(z.length), ds = new Float64Array(c);
      ActivationGrad.reference({ node, inputs: [{ data: z, shape }], output: { data: new Float64Array(0), shape }, dOut: dy, dInputs: [dz], weights: { slope: s }, dWeights: { slope: ds } });
      const L = () => {
        const out = new Float64Array(z.length);
        Activation.reference({ node, inputs: [asRef(z, shape)], output: asRef(out, shape), weights: { slope: s } as unknown as Record<string, Float32Array>, y0: 0, y1: h });
        return dot(out, dy);
      };
      const away = sample(rand, z.length, 30).filter((i) => Math.abs(z[i]) > 1e-3);
      assertNear(finiteDiff(L, z, away, 1e-4), away.map((i) => dz[i]), 1e-9, 1e-9, `${label} dz vs finite differences`);
      const sl = sample(rand, c, 8);
      assertNear(finiteDiff(L, s, sl, 0.1), sl.map((i) => ds[i]), 1e-9, 1e-9, `${label} dSlope vs finite differences`);
      const mem = arena(eng, 1 << 20);
      try {
        const slopes = new Float32Array((c + 3) & ~3); slopes.set(s);
        const dyp = mem.put(dy), zp = mem.put(z), sp = mem.put(slopes), dzp = mem.put(z.length), dsp = mem.put(c);
        assert.is(eng.kernels.prelu_grad_f32(dyp, zp, sp, dzp, dsp, h * w, c, 0), 0);
        assertNear(mem.get(dzp, z.length), dz, 1e-6, 1e-7, `${label} wasm dz`);
        assertNear(mem.get(dsp, c), ds, 1e-5, 1e-5, `${label} wasm dSlope`);
        eng.kernels.prelu_grad_f32(dyp, zp, sp, dzp, dsp, h * w, c, GRAD_ACCUMULATE);
        assertNear(mem.get(dzp, z.length), dz.map((v) => 2 * v), 1e-6, 1e-7, `${label} wasm dz accumulated`);
        assertNear(mem.get(dsp, c), ds.map((v) => 2 * v), 1e-5, 1e-5, `${label} wasm dSlope accumulated`);
      } finally { mem.release(); }
    }
  });
}

test("pixel-shuffle backward (space-to-depth, tf and torch): reference = finite differences, wasm = reference bit for bit", () => {
  const rand = rng(31);
  for (const order of ["tf", "torch"] as const) {
    for (const [h, w, c, r] of [[1, 1, 1, 2], [3, 5, 3, 2], [2, 3, 3, 4], [5, 2, 7, 3], [4, 4, 5, 1]]) {
      const label = `${order} ${h}×${w} c${c} r${r}`;
      const node: GraphNode = { op: "PixelShuffle", inputs: ["x"], output: "y", attrs: { r, order }, weights: {} };
      const xs = { h, w, c: c * r * r }, ys = { h: h * r, w: w * r, c };
      const x = f64(randomArray(h * w * c * r * r, rand)), dy = f64(randomArray(x.length, rand));
      const dx = new Float64Array(x.length);
      PixelShuffleGrad.reference({ node, inputs: [{ data: x, shape: xs }], output: { data: new Float64Array(0), shape: ys }, dOut: dy, dInputs: [dx], weights: {}, dWeights: {} });
      const L = () => {
        const out = new Float64Array(x.length);
        PixelShuffle.reference({ node, inputs: [asRef(x, xs)], output: asRef(out, ys), weights: {}, y0: 0, y1: ys.h });
        return dot(out, dy);
      };
      const at = sample(rand, x.length, 40);
      assertNear(finiteDiff(L, x, at, 0.5), at.map((i) => dx[i]), 1e-12, 1e-12, `${label} vs finite differences`);
      const mem = arena(engine, 1 << 20);
      try {
        const dyp = mem.put(dy), dxp = mem.put(x.length);
        assert.is(engine.kernels.pixel_shuffle_grad_f32(dyp, h, w, c, r, ShuffleOrder[order], dxp, 0, h, 0), 0);
        assertBitIdentical(mem.get(dxp, x.length), Float64Array.from(Float32Array.from(dx)), `${label} wasm`);
        engine.kernels.pixel_shuffle_grad_f32(dyp, h, w, c, r, ShuffleOrder[order], dxp, 0, h, GRAD_ACCUMULATE);
        assertBitIdentical(mem.get(dxp, x.length), Float64Array.from(Float32Array.from(dx), (v) => 2 * v), `${label} wasm accumulated`);
      } finally { mem.release(); }
    }
  }
});

test("add backward: the gradient reaches both inputs, written then added", () => {
  const rand = rng(41);
  const shape = { h: 3, w: 5, c: 3 }, n = 45;
  const node: GraphNode = { op: "Add", inputs: ["a", "b"], output: "y", attrs: {}, weights: {} };
  const dy = randomArray(n, rand), prior = randomArray(n, rand);
  const mem = arena(engine, 1 << 16);
  try {
    const dyp = mem.put(dy), da = mem.put(n), db = mem.put(prior);
    AddGrad.wasm(bwCall(engine, { node, inputs: [{ ptr: 0, shape }, { ptr: 0, shape }], output: { ptr: 0, shape }, dOutPtr: dyp,
      dInputs: [{ ptr: da, accumulate: false }, { ptr: db, accumulate: true }] }));
    assertBitIdentical(mem.get(da, n), f64(dy), "first input written");
    assertBitIdentical(mem.get(db, n), Float64Array.from(prior, (v, i) => Math.fround(v + dy[i])), "second input added");
    const ra = new Float64Array(n), rb = new Float64Array(n);
    AddGrad.reference({ node, inputs: [], output: { data: new Float64Array(0), shape }, dOut: f64(dy), dInputs: [ra, rb], weights: {}, dWeights: {} });
    assertBitIdentical(ra, f64(dy), "reference a");
    assertBitIdentical(rb, f64(dy), "reference b");
  } finally { mem.release(); }
});

test("L1, Charbonnier, L2 and L1 on luma: reference = finite differences, wasm = reference", () => {
  const rand = rng(51);
  for (const kind of LOSSES) {
    for (const n of kind === "l1-luma" ? [3, 6, 51, 3 * 64] : [1, 3, 4, 17, 64]) {
      const y = f64(randomArray(n, rand)), t = f64(randomArray(n, rand));
      if (n > 3) t[2] = y[2]; // d = 0: L1's subgradient is 0 there, in both
      const scale = 1 / n;
      const ref = lossRef(kind, y, t, scale);
      const lumaAt = (i: number) => { const p = i - (i % 3); return 0.299 * (y[p] - t[p]) + 0.587 * (y[p + 1] - t[p + 1]) + 0.114 * (y[p + 2] - t[p + 2]); };
      const away = Array.from({ length: n }, (_, i) => i).filter((i) => Math.abs(y[i] - t[i]) > 1e-3 && (kind !== "l1-luma" || Math.abs(lumaAt(i)) > 1e-3));
      assertNear(finiteDiff(() => lossRef(kind, y, t, scale).loss * scale, y, away, 1e-5), away.map((i) => ref.grad[i]), 1e-6, 1e-9, `${kind} n${n} vs finite differences`);
      const mem = arena(engine, 1 << 16);
      try {
        // Compare against the reference on the f32 values the kernel sees.
        const y32 = Float32Array.from(y), t32 = Float32Array.from(t);
        const r32 = lossRef(kind, y32, t32, scale);
        const yp = mem.put(y32), tp = mem.put(t32), gp = mem.put(n);
        const loss = lossWasm(engine.kernels, kind, yp, tp, gp, n, scale);
        assertNear([loss], [r32.loss], 1e-6, 1e-9, `${kind} n${n} wasm loss`);
        assertNear(mem.get(gp, n), r32.grad, 1e-6, 1e-9, `${kind} n${n} wasm grad`);
      } finally { mem.release(); }
    }
  }
});

test("L1 on luma refuses outputs that are not RGB triples, in both implementations", () => {
  const notRgb = /needs RGB outputs \(3 values per pixel\), got 4 values/;
  assert.throws(() => lossRef("l1-luma", [0, 0, 0, 0], [1, 1, 1, 1], 1), notRgb);
  const mem = arena(engine, 1 << 12);
  try {
    const yp = mem.put(new Float32Array(4)), tp = mem.put(new Float32Array(4)), gp = mem.put(4);
    assert.throws(() => lossWasm(engine.kernels, "l1-luma", yp, tp, gp, 4, 1), notRgb);
  } finally { mem.release(); }
});

test("Adam: wasm = TypeScript reference bit for bit (with and without weight decay); matches the float64 textbook step", () => {
  const rand = rng(61);
  for (const [variant, eng] of Object.entries(engines)) {
    for (const weightDecay of [0, 0.01]) {
      const n = 37; // 9 vectors + a 1-element tail
      const p = randomArray(n, rand), m = new Float32Array(n), v = new Float32Array(n);
      const mem = arena(eng, 1 << 16);
      try {
        const pp = mem.put(p), gp = mem.put(n), mp = mem.put(n), vp = mem.put(n);
        for (let t = 1; t <= 4; t++) {
          const g = randomArray(n, rand);
          eng.f32(gp, n).set(g);
          adamStep(eng.kernels, { p: pp, g: gp, m: mp, v: vp }, n, t, 1e-2, { weightDecay });
          adamRef(p, g, m, v, t, 1e-2, { weightDecay });
          assertBitIdentical(eng.f32(pp, n), p, `${variant} wd${weightDecay} step ${t} params`);
          assertBitIdentical(eng.f32(mp, n), m, `${variant} step ${t} m`);
          assertBitIdentical(eng.f32(vp, n), v, `${variant} step ${t} v`);
        }
      } finally { mem.release(); }
    }
  }
  // First step from zero moments: m̂ = g, v̂ = g², so every parameter moves by lr·g/(|g| + ε) ≈ lr·sign(g).
  const p = Float32Array.of(1, 1, 1), g = Float32Array.of(0.5, -2, 1e-3);
  adamRef(p, g, new Float32Array(3), new Float32Array(3), 1, 0.1);
  assertNear(p, [0.9, 1.1, 0.9], 1e-6, 1e-6, "textbook first step");
});

test("learning-rate schedule: linear warm-up, cosine to the floor", () => {
  const s = { lr: 1e-3, warmupSteps: 10, steps: 110, minLr: 1e-5 };
  assertNear([learningRate(1, s), learningRate(5, s), learningRate(10, s)], [1e-4, 5e-4, 1e-3], 1e-12, 0, "warm-up");
  assertNear([learningRate(60, s), learningRate(110, s), learningRate(500, s)], [(1e-3 + 1e-5) / 2, 1e-5, 1e-5], 1e-9, 0, "cosine");
  assert.ok(learningRate(30, s) > learningRate(31, s), "decreasing after warm-up");
});

/** A small graph exercising every trainable op: conv+PReLU, a skip Add, pixel-shuffle, input residual. */
function skipNet(rand: () => number, order: "tf" | "torch"): Graph {
  const net = buildNetwork({ width: 6, body: 1, residual: "bicubic" }, { scale: 2, seed: Math.floor(rand() * 1e6) });
  // Skip connection f1 + f0 before the head (Add with both inputs needing gradients), and biases and
  // slopes moved off their initial values so every term of the gradient is exercised.
  const head = net.nodes.findIndex((n) => n.output === "head");
  net.nodes.splice(head, 0, { op: "Add", inputs: ["f1", "f0"], output: "skip", attrs: {}, weights: {} });
  net.nodes[head + 1].inputs = ["skip"];
  (net.nodes.find((n) => n.op === "PixelShuffle")!.attrs as { order: string }).order = order;
  for (const [name, wt] of Object.entries(net.weights)) {
    if (name.endsWith(".bias")) wt.data.set(randomArray(wt.data.length, rand, -0.1, 0.1));
    if (name.endsWith(".slope")) wt.data.set(randomArray(wt.data.length, rand, -0.3, 0.6));
    if (name === "head.kernel") wt.data.set(randomArray(wt.data.length, rand, -0.3, 0.3));
  }
  return net;
}

// conv 'winograd': the forward and the input gradients of 3×3 layers run the Winograd kernel.
for (const conv of ["direct", "winograd"] as const) for (const [label, make] of [
  ["skip net (bicubic residual, tf order)", (r: () => number) => skipNet(r, "tf")],
  ["skip net (torch order)", (r: () => number) => skipNet(r, "torch")],
  ["tiny arch, k = 1, no residual", (r: () => number) => buildNetwork({ width: 5, body: 2, k: 1, residual: "none" }, { scale: 3, seed: Math.floor(r() * 1e6) })],
] as const) {
  test(`whole pass, ${label}, ${conv} 3×3: reference = finite differences, wasm = reference`, () => {
    const rand = rng(label.length);
    const g = make(rand);
    const prog = compileProgram(g, { conv });
    const params = flattenParams(prog.spec, g.weights);
    const packs = packAll(prog, params);
    if (conv === "winograd" && label.startsWith("skip")) assert.ok(packs.some((a) => a.winograd0) && packs.some((a) => a.winograd0T), "Winograd kernels packed");
    const h = 5, w = 7, s = g.scale;
    const x = randomArray(h * w * 3, rand, 0, 1), target = randomArray(h * s * w * s * 3, rand, 0, 1);
    const n = target.length;
    for (const loss of ["charbonnier", "l1", "l2"] as const) {
      const ref = refLossAndGrad(prog, params, x, h, w, target, loss, 1 / n);
      if (loss === "charbonnier") {
        // float64 parameters, perturbed in place; kinks (PReLU at 0) are measure-zero for random data.
        const theta = Float64Array.from(params);
        const L = () => refLossAndGrad(prog, theta, x, h, w, target, loss, 1 / n).loss / n;
        const at = sample(rand, prog.spec.paramCount, 40).filter((i) => Object.values(prog.spec.params).some((p) => i >= p.offset && i < p.offset + p.length));
        assertNear(finiteDiff(L, theta, at, 1e-6), at.map((i) => ref.grad[i]), 2e-4, 1e-8, `${label}: reference vs finite differences`);
      }
      for (const [variant, eng] of Object.entries(engines)) {
        const plan = planImage(prog, h, w);
        const arrays = packAll(prog, params);
        const layout = packedLayout(arrays);
        const mem = arena(eng, plan.arenaBytes + layout.bytes + 4 * (n + x.length + prog.spec.paramCount) + (1 << 14));
        try {
          const wbase = mem.put(layout.bytes / 4);
          arrays.forEach((a, i) => { for (const [role, arr] of Object.entries(a)) eng.f32(wbase + layout.offsets[i][role], arr.length).set(arr); });
          const handle = trainingHandle(prog.spec, wbase, layout.offsets);
          const lrp = mem.put(x), hrp = mem.put(target), gp = mem.put(prog.spec.paramCount), ap = mem.put(plan.arenaBytes / 4);
          const l = imageGrad(eng.kernels, eng.memory.buffer, prog.spec, handle, plan, { lrPtr: lrp, hrPtr: hrp, gradPtr: gp, arenaPtr: ap, loss, lossScale: 1 / n, eps: 1e-3 });
          assertNear([l], [ref.loss], 1e-4, 1e-6, `${label} ${variant} ${loss} loss`);
          const got = mem.get(gp, prog.spec.paramCount);
          const big = Math.max(...ref.grad.map(Math.abs));
          assertNear(got, ref.grad, 1e-3, 1e-4 * big, `${label} ${variant} ${loss} parameter gradient`);
          // The output the pass computed is the forward of the reference.
          const out = refForward(prog, params, x, h, w).get(prog.spec.output)!;
          assertNear(eng.f32(ap + plan.act[prog.spec.output].offset, n), out.data, 1e-4, 1e-5, `${label} ${variant} output`);
        } finally { mem.release(); }
      }
    }
  });
}

test("the checks can fail: an unflipped input-gradient kernel or a perturbed gradient is caught", () => {
  const rand = rng(71);
  const [h, w, cin, cout, k] = [4, 5, 3, 5, 3];
  const W = randomArray(cout * k * k * cin, rand), dz = randomArray(h * w * cout, rand);
  const node: GraphNode = { op: "Conv2D", inputs: ["x"], output: "z", attrs: { k, cout }, weights: { kernel0: "w" } };
  const dx = new Float64Array(h * w * cin);
  Conv2DGrad.reference({ node, inputs: [{ data: new Float64Array(dx.length), shape: { h, w, c: cin } }], output: { data: new Float64Array(0), shape: { h, w, c: cout } },
    dOut: f64(dz), dInputs: [dx], weights: { kernel0: f64(W) }, dWeights: { kernel0: new Float64Array(W.length) } });
  // Pack without the spatial flip (a plausible bug): the result must not pass.
  const noFlip = new Float32Array(W.length);
  for (let co = 0; co < cout; co++) for (let t = 0; t < k * k; t++) for (let ci = 0; ci < cin; ci++) noFlip[(ci * k * k + t) * cout + co] = W[(co * k * k + t) * cin + ci];
  const bad = Conv2D.pack!({ op: "Conv2D", inputs: ["d"], output: "dx", attrs: { k, cout: cin }, weights: { kernel0: "t" } }, { t: { shape: [cin, k, k, cout], data: noFlip } }).kernel0;
  const mem = arena(engine, 1 << 18);
  try {
    const dzp = mem.put(dz), dxp = mem.put(dx.length), wp = mem.put(bad);
    Conv2DGrad.wasm(bwCall(engine, { node, inputs: [{ ptr: mem.put(dx.length), shape: { h, w, c: cin } }], output: { ptr: 0, shape: { h, w, c: cout } }, dOutPtr: dzp,
      dInputs: [{ ptr: dxp, accumulate: false }], packed: { kernel0T: wp }, paramGrads: { kernel0: mem.put(W.length) } }));
    assert.ok(firstFar(mem.get(dxp, dx.length), dx, 1e-4, 1e-4) >= 0, "an unflipped kernel must fail the dX comparison");
  } finally { mem.release(); }
  const g = Float64Array.of(1, 2, 3);
  assert.is(firstFar([1, 2, 3.001], g, 1e-4, 1e-6), 2, "a 3e-4 relative error must fail a 1e-4 tolerance");
});

test("pool returns to baseline", () => {
  for (const eng of Object.values(engines)) assert.is(eng.pool.stats().currentBytes, 0);
});

test.run();
