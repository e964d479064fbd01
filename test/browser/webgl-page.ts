// SPDX-License-Identifier: MIT
// The in-page half of test/browser/webgl.test.ts, bundled by esbuild and loaded in headless Chromium:
// builds seeded random graphs covering every op, runs them with the WebGL runner, the TypeScript
// reference ops and (for the built-in networks) the wasm Upscaler, and reports errors as numbers for
// the Node side to assert on. Also drives context loss and dispose through an instrumented context.
import { createWebglRunner } from "../../src/backends/webgl/index.js";
import { validateGraph, type Graph, type GraphNode, type Shape, type ValidatedGraph } from "../../src/model/graph.js";
import { builtinGraph } from "../../src/model/builtin.js";
import { decodeNetwork } from "../../src/model/format.js";
import { getOp } from "../../src/ops/registry.js";
import { createUpscaler } from "../../src/api/upscaler.js";
import { configureAssets } from "../../src/platform/assets.js";
import { rng, randInt } from "../random.js";

configureAssets({ wasmBaseUrl: `${location.origin}/wasm/` });

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
const uniform = (r: () => number, n: number, lo: number, hi: number) => Float32Array.from({ length: n }, () => lo + (hi - lo) * r());

/**
 * Runs one image through the WebGL runner and the wasm Upscaler (given `model`): the largest RGBA8 byte
 * difference, and the WebGL float output against the reference ops.
 */
async function againstWasm(graph: Graph | ValidatedGraph, model: string | Uint8Array, image: { data: Uint8ClampedArray; width: number; height: number }, tileSize: number) {
  const { width: w, height: h } = image;
  const wasm = await createUpscaler({ model, threads: 0 });
  const runner = await createWebglRunner(graph, { tileSize });
  try {
    const a = await wasm.upscale(image);
    const b = await runner.upscale(image);
    const x = new Float32Array(w * h * 3);
    for (let i = 0; i < w * h; i++) for (let c = 0; c < 3; c++) x[i * 3 + c] = image.data[i * 4 + c] * (1 / 255);
    const f = await runner.forward(x, h, w);
    const want = reference(runner.graph, x, h, w);
    return { bytes: maxByteDiff(b.data, a.data), float: compare(f.data, want.data), size: [b.width, b.height], tileSize: runner.stats().tileSize };
  } finally {
    runner.dispose();
    await wasm.dispose();
  }
}

const ACTS = ["none", "relu", "leaky", "prelu", "spline"] as const;

/** Builds graphs node by node, inventing weights for each op. */
class Builder {
  nodes: GraphNode[] = [];
  weights: Graph["weights"] = {};
  private n = 0;
  constructor(readonly r: () => number) {}
  private w(shape: number[], lo: number, hi: number): string {
    const name = `w${this.n++}`;
    this.weights[name] = { shape, data: uniform(this.r, shape.reduce((a, b) => a * b, 1), lo, hi) };
    return name;
  }
  private out(): string { return `t${this.n++}`; }
  private actWeights(act: string, c: number, attrs: Record<string, unknown>, roles: Record<string, string>): void {
    if (act === "leaky") attrs.alpha = 0.05 + 0.3 * this.r();
    if (act === "prelu") roles.slope = this.w([c], 0, 0.4);
    if (act === "spline") {
      // Rows L, Ce, R around srgan-rust's typical values.
      const name = this.w([3, c], 0, 1);
      const d = this.weights[name].data;
      for (let i = 0; i < c; i++) { d[i] = 0.1 + 0.2 * d[i]; d[c + i] = 0.3 * d[c + i]; d[2 * c + i] = 0.8 + 0.4 * d[2 * c + i]; }
      roles.spline = name;
    }
  }
  conv(inputs: string[], cins: number[], k: number, cout: number, o: { act?: string; bias?: "static" | "none" | string } = {}): string {
    const act = o.act ?? "none";
    const attrs: Record<string, unknown> = { k, cout, act };
    const roles: Record<string, string> = {};
    const fan = cins.reduce((s, c) => s + c * k * k, 0);
    cins.forEach((c, i) => { roles[`kernel${i}`] = this.w([cout, k, k, c], -1.5 / Math.sqrt(fan), 1.5 / Math.sqrt(fan)); });
    const ins = [...inputs];
    if (o.bias === "static") roles.bias = this.w([cout], -0.3, 0.3);
    else if (o.bias && o.bias !== "none") { attrs.dynamicBias = true; ins.push(o.bias); }
    this.actWeights(act, cout, attrs, roles);
    return this.add({ op: "Conv2D", inputs: ins, output: this.out(), attrs, weights: roles });
  }
  dense(inputs: string[], cins: number[], units: number, act = "none"): string {
    const attrs: Record<string, unknown> = { units, act };
    const roles: Record<string, string> = { bias: this.w([units], -0.2, 0.2) };
    cins.forEach((c, i) => { roles[`matrix${i}`] = this.w([c, units], -0.8 / Math.sqrt(c), 0.8 / Math.sqrt(c)); });
    this.actWeights(act, units, attrs, roles);
    return this.add({ op: "Dense", inputs, output: this.out(), attrs, weights: roles });
  }
  act(input: string, c: number, act: string): string {
    const attrs: Record<string, unknown> = { act };
    const roles: Record<string, string> = {};
    this.actWeights(act, c, attrs, roles);
    return this.add({ op: "Activation", inputs: [input], output: this.out(), attrs, weights: roles });
  }
  op(op: string, inputs: string[], attrs: Record<string, unknown> = {}): string {
    return this.add({ op, inputs, output: this.out(), attrs, weights: {} });
  }
  private add(node: GraphNode): string { this.nodes.push(node); return node.output; }
  graph(name: string, scale: number, output: string): ValidatedGraph {
    // The last node writes "y", the network's output name.
    this.nodes.find((n) => n.output === output)!.output = "y";
    for (const n of this.nodes) n.inputs = n.inputs.map((t) => (t === output ? "y" : t));
    return validateGraph({ name, scale, input: "x", output: "y", nodes: this.nodes, weights: this.weights });
  }
}

