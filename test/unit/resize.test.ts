// Resize: wasm kernel vs the plain-TypeScript reference on random shapes, band/whole identity, scratch
// bounds, and hand-checked MATLAB imresize / srgan-rust Linterp semantics.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { Engine } from "../../src/runtime/engine.js";
import type { Graph, ValidatedGraph } from "../../src/model/graph.js";
import { prepareNetwork } from "../../src/runtime/network.js";
import { planExecution } from "../../src/runtime/plan.js";
import { runPlanWasm, runPlanReference, runStepWasm } from "../../src/runtime/executor.js";
import { Resize } from "../../src/ops/resize.js";
import { resizePhases, mirrorIndex, resizeScratchBytes, type ResizeMethod } from "../../src/ops/resize-taps.js";
import { rng, randomArray, randInt, assertClose, assertBitIdentical, firstMismatch } from "../helpers.js";
import { cropToMultiple, srgbToLinear, linearToSrgb } from "../../src/image/resample.js";
import { downscale } from "../../src/api/downscale.js";
import type { SrganError } from "../../src/errors.js";

const test = suite("Resize");
const engine = await Engine.create({ memoryLimit: 64 << 20, wasmVariant: "simd" });
const METHODS: ResizeMethod[] = ["nearest", "bilinear", "bicubic", "box", "cubic"];

// validateGraph only admits 1 or 3 channels and integer enlargement (network rules); the op itself
// takes any channel count and shrinks too, so these graphs are checked through Resize.inferShape alone.
function resizeGraph(method: ResizeMethod, by: { scale?: number; factor?: number }, channels: number): ValidatedGraph {
  const g: Graph = {
    name: "t", scale: 1, channels, input: "x", output: "y", weights: {},
    nodes: [{ op: "Resize", inputs: ["x"], output: "y", attrs: { method, ...by }, weights: {} }],
  };
  return { ...g, receptiveRadius: 0, shrink: 0, global: false, parameterCount: 0 };
}

/** Runs the graph with wasm and with the reference on the same input; returns both outputs. */
function runBoth(g: ValidatedGraph, h: number, w: number, x: Float32Array) {
  const net = prepareNetwork(engine, g);
  const plan = planExecution(g, h, w);
  const lease = engine.pool.lease(plan.arenaBytes * 2);
  try {
    const a = lease.ptr, b = lease.ptr + plan.arenaBytes;
    engine.f32(a + plan.input.offset, x.length).set(x);
    engine.f32(b + plan.input.offset, x.length).set(x);
    runPlanWasm(engine.kernels, net.handle, plan, a);
    runPlanReference(engine.memory.buffer, g, plan, b);
    const { h: oh, w: ow, c } = plan.output.shape;
    const n = oh * ow * c;
    return { wasm: engine.f32(a + plan.output.offset, n).slice(), ref: engine.f32(b + plan.output.offset, n).slice(), shape: plan.output.shape };
  } finally {
    engine.pool.release(lease);
    engine.pool.release(net.weightsLease);
  }
}

const wasmOnly = (g: ValidatedGraph, h: number, w: number, x: Float32Array) => runBoth(g, h, w, x).wasm;

for (const method of METHODS) {
  test(`random shapes, ${method}: wasm matches reference (enlarge and shrink, 1/3/5 channels)`, () => {
    const rand = rng(method.length * 7919 + 1);
    for (let trial = 0; trial < 14; trial++) {
      const h = trial === 0 ? 1 : trial === 1 ? 1 : randInt(rand, 1, 23);
      const w = trial === 0 ? 1 : trial === 2 ? 1 : randInt(rand, 1, 27);
      const c = [1, 3, 5][trial % 3];
      const by = trial % 2 === 0 ? { scale: randInt(rand, 1, 5) } : { factor: randInt(rand, 1, 6) };
      const x = randomArray(h * w * c, rand, -1, 1);
      const { wasm, ref } = runBoth(resizeGraph(method, by, c), h, w, x);
      assertClose(wasm, ref, 1e-5, `${method} ${h}×${w}×${c} ${JSON.stringify(by)}`);
    }
  });
}

