// SPDX-License-Identifier: MIT
// The WebGL backend's CPU-side logic, runnable without a browser: conv weight packing (both layouts,
// emulated with the shader's index formulas against the reference op), the texture pool's accounting
// on a stand-in GL, option validation, the op list, and the clear refusal outside a browser.
// The GPU itself is exercised by test/browser/webgl.test.ts.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { convLayout, packConv, type ConvSpec, type ConvLayout } from "../../src/backends/webgl/programs/conv2d.js";
import { layersOf } from "../../src/backends/webgl/programs/common.js";
import { activationTexels, actTexelsPerLayer } from "../../src/ops/activations.js";
import { TexturePool } from "../../src/backends/webgl/texture-pool.js";
import { createWebglRunner, resolveWebglOptions } from "../../src/backends/webgl/index.js";
import { Conv2D } from "../../src/ops/conv2d.js";
import { builtinGraph } from "../../src/model/builtin.js";
import type { GraphNode } from "../../src/model/graph.js";
import { UnsupportedError } from "../../src/errors.js";
import { assertClose, randInt, randomArray, rng } from "../helpers.js";

const test = suite("WebGL backend (CPU side)");

/**
 * Runs a conv from packed texels exactly as convShader's GLSL indexes them (both layouts, outputs
 * grouped `outs` per draw), in float64. Kept literal so a change on either side shows up here.
 */
function emulate(spec: ConvSpec, layout: ConvLayout, t: Float32Array, inputs: Float32Array[], h: number, w: number, outs: number): Float32Array {
  const { k, cout, cins } = spec;
  const pad = k >> 1, L = layersOf(cout), apl = actTexelsPerLayer(spec.act);
  const block = layout.mode === "block";
  const tex = (i: number) => [t[4 * i], t[4 * i + 1], t[4 * i + 2], t[4 * i + 3]];
  const out = new Float32Array(h * w * cout);
  for (let l0 = 0; l0 < L; l0 += outs) {
    const base = block ? l0 * layout.stride : 0; // the bound uniform range starts at layer l0
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
      for (let m = 0; m < Math.min(outs, L - l0); m++) {
        const layer = l0 + m;
        const acc = spec.staticBias ? tex(base + (block ? m * layout.stride + layout.biasOff : layout.biasOff + layer)) : [0, 0, 0, 0];
        cins.forEach((cin, i) => {
          const S = layersOf(cin);
          for (let ky = 0; ky < k; ky++) for (let kx = 0; kx < k; kx++) {
            const iy = y + ky - pad, ix = x + kx - pad;
            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
            let wi = block ? layout.offsets[i] + (ky * k + kx) * S * 4 : layout.offsets[i] + ((l0 * k * k + ky * k + kx) * S) * 4;
            for (let s = 0; s < S; s++, wi += 4) {
              const xv = [0, 1, 2, 3].map((j) => (4 * s + j < cin ? inputs[i][(iy * w + ix) * cin + 4 * s + j] : 0));
              const first = block ? base + m * layout.stride + wi : wi + m * k * k * S * 4;
              for (let j = 0; j < 4; j++) { const col = tex(first + j); for (let c = 0; c < 4; c++) acc[c] += col[c] * xv[j]; }
            }
          }
        });
        for (let c = 0; c < 4; c++) {
          const o = 4 * layer + c;
          if (o >= cout) continue;
          const p = (q: number) => tex(base + (block ? m * layout.stride + layout.actOff + q : layout.actOff + apl * layer + q))[c];
          const v = acc[c];
          out[(y * w + x) * cout + o] = spec.act === "prelu" ? (v > 0 ? v : v * p(0)) : spec.act === "relu" ? Math.max(v, 0) : spec.act === "none" ? v : NaN;
        }
      }
    }
  }
  return out;
}

test("conv packing: block and texture layouts, grouped outputs, several inputs = the reference op", () => {
  const rand = rng(42);
  for (let trial = 0; trial < 12; trial++) {
    const k = [1, 3, 5][trial % 3];
    const n = 1 + (trial % 3 === 1 ? 2 : trial % 2);
    const cins = Array.from({ length: n }, () => randInt(rand, 1, 9));
    const cout = randInt(rand, 1, 19);
    const h = randInt(rand, 1, 7), w = randInt(rand, 1, 7);
    const act = (["none", "relu", "prelu"] as const)[trial % 3];
    const weights: Record<string, { shape: number[]; data: Float32Array }> = {};
    const roles: Record<string, string> = {};
    cins.forEach((c, i) => { weights[`k${i}`] = { shape: [cout, k, k, c], data: randomArray(cout * k * k * c, rand) }; roles[`kernel${i}`] = `k${i}`; });
    weights.b = { shape: [cout], data: randomArray(cout, rand) }; roles.bias = "b";
    if (act === "prelu") { weights.s = { shape: [cout], data: randomArray(cout, rand, 0, 0.5) }; roles.slope = "s"; }
    const node: GraphNode = { op: "Conv2D", inputs: cins.map((_, i) => `x${i}`), output: "y", attrs: { k, cout, act }, weights: roles };
    const { texels } = activationTexels(node, weights, cout);
    const spec: ConvSpec = {
      k, pad: k >> 1, cout, cins, kernel: (i, o, ky, kx, ci) => weights[`k${i}`].data[((o * k + ky) * k + kx) * cins[i] + ci],
      staticBias: weights.b.data, dynamicBias: false, act, actTexels: texels, alpha: 0,
    };
    const inputs = cins.map((c) => randomArray(h * w * c, rand));
    const want = new Float32Array(h * w * cout);
    const flat = Object.fromEntries(Object.entries(roles).map(([r, name]) => [r, weights[name].data]));
    Conv2D.reference({ node, inputs: inputs.map((data, i) => ({ data, shape: { h, w, c: cins[i] } })), output: { data: want, shape: { h, w, c: cout } }, weights: flat, y0: 0, y1: h });
    for (const [mode, align] of [["block", 1], ["block", 16], ["texture", 1]] as const) {
      const layout = convLayout(spec, mode, align);
      for (const outs of [1, 2, 4]) {
        assertClose(emulate(spec, layout, packConv(spec, layout), inputs, h, w, outs), want, 1e-5, `trial ${trial} ${mode}/${align} outs ${outs}`);
      }
    }
  }
});