/** Random graphs, one per case name; together they use every op, activation and option. */
const CASES: Record<string, (r: () => number) => ValidatedGraph> = {
  // Every odd kernel size the engine admits up to 15, each with a random activation and bias mode.
  ...Object.fromEntries([1, 3, 5, 7, 9, 11, 13, 15].map((k) => [`conv k=${k}`, (r: () => number) => {
    const b = new Builder(r);
    const c = randInt(r, 1, 9);
    const a = b.conv(["x"], [3], k, c, { act: pick(r, ACTS), bias: pick(r, ["static", "none"] as const) });
    return b.graph(`conv${k}`, 1, b.conv([a], [c], 3, 3, { act: pick(r, ACTS), bias: "static" }));
  }])),
  // Each activation fused into a conv and standalone, on channel counts that are not multiples of 4.
  ...Object.fromEntries(ACTS.map((act) => [`activation ${act}`, (r: () => number) => {
    const b = new Builder(r);
    const c = pick(r, [5, 6, 7]);
    const a = b.conv(["x"], [3], 3, c, { act, bias: "static" });
    const s = b.act(a, c, act);
    return b.graph(`act-${act}`, 1, b.conv([s], [c], 1, 3, { bias: "static" }));
  }])),
  "pixel-shuffle tf r=2 and torch r=3": (r) => {
    const b = new Builder(r);
    const a = b.conv(["x"], [3], 3, 20, { bias: "static", act: "prelu" });
    const s = b.op("PixelShuffle", [a], { r: 2, order: "tf" }); // 5 channels at 2×
    const c = b.conv([s], [5], 3, 27, { bias: "static" });
    return b.graph("shuffle", 6, b.op("PixelShuffle", [c], { r: 3, order: "torch" }));
  },
  "add residual": (r) => {
    const b = new Builder(r);
    const a = b.conv(["x"], [3], 3, 3, { act: "relu", bias: "static" });
    return b.graph("add", 1, b.op("Add", [a, "x"]));
  },
  // Whole-image statistics: GlobalMean → Dense (two inputs) → vector Activation → Add broadcast and a
  // dynamic conv bias over a conv with three image inputs, then pixel-shuffle.
  "global: mean, dense, vector activation, broadcast add, multi-input conv, dynamic bias": (r) => {
    const b = new Builder(r);
    const a = b.conv(["x"], [3], 3, 6, { act: "relu", bias: "static" });
    const m = b.op("GlobalMean", [a]);
    const mx = b.op("GlobalMean", ["x"]);
    const d = b.dense([m, mx], [6, 3], 6, "spline");
    const v = b.act(d, 6, "prelu");
    const a2 = b.op("Add", [a, v]); // [h, w, 6] + [1, 1, 6]
    const vd = b.dense([v], [6], 12, "leaky");
    const c = b.conv([a2, "x", a], [6, 3, 6], 3, 12, { bias: vd, act: "leaky" });
    return b.graph("global", 2, b.op("PixelShuffle", [c], { r: 2 }));
  },
  // Every resize method enlarging and shrinking (antialiased), in pairs that keep the graph
  // translation-equivariant (so tiles are exact) and ×3 overall.
  ...Object.fromEntries((["nearest", "bilinear", "bicubic", "box"] as const).map((method) => [`resize ${method}`, (r: () => number) => {
    const b = new Builder(r);
    const up = b.op("Resize", ["x"], { method, scale: 2 });
    const down = b.op("Resize", [up], { method, factor: 2 });
    const c = b.conv([down], [3], 3, 5, { bias: "static" });
    const up3 = b.op("Resize", [c], { method, scale: 3 });
    const down3 = b.op("Resize", [up3], { method, factor: 3 });
    const sum = b.conv([down3, down], [5, 3], 1, 3, { bias: "static" });
    return b.graph(`resize-${method}`, 3, b.op("Resize", [sum], { method: pick(r, ["bicubic", "bilinear"]), scale: 3 }));
  }])),
  // Shrinking sizes that do not divide (⌈n / factor⌉ outputs, mirrored edges): whole image only, since
  // a shrink by 3 is not translation-equivariant for tile origins off the 3-pixel grid.
  ...Object.fromEntries((["nearest", "bilinear", "bicubic", "box"] as const).map((method) => [`resize ${method} shrink odd sizes (whole)`, (r: () => number) => {
    const b = new Builder(r);
    const down = b.op("Resize", ["x"], { method, factor: 3 });
    const c = b.conv([down], [3], 3, 3, { bias: "static" });
    return b.graph(`shrink-${method}`, 1, b.op("Resize", [c], { method, scale: 3 }));
  }])),
};