test("large factors (×16, ÷16), 16 channels and long 1-channel rows match the reference", () => {
  const rand = rng(99);
  for (const [by, h, w, c] of [[{ scale: 16 }, 3, 5, 2], [{ factor: 16 }, 37, 41, 3], [{ factor: 7 }, 20, 9, 16], [{ scale: 4 }, 5, 33, 1], [{ scale: 3 }, 2, 19, 1]] as const) {
    const x = randomArray(h * w * c, rand, 0, 255);
    const { wasm, ref } = runBoth(resizeGraph("bicubic", by, c), h, w, x);
    assertClose(wasm, ref, 1e-5, JSON.stringify(by));
  }
});

test("row bands are bit-identical to the whole, and touch only their own rows", () => {
  const rand = rng(7);
  for (const [method, by, h, w, c] of [
    ["bicubic", { scale: 4 }, 9, 13, 3], ["bilinear", { scale: 3 }, 5, 7, 5], ["bicubic", { factor: 4 }, 35, 29, 4], ["box", { factor: 3 }, 17, 10, 1],
  ] as const) {
    const g = resizeGraph(method, by, c);
    const net = prepareNetwork(engine, g);
    const plan = planExecution(g, h, w);
    const step = plan.steps[0];
    const lease = engine.pool.lease(plan.arenaBytes * 2);
    const x = randomArray(h * w * c, rand, 0, 1);
    const A = lease.ptr, B = lease.ptr + plan.arenaBytes;
    for (const base of [A, B]) engine.f32(base + plan.input.offset, x.length).set(x);
    runPlanWasm(engine.kernels, net.handle, plan, A);
    const { h: H, w: W } = plan.output.shape;
    const out = engine.f32(B + plan.output.offset, H * W * c);
    for (let y = 0; y < H;) {
      const y1 = Math.min(H, y + randInt(rand, 1, 4));
      out.fill(NaN);
      runStepWasm(engine.kernels, net.handle, step, B, y, y1);
      for (let i = 0; i < H * W * c; i++) {
        const row = Math.floor(i / (W * c));
        if ((row >= y && row < y1) !== !Number.isNaN(out[i])) assert.unreachable(`band ${y}..${y1} wrote row ${row} (${method})`);
      }
      assertBitIdentical(out.subarray(y * W * c, y1 * W * c), engine.f32(A + plan.output.offset + y * W * c * 4, (y1 - y) * W * c), `${method} band ${y}..${y1}`);
      y = y1;
    }
    engine.pool.release(lease);
    engine.pool.release(net.weightsLease);
  }
});

test("the kernel writes nothing outside its output and declared scratch", () => {
  const rand = rng(11);
  for (const [method, by, h, w, c] of [["bicubic", { scale: 4 }, 6, 7, 3], ["bicubic", { factor: 5 }, 23, 11, 5], ["nearest", { scale: 2 }, 3, 1, 1]] as const) {
    const node = resizeGraph(method, by, c).nodes[0];
    const inShape = { h, w, c };
    const outShape = Resize.inferShape(node, [inShape], {});
    const scratch = Resize.scratchBytes!(node, [inShape], outShape);
    const [up, down] = "scale" in by ? [by.scale, 1] : [1, by.factor];
    assert.is(scratch, resizeScratchBytes(method, up, down, w, c, outShape.h));
    const inBytes = h * w * c * 4 + 16, outBytes = outShape.h * outShape.w * c * 4;
    const guard = 256;
    const lease = engine.pool.lease(inBytes + outBytes + scratch + 3 * guard);
    const inPtr = lease.ptr, outPtr = inPtr + inBytes + guard, scratchPtr = outPtr + outBytes + guard;
    const all = engine.u8(lease.ptr, lease.bytes);
    all.fill(0xa5);
    engine.f32(inPtr, h * w * c).set(randomArray(h * w * c, rand));
    const before = all.slice();
    Resize.wasm(engine.kernels, { node, inputs: [{ ptr: inPtr, shape: inShape }], output: { ptr: outPtr, shape: outShape }, packed: {}, scratchPtr, y0: 0, y1: outShape.h });
    for (let i = 0; i < all.length; i++) {
      const p = lease.ptr + i;
      const allowed = (p >= outPtr && p < outPtr + outBytes) || (p >= scratchPtr && p < scratchPtr + scratch);
      if (!allowed && all[i] !== before[i]) assert.unreachable(`${method}: byte ${p - lease.ptr} outside output/scratch was written`);
    }
    engine.pool.release(lease);
  }
});