test("conv layout: block stride honours the uniform-buffer offset alignment; texture mode has no stride", () => {
  const spec: ConvSpec = { k: 3, pad: 1, cout: 10, cins: [5], kernel: () => 1, staticBias: new Float32Array(10), dynamicBias: false, act: "spline", actTexels: new Float32Array(3 * 3 * 4), alpha: 0 };
  const b = convLayout(spec, "block", 16);
  assert.is(b.perLayer, 9 * 2 * 4 + 1 + 3);
  assert.is(b.stride % 16, 0);
  assert.is(b.total, b.stride * 3);
  const t = convLayout(spec, "texture");
  assert.is(t.total, 3 * 9 * 2 * 4 + 3 + 9);
});

/** A stand-in for the few WebGL2 calls the pool makes. */
function fakeGl() {
  let live = 0, lost = false;
  const gl = {
    TEXTURE_2D_ARRAY: 1, RGBA32F: 2, RGBA16F: 3, RGBA8: 4, RGBA8UI: 5, TEXTURE_MIN_FILTER: 6, TEXTURE_MAG_FILTER: 7, NEAREST: 8,
    TEXTURE_WRAP_S: 9, TEXTURE_WRAP_T: 10, CLAMP_TO_EDGE: 11, UNIFORM_BUFFER: 12, STATIC_DRAW: 13,
    createTexture: () => { live++; return {}; }, deleteTexture: () => { live--; },
    createBuffer: () => { live++; return {}; }, deleteBuffer: () => { live--; },
    bindTexture() {}, texStorage3D() {}, texParameteri() {}, bindBuffer() {}, bufferData() {},
    isContextLost: () => lost,
  };
  return { gl: gl as unknown as WebGL2RenderingContext, live: () => live, lose: () => { lost = true; } };
}

test("texture pool: bucketed reuse, byte accounting, trim of the previous job's leftovers, dispose to zero", () => {
  const f = fakeGl();
  const pool = new TexturePool(f.gl, 8192);
  const w = pool.acquirePinned("rgba32f", 16, 1, 1);
  const buf = pool.acquireBuffer(new Float32Array(64));
  pool.beginJob();
  const a = pool.acquire("rgba32f", 30, 20, 2); // bucketed to 32×32×2
  assert.is(a.bytes, 32 * 32 * 2 * 16);
  pool.release(a);
  const b = pool.acquire("rgba32f", 31, 17, 2); // same bucket: reused
  assert.is(b, a);
  const c = pool.acquire("rgba8", 100, 3, 1);
  let s = pool.stats();
  assert.is(s.reuses, 1);
  assert.is(s.totalAllocations, 3);
  assert.is(s.weightBytes, 16 * 16 + 256);
  assert.is(s.currentBytes, 16 * 16 + 256 + a.bytes + c.bytes);
  assert.is(s.inUseBytes, s.currentBytes);
  assert.throws(() => { pool.release(b); pool.release(b); }, /released twice/);
  pool.release(c);
  pool.beginJob();
  const d = pool.acquire("rgba8", 100, 3, 1); // used by this job: survives the trim; `a` does not
  pool.release(d);
  assert.is(pool.trim(), a.bytes);
  s = pool.stats();
  assert.is(s.currentBytes, 16 * 16 + 256 + c.bytes);
  assert.is(s.peakBytes, 16 * 16 + 256 + a.bytes + c.bytes);
  pool.releaseBuffer(buf);
  pool.release(w);
  pool.dispose();
  assert.is(pool.stats().currentBytes, 0);
  assert.is(f.live(), 0);
});

test("texture pool: a lost context forgets everything (accounting 0); stale releases are ignored", () => {
  const f = fakeGl();
  const pool = new TexturePool(f.gl, 64);
  const t = pool.acquire("rgba32f", 40, 40, 1);
  assert.is(t.width, 64); // bucket stops at the device limit
  const big = pool.acquire("rgba32f", 50, 64, 1);
  assert.is(big.height, 64);
  f.lose();
  pool.forgetAll();
  assert.is(pool.stats().currentBytes, 0);
  pool.release(t); // from before the loss: no throw
  assert.is(pool.stats().inUseBytes, 0);
});

test("options are validated by name", () => {
  assert.throws(() => resolveWebglOptions({ tileSize: 4 }), (e: Error) => e instanceof RangeError && /options\.tileSize/.test(e.message));
  assert.throws(() => resolveWebglOptions({ memoryLimit: 1 }), (e: Error) => e instanceof RangeError && /options\.memoryLimit/.test(e.message));
  assert.throws(() => resolveWebglOptions({ precision: "float64" as never }), (e: Error) => e instanceof RangeError && /options\.precision/.test(e.message));
  assert.is(resolveWebglOptions({}).tileSize, 256);
});

test("outside a browser createWebglRunner refuses with UnsupportedError naming the wasm backend", async () => {
  try {
    await createWebglRunner(builtinGraph("bicubic")!);
    assert.unreachable("created a WebGL runner in Node");
  } catch (e) {
    assert.instance(e, UnsupportedError);
    assert.match((e as Error).message, /backend: 'wasm'/);
  }
});

test.run();