/** The reference ops (float64 inside, float32 tensors) over a whole image, no tiles. */
function reference(g: ValidatedGraph, x: Float32Array, h: number, w: number): { data: Float32Array; shape: Shape } {
  const t = new Map<string, { data: Float32Array; shape: Shape }>([[g.input, { data: x, shape: { h, w, c: g.channels ?? 3 } }]]);
  for (const node of g.nodes) {
    const op = getOp(node.op)!;
    const inputs = node.inputs.map((n) => t.get(n)!);
    const shape = op.inferShape(node, inputs.map((v) => v.shape), g.weights);
    const out = { data: new Float32Array(shape.h * shape.w * shape.c), shape };
    const weights = Object.fromEntries(Object.entries(node.weights).map(([role, name]) => [role, g.weights[name].data]));
    op.reference({ node, inputs, output: out, weights, y0: 0, y1: shape.h });
    t.set(node.output, out);
  }
  return t.get(g.output)!;
}

/** Largest |a − b| / max(1, |b|), and where. */
function compare(a: Float32Array, b: Float32Array) {
  let worst = 0, at = -1;
  for (let i = 0; i < b.length; i++) {
    const e = Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i]));
    if (!(e <= worst)) { worst = Number.isNaN(e) ? Infinity : e; at = i; }
  }
  return { worst, at, got: a[at], want: b[at], n: b.length, lengthsMatch: a.length === b.length };
}

function randomRgba(r: () => number, w: number, h: number, opaque: boolean) {
  const data = new Uint8ClampedArray(w * h * 4);
  for (let i = 0; i < data.length; i++) data[i] = opaque && i % 4 === 3 ? 255 : Math.floor(r() * 256);
  return { data, width: w, height: h };
}

function maxByteDiff(a: Uint8ClampedArray, b: Uint8ClampedArray) {
  let max = 0, count = 0;
  for (let i = 0; i < a.length; i++) { const d = Math.abs(a[i] - b[i]); if (d > max) max = d; if (d) count++; }
  return { max, count, n: a.length, lengthsMatch: a.length === b.length };
}