test("bilinear ×4 is srgan-rust's Linterp: the weight table of ../shared/docs/srgan-rust-rsr.md §3, edges clamped", () => {
  // | r | i₀ | weight on x[i₀] | weight on x[i₀+1] |, o = 4p + r, i₀ relative to p.
  const doc = [[-1, 0.375, 0.625], [-1, 0.125, 0.875], [0, 0.875, 0.125], [0, 0.625, 0.375]];
  const ph = resizePhases("bilinear", 4, 1);
  ph.forEach((p, r) => {
    assert.is(p.first, doc[r][0], `phase ${r} first tap`);
    assert.equal(p.weights, [doc[r][1], doc[r][2]], `phase ${r} weights`);
  });
  // The whole op against the formula with clamping, on a random image (edges included).
  const rand = rng(5);
  const h = 7, w = 9, c = 3;
  const x = randomArray(h * w * c, rand);
  const out = wasmOnly(resizeGraph("bilinear", { scale: 4 }, c), h, w, x);
  const clamp = (i: number, n: number) => Math.min(n - 1, Math.max(0, i));
  const lin = (o: number) => { const u = (o + 0.5) / 4 - 0.5, i0 = Math.floor(u); return { i0, t: u - i0 }; };
  const expected = new Float32Array(out.length);
  for (let oy = 0; oy < 4 * h; oy++) for (let ox = 0; ox < 4 * w; ox++) for (let k = 0; k < c; k++) {
    const Y = lin(oy), X = lin(ox);
    const at = (yy: number, xx: number) => x[(clamp(yy, h) * w + clamp(xx, w)) * c + k];
    expected[(oy * 4 * w + ox) * c + k] = (1 - Y.t) * ((1 - X.t) * at(Y.i0, X.i0) + X.t * at(Y.i0, X.i0 + 1))
      + Y.t * ((1 - X.t) * at(Y.i0 + 1, X.i0) + X.t * at(Y.i0 + 1, X.i0 + 1));
  }
  assertClose(out, expected, 1e-6, "Linterp");
  // alumina's own unit test: [[0,1],[1,0]] at ×2 has first row 0, .25, .75, 1.
  const a = wasmOnly(resizeGraph("bilinear", { scale: 2 }, 1), 2, 2, new Float32Array([0, 1, 1, 0]));
  assertClose(a.subarray(0, 4), [0, 0.25, 0.75, 1], 1e-7, "alumina 2x2");
});

test("bicubic weights: Keys ×2 phase and MATLAB's antialiased ÷2 kernel", () => {
  const keys2 = [-0.0234375, 0.2265625, 0.8671875, -0.0703125];
  const p = resizePhases("bicubic", 2, 1);
  assert.equal(p[0].weights, keys2);
  assert.equal(p[1].weights, [...keys2].reverse());
  assert.is(p[0].first, -2);
  const d = resizePhases("bicubic", 1, 2)[0];
  assert.is(d.first, -3); // output 0 (u = 0.5) reads inputs −3..4
  // The ×2 cubic stretched to 8 taps at t = (u − ind)/2 = ±0.25, ±0.75, ±1.25, ±1.75, normalised (sum 2 → 1).
  const k = (t: number) => keys2[[1.75, 0.75, 0.25, 1.25].indexOf(Math.abs(t))];
  assert.equal(d.weights, [1.75, 1.25, 0.75, 0.25, -0.25, -0.75, -1.25, -1.75].map((t) => k(t) / 2));
});

test("symmetric edges, not clamped ones: bicubic ×2 of the ramp 0,1,2,3", () => {
  const out = wasmOnly(resizeGraph("bicubic", { scale: 2 }, 1), 1, 4, new Float32Array([0, 1, 2, 3]));
  // o = 0: u = −0.25, taps −2..1 → mirrored x = 1, 0, 0, 1 (clamping would read 0, 0, 0, 1 → −0.0703125).
  assertClose([out[0]], [-0.0234375 - 0.0703125], 1e-7, "left edge");
  // Away from the edges Keys' cubic reproduces the ramp: value = u.
  for (let o = 3; o <= 4; o++) assertClose([out[o]], [(o + 0.5) / 2 - 0.5], 1e-6, `o=${o}`);
  assert.is(mirrorIndex(-1, 4), 0);
  assert.is(mirrorIndex(-2, 4), 1);
  assert.is(mirrorIndex(4, 4), 3);
  assert.is(mirrorIndex(9, 4), 1);
  assert.is(mirrorIndex(-3, 1), 0);
});

test("nearest follows MATLAB: ×2 repeats, ÷2 picks the second of each pair", () => {
  const up = wasmOnly(resizeGraph("nearest", { scale: 2 }, 1), 1, 3, new Float32Array([1, 2, 3]));
  assert.equal([...up.subarray(0, 6)], [1, 1, 2, 2, 3, 3]);
  const down = wasmOnly(resizeGraph("nearest", { factor: 2 }, 1), 1, 4, new Float32Array([1, 2, 3, 4]));
  assert.equal([...down], [2, 4]); // MATLAB imresize([1 2 3 4], 0.5, 'nearest')
});

test("box ÷f is the exact block mean (bit-exact on 0..255 integers for f = 2, 4)", () => {
  const rand = rng(21);
  for (const f of [2, 3, 4]) {
    const h = 4 * f, w = 3 * f, c = 3;
    const x = new Float32Array(h * w * c).map(() => Math.floor(rand() * 256));
    const out = wasmOnly(resizeGraph("box", { factor: f }, c), h, w, x);
    const exp = new Float32Array(out.length);
    for (let y = 0; y < h / f; y++) for (let X = 0; X < w / f; X++) for (let k = 0; k < c; k++) {
      let s = 0;
      for (let dy = 0; dy < f; dy++) for (let dx = 0; dx < f; dx++) s += x[((y * f + dy) * w + X * f + dx) * c + k];
      exp[(y * (w / f) + X) * c + k] = s / (f * f);
    }
    if (f === 3) assertClose(out, exp, 1e-6, "box 3");
    else assertBitIdentical(out, exp, `box ${f}`);
  }
});

test("a wrong result would be caught (the comparison can fail)", () => {
  const rand = rng(3);
  const x = randomArray(5 * 6 * 3, rand);
  const { wasm, ref } = runBoth(resizeGraph("bicubic", { scale: 3 }, 3), 5, 6, x);
  assert.is(firstMismatch(wasm, ref, 1e-5), -1);
  wasm[17] += 1e-3;
  assert.is(firstMismatch(wasm, ref, 1e-5), 17);
});

test("attribute errors name the problem", () => {
  const node = (attrs: Record<string, unknown>) => ({ op: "Resize", inputs: ["x"], output: "y", attrs, weights: {} });
  const s = { h: 4, w: 4, c: 3 };
  assert.throws(() => Resize.inferShape(node({ method: "lanczos", scale: 2 }), [s], {}), /method must be one of/);
  assert.throws(() => Resize.inferShape(node({ method: "bicubic" }), [s], {}), /give attrs.scale/);
  assert.equal(Resize.inferShape(node({ method: "cubic", scale: 3, factor: 4 }), [{ h: 8, w: 12, c: 3 }], {}), { h: 6, w: 9, c: 3 });
  assert.throws(() => Resize.inferShape(node({ method: "bicubic", factor: 1.5 }), [s], {}), /integer in \[1, 16\]/);
  assert.equal(Resize.inferShape(node({ method: "bicubic", factor: 3 }), [{ h: 7, w: 9, c: 5 }], {}), { h: 3, w: 3, c: 5 });
});

/**
 * OpenCV's / ncnn's bicubic, written out as they document it: output x samples u = (x + 0.5)·in/out − 0.5,
 * taps ⌊u⌋ − 1 … ⌊u⌋ + 2 clamped into the line, Keys a = −0.75 of the distances; no antialias.
 */