/** A context whose texture calls are counted, independently of the pool's own accounting. */
function instrumentedCanvas() {
  const canvas = new OffscreenCanvas(1, 1);
  const gl = canvas.getContext("webgl2")!;
  const live = new Set<WebGLTexture>();
  let maxSide = 0;
  const create = gl.createTexture.bind(gl), del = gl.deleteTexture.bind(gl), storage = gl.texStorage3D.bind(gl);
  gl.createTexture = () => { const t = create(); if (t) live.add(t); return t; };
  gl.deleteTexture = (t: WebGLTexture | null) => { if (t) live.delete(t); del(t); };
  gl.texStorage3D = (target: number, levels: number, fmt: number, w: number, h: number, d: number) => { maxSide = Math.max(maxSide, w, h); storage(target, levels, fmt, w, h, d); };
  return { canvas, gl, liveTextures: () => live.size, maxSide: () => maxSide };
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!cond()) throw new Error("timed out waiting for a context event");
}

const ms = (t0: number) => Math.round(performance.now() - t0);

const api = {
  capabilities() {
    const c = new OffscreenCanvas(1, 1);
    const gl = c.getContext("webgl2");
    if (!gl) return null;
    const dbg = gl.getExtension("WEBGL_debug_renderer_info");
    const out = {
      renderer: dbg ? String(gl.getParameter(dbg.UNMASKED_RENDERER_WEBGL)) : "",
      maxTextureSize: gl.getParameter(gl.MAX_TEXTURE_SIZE) as number,
      colorBufferFloat: !!gl.getExtension("EXT_color_buffer_float"),
      crossOriginIsolated,
    };
    gl.getExtension("WEBGL_lose_context")?.loseContext();
    return out;
  },

  caseNames: () => Object.keys(CASES),

  /** What backend: 'auto' relies on: a software renderer is refused when hardware is required. */
  async requireHardware() {
    try {
      (await createWebglRunner(builtinGraph("bicubic")!, { requireHardware: true })).dispose();
      return "created";
    } catch (e) {
      return `${(e as Error).name}: ${(e as Error).message}`;
    }
  },

  /** One random graph: WebGL float output (whole image, and in small tiles) vs the reference. */
  async opCase(name: string, seed: number) {
    const r = rng(seed);
    const g = CASES[name](r);
    const h = randInt(r, 9, 17), w = randInt(r, 9, 19);
    const x = uniform(r, h * w * 3, 0, 1);
    const t0 = performance.now();
    // Conv weights in uniform buffers (where they fit) for the tiled run, in textures for the whole one.
    const runner = await createWebglRunner(g, { tileSize: 8 });
    const textured = await createWebglRunner(g, { convWeights: "texture" });
    try {
      const want = reference(g, x, h, w);
      const whole = await textured.forward(x, h, w, { tileSize: 4096 });
      const tiled = await runner.forward(x, h, w, name.endsWith("(whole)") ? { tileSize: 4096 } : {});
      const s = runner.stats();
      return { h, w, global: g.global, whole: compare(whole.data, want.data), tiled: compare(tiled.data, want.data), ms: ms(t0), tileSize: s.tileSize, buffers: s.buffers };
    } finally {
      runner.dispose();
      textured.dispose();
    }
  },

  /** A built-in network: RGBA8 output vs the wasm Upscaler (threads: 0), float output vs the reference. */
  async builtin(name: string, opaque: boolean, tileSize: number) {
    const r = rng(name.length * 101 + (opaque ? 1 : 2));
    const w = 23, h = 19;
    const image = randomRgba(r, w, h, opaque);
    return againstWasm(builtinGraph(name)!, name, image, tileSize);
  },

  /**
   * The shipped `natural` network (models/natural-x4.srnet, fetched from the test server): RGBA8 output
   * vs the wasm Upscaler given the same bytes, float output vs the reference ops, on a 37×29 image.
   */
  async natural(tileSize: number) {
    const res = await fetch("/models/natural-x4.srnet");
    if (!res.ok) throw new Error(`GET /models/natural-x4.srnet: HTTP ${res.status}`);
    const bytes = new Uint8Array(await res.arrayBuffer());
    const graph = decodeNetwork(bytes);
    const r = rng(29);
    const w = 37, h = 29;
    const image = randomRgba(r, w, h, false);
    return { name: graph.name, nodes: graph.nodes.length, ...(await againstWasm(graph, bytes, image, tileSize)) };
  },

  /** Tiles must respect MAX_TEXTURE_SIZE: clamp it to 64 and compare with the unclamped result. */
  async textureLimit() {
    const r = rng(7);
    const image = randomRgba(r, 41, 29, false);
    const ref = await createWebglRunner(builtinGraph("bicubic")!, {});
    const inst = instrumentedCanvas();
    const small = await createWebglRunner(builtinGraph("bicubic")!, { canvas: inst.canvas, maxTextureSize: 64 });
    try {
      const a = await ref.upscale(image);
      const b = await small.upscale(image);
      // A whole-image network cannot be tiled: over the limit it must say so, not fail inside GL.
      let globalError = "";
      const gg = CASES["global: mean, dense, vector activation, broadcast add, multi-input conv, dynamic bias"](rng(3));
      const glob = await createWebglRunner(gg, { canvas: new OffscreenCanvas(1, 1), maxTextureSize: 64 });
      try { await glob.upscale(randomRgba(r, 40, 20, true)); } catch (e) { globalError = `${(e as Error).name}: ${(e as Error).message}`; } finally { glob.dispose(); }
      return { bytes: maxByteDiff(b.data, a.data), tileSize: small.stats().tileSize, maxSide: inst.maxSide(), globalError };
    } finally {
      ref.dispose();
      small.dispose();
    }
  },

  /** Context loss: before a job, in the middle of one, and recovery after restore. */
  async contextLoss() {
    const r = rng(11);
    const image = randomRgba(r, 30, 22, false);
    const inst = instrumentedCanvas();
    const ext = inst.gl.getExtension("WEBGL_lose_context")!;
    const events: string[] = [];
    const runner = await createWebglRunner(builtinGraph("bicubic")!, {
      canvas: inst.canvas, tileSize: 8,
      onContextLost: () => events.push("lost"), onContextRestored: () => events.push("restored"),
    });
    const err = (e: unknown) => ({ name: (e as Error).name, code: (e as { code?: string }).code, restorable: (e as { restorable?: boolean }).restorable, message: (e as Error).message });
    try {
      const before = await runner.upscale(image);
      const statsBefore = runner.stats();
      // 1. Lost between jobs.
      ext.loseContext();
      let between: unknown = null;
      try { await runner.upscale(image); } catch (e) { between = err(e); }
      const statsLost = runner.stats();
      // The browser allows restoreContext() only once the 'lost' event has been dispatched (and handled).
      await until(() => events.length === 1);
      ext.restoreContext();
      await runner.whenRestored();
      const after = await runner.upscale(image);
      // 2. Lost in the middle of a job (after the first tile).
      let middle: unknown = null;
      let tilesSeen = 0;
      try {
        await runner.upscale(image, { onProgress: (p) => { tilesSeen = p.tilesDone; if (p.tilesDone === 1) ext.loseContext(); } });
      } catch (e) { middle = err(e); }
      await until(() => events.length === 3);
      ext.restoreContext();
      await runner.whenRestored();
      const again = await runner.upscale(image);
      return {
        between, middle, tilesSeen, events,
        statsBefore: { currentBytes: statsBefore.currentBytes, textures: statsBefore.textures },
        statsLost: { currentBytes: statsLost.currentBytes, textures: statsLost.textures, contextLost: statsLost.contextLost },
        restores: runner.stats().restores,
        afterRestore: maxByteDiff(after.data, before.data), again: maxByteDiff(again.data, before.data),
      };
    } finally {
      runner.dispose();
    }
  },

  /** Pool reuse, trimming and release on dispose, checked against counted GL calls. */
  async dispose() {
    const r = rng(5);
    const inst = instrumentedCanvas();
    const g = CASES["global: mean, dense, vector activation, broadcast add, multi-input conv, dynamic bias"](rng(9));
    const runner = await createWebglRunner(CASES["pixel-shuffle tf r=2 and torch r=3"](rng(2)), { canvas: inst.canvas, tileSize: 8 });
    await runner.upscale(randomRgba(r, 40, 30, false));
    const big = runner.stats();
    await runner.upscale(randomRgba(r, 6, 5, true));
    const small = runner.stats();
    const liveBeforeDispose = inst.liveTextures();
    runner.dispose();
    const after = runner.stats();
    let afterDisposeError = "";
    try { await runner.upscale(randomRgba(r, 4, 4, true)); } catch (e) { afterDisposeError = (e as { code?: string }).code ?? String(e); }
    // A whole-image network too (its scratch textures and weights).
    const inst2 = instrumentedCanvas();
    const g2 = await createWebglRunner(g, { canvas: inst2.canvas });
    await g2.upscale(randomRgba(r, 17, 13, false));
    g2.dispose();
    return {
      big: { currentBytes: big.currentBytes, peakBytes: big.peakBytes, reuses: big.reuses, textures: big.textures, weightBytes: big.weightBytes, inUseBytes: big.inUseBytes },
      small: { currentBytes: small.currentBytes, trimmed: small.trimmed, inUseBytes: small.inUseBytes },
      liveBeforeDispose, liveAfterDispose: inst.liveTextures(), statsAfter: { currentBytes: after.currentBytes, textures: after.textures, inUseBytes: after.inUseBytes },
      afterDisposeError, globalLiveAfterDispose: inst2.liveTextures(), globalStats: g2.stats().currentBytes,
    };
  },

  /** Heavy draws cut into row bands (forced tiny here) give bit-identical results. */
  async banded() {
    const g = srganLike(rng(4));
    const h = 7, w = 6;
    const x = uniform(rng(8), h * w * 3, 0, 1);
    const one = await createWebglRunner(g, {});
    const banded = await createWebglRunner(g, { fetchesPerDraw: 1 << 12 });
    try {
      const a = await one.forward(x, h, w), b = await banded.forward(x, h, w);
      let diff = 0;
      for (let i = 0; i < a.data.length; i++) if (!Object.is(a.data[i], b.data[i])) diff++;
      return { diff, n: a.data.length, ref: compare(a.data, reference(g, x, h, w).data) };
    } finally {
      one.dispose();
      banded.dispose();
    }
  },

  /** Opt-in half precision: same result within half-float error. */
  async float16() {
    const r = rng(13);
    const g = CASES["conv k=3"](rng(17));
    const h = 15, w = 14;
    const x = uniform(r, h * w * 3, 0, 1);
    const runner = await createWebglRunner(g, { precision: "float16" });
    try {
      const f = await runner.forward(x, h, w);
      return { float: compare(f.data, reference(g, x, h, w).data), weightBytes: runner.stats().weightBytes };
    } finally {
      runner.dispose();
    }
  },

  /** Timings (SwiftShader: CPU numbers) for docs/webgl.md; not asserted. */
  async bench(name: string, size: number, reps: number) {
    const r = rng(1);
    const image = randomRgba(r, size, size, true);
    const graph = name === "srgan-like" ? srganLike(rng(4)) : builtinGraph(name)!;
    const out: Record<string, number> = {};
    const wasm = await createUpscaler({ model: graph, threads: 0 });
    await wasm.upscale(image);
    let t0 = performance.now();
    for (let i = 0; i < reps; i++) await wasm.upscale(image);
    out.wasm1 = ms(t0) / reps;
    await wasm.dispose();
    const runner = await createWebglRunner(graph, { tileSize: 256 });
    await runner.upscale(image);
    t0 = performance.now();
    for (let i = 0; i < reps; i++) await runner.upscale(image);
    out.webgl = ms(t0) / reps;
    out.peakMiB = runner.stats().peakBytes / 2 ** 20;
    runner.dispose();
    return out;
  },
};

/** A small SRGAN-shaped ×4 network (conv-prelu, residual convs, two ×2 shuffles) for timings. */
function srganLike(r: () => number): ValidatedGraph {
  const b = new Builder(r);
  const f = 32;
  const head = b.conv(["x"], [3], 9, f, { act: "prelu", bias: "static" });
  let t = head;
  for (let i = 0; i < 2; i++) {
    const c1 = b.conv([t], [f], 3, f, { act: "prelu", bias: "static" });
    const c2 = b.conv([c1], [f], 3, f, { bias: "static" });
    t = b.op("Add", [c2, t]);
  }
  const u1 = b.op("PixelShuffle", [b.conv([t], [f], 3, 4 * f, { bias: "static" })], { r: 2 });
  const u2 = b.op("PixelShuffle", [b.conv([b.act(u1, f, "prelu")], [f], 3, 4 * f, { bias: "static" })], { r: 2 });
  return b.graph("srgan-like", 4, b.conv([b.act(u2, f, "prelu")], [f], 9, 3, { bias: "static" }));
}

(globalThis as unknown as { webglTest: typeof api }).webglTest = api;
(globalThis as unknown as { webglTestReady: boolean }).webglTestReady = true;