function cubicLine(src: (i: number) => number, n: number, out: number): number[] {
  const k = (d: number) => { const x = Math.abs(d); return x <= 1 ? 1.25 * x ** 3 - 2.25 * x * x + 1 : x < 2 ? -0.75 * x ** 3 + 3.75 * x * x - 6 * x + 3 : 0; };
  return Array.from({ length: out }, (_, o) => {
    const u = ((o + 0.5) * n) / out - 0.5, f = Math.floor(u);
    let s = 0;
    for (let j = -1; j <= 2; j++) s += k(u - (f + j)) * src(Math.min(Math.max(f + j, 0), n - 1));
    return s;
  });
}

test("cubic is OpenCV's / ncnn's bicubic (a = −0.75, clamped edges, no antialias) at ×2, ÷2 and 3/4", () => {
  const rand = rng(404);
  for (const by of [{ scale: 2 }, { factor: 2 }, { scale: 3, factor: 4 }, { scale: 4 }]) {
    const h = 8, w = 12, c = 2;
    const x = randomArray(h * w * c, rand);
    const { wasm, ref, shape } = runBoth(resizeGraph("cubic", by, c), h, w, x);
    // Separable, height first: columns of the input, then rows of that.
    const cols = Array.from({ length: w * c }, (_, i) => cubicLine((y) => x[y * w * c + i], h, shape.h));
    const want = new Float32Array(shape.h * shape.w * c);
    for (let y = 0; y < shape.h; y++)
      for (let ch = 0; ch < c; ch++) {
        const line = cubicLine((i) => cols[i * c + ch][y], w, shape.w);
        line.forEach((v, o) => { want[(y * shape.w + o) * c + ch] = v; });
      }
    assertClose(ref, want, 1e-6, `reference ${JSON.stringify(by)}`);
    assertClose(wasm, want, 1e-5, `wasm ${JSON.stringify(by)}`);
  }
});

test("pool returns to baseline", () => {
  assert.is(engine.pool.stats().currentBytes, 0);
  assert.is(engine.pool.stats().activeLeases, 0);
});

test.run();

// ---- downscale (src/image/resample.ts): the op and the sRGB kernels applied to RGBA8 images ----

const ds = suite("downscale");

function randomRgba(rand: () => number, width: number, height: number, opaque = false) {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < data.length; i++) data[i] = opaque && i % 4 === 3 ? 255 : Math.floor(rand() * 256);
  return { data, width, height };
}

/** Per output sample, f(values of the block) for every channel of a factor×factor block. */
function perBlock(img: { data: ArrayLike<number>; width: number; height: number }, f: number, fn: (v: number[], ch: number) => number): number[] {
  const out: number[] = [];
  for (let y = 0; y < Math.floor(img.height / f); y++) for (let x = 0; x < Math.floor(img.width / f); x++) for (let ch = 0; ch < 4; ch++) {
    const v: number[] = [];
    for (let dy = 0; dy < f; dy++) for (let dx = 0; dx < f; dx++) v.push(img.data[((y * f + dy) * img.width + x * f + dx) * 4 + ch]);
    out.push(fn(v, ch));
  }
  return out;
}

ds("cropToMultiple keeps the top-left multiple-of-m rectangle", () => {
  const img = randomRgba(rng(1), 7, 5);
  const c = cropToMultiple(img, 2);
  assert.equal([c.width, c.height], [6, 4]);
  for (let y = 0; y < 4; y++) assert.equal([...c.data.subarray(y * 24, y * 24 + 24)], [...img.data.subarray(y * 28, y * 28 + 24)]);
  assert.is(cropToMultiple(c, 2), c);
  assert.throws(() => cropToMultiple(img, 6), (e: SrganError) => e.code === "ERR_INVALID_INPUT");
});

/** Round to nearest, ties to even (the exact mean of integers, so ties are real ties). */
const roundEven = (q: number) => { const f = Math.floor(q), d = q - f; return d > 0.5 || (d === 0.5 && f % 2 === 1) ? f + 1 : f; };

ds("box is the block mean of the bytes, ties to even, alpha included (exact, ties too)", async () => {
  const rand = rng(2);
  let exp4Ties = 0;
  for (const f of [2, 3, 4]) {
    const img = randomRgba(rand, 5 * f + 1, 4 * f + f - 1); // not a multiple: cropped first
    const out = await downscale(img, f, "box");
    assert.equal([out.width, out.height], [5, 4]);
    const exp = perBlock(img, f, (v) => roundEven(v.reduce((a, b) => a + b, 0) / (f * f)));
    assert.equal([...out.data], exp, `box ${f}`);
    if (f === 4) exp4Ties = perBlock(img, f, (v) => (v.reduce((a, b) => a + b, 0) % 16 === 8 ? 1 : 0)).reduce((a, b) => a + b, 0);
  }
  // Ties: R 1, 1, 0, 0 → 0.5 → 0; G 3, 3, 0, 0 → 1.5 → 2; B 3, 0, 0, 0 → 0.75 → 1; A 255, 255, 254, 254 → 254.5 → 254.
  const tie = { data: new Uint8ClampedArray([1, 3, 3, 255, 1, 3, 0, 255, 0, 0, 0, 254, 0, 0, 0, 254]), width: 2, height: 2 };
  assert.equal([...(await downscale(tie, 2, "box")).data], [0, 2, 1, 254]);
  assert.ok(exp4Ties > 0, "the random images contain ties");
});

ds("box-linear averages in linear light and codes back to sRGB; alpha is averaged as is", async () => {
  const rand = rng(3);
  const img = randomRgba(rand, 12, 8);
  const out = await downscale(img, 4, "box-linear");
  const exp = perBlock(img, 4, (v, ch) => {
    const m = v.reduce((a, b) => a + (ch === 3 ? b / 255 : srgbToLinear(b / 255)), 0) / 16;
    return Math.floor(255 * (ch === 3 ? m : linearToSrgb(m)) + 0.5);
  });
  assert.equal([...out.data], exp);
  // Black and white average to linear 0.5 → sRGB 188, not 128.
  const bw = { data: new Uint8ClampedArray([0, 0, 0, 255, 255, 255, 255, 255, 0, 0, 0, 255, 255, 255, 255, 255]), width: 2, height: 2 };
  const grey = await downscale(bw, 2, "box-linear");
  assert.equal([...grey.data], [188, 188, 188, 255]);
});

ds("bicubic is the antialiased Resize in float, rounded once at the end", async () => {
  const rand = rng(4);
  const img = randomRgba(rand, 23, 17);
  const f = 3;
  const out = await downscale(img, f, "bicubic");
  const h = 15, w = 21;
  const x = new Float32Array(h * w * 4);
  for (let y = 0; y < h; y++) for (let i = 0; i < w * 4; i++) x[y * w * 4 + i] = img.data[y * 23 * 4 + i];
  const ref = new Float32Array(5 * 7 * 4);
  const node = resizeGraph("bicubic", { factor: f }, 4).nodes[0];
  Resize.reference({ node, inputs: [{ data: x, shape: { h, w, c: 4 } }], output: { data: ref, shape: { h: 5, w: 7, c: 4 } }, weights: {}, y0: 0, y1: 5 });
  const exp = [...ref].map((v) => Math.min(255, Math.max(0, Math.floor(v + 0.5))));
  assert.equal([...out.data], exp);
  // Factor 1 is the identity.
  assert.equal([...(await downscale(img, 1, "bicubic")).data], [...img.data]);
});

ds("arguments are checked", async () => {
  const img = randomRgba(rng(5), 4, 4);
  for (const f of [0, 17, 1.5]) await downscale(img, f, "box").then(() => assert.unreachable(`factor ${f}`), (e) => assert.instance(e, RangeError));
  await downscale(img, 2, "lanczos" as never).then(() => assert.unreachable("method"), (e) => assert.instance(e, RangeError));
  await downscale({ ...img, width: 5 }, 2, "box").then(() => assert.unreachable("size"), (e: SrganError) => assert.is(e.code, "ERR_INVALID_INPUT"));
});

ds.run();
