// SPDX-License-Identifier: MIT
// The op-case corpus: seeded graphs that together use every op, activation and attribute, each run at
// 1×1, 1×N, N×1 and an odd-sized image, on channel counts that are mostly not multiples of 4. The
// TypeScript reference ops are the oracle; test/unit/ops.test.ts runs the corpus on the wasm engine and
// test/browser/webgl-page.ts on the WebGL runner. Free of Node modules: the browser page bundles it.
import { validateGraph, type Graph, type GraphNode, type Shape, type ValidatedGraph } from "../../src/model/graph.js";
import { getOp } from "../../src/ops/registry.js";
import { ACT_NAMES } from "../../src/ops/activations.js";
import { rng, randInt } from "../random.js";

export interface OpCase {
  name: string;
  graph: ValidatedGraph;
  /** Input sizes [h, w]: 1×1, 1×N, N×1 and one larger odd-sized image. */
  sizes: Array<[number, number]>;
  /** Largest relative error |got − ref| / max(1, |ref|) each backend may show. */
  tol: { wasm: number; webgl: number };
  /** False where tiles cannot reproduce the whole image (a shrink off its grid): whole image only. */
  tiles: boolean;
  seed: number;
}

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
export const uniform = (r: () => number, n: number, lo: number, hi: number) => Float32Array.from({ length: n }, () => lo + (hi - lo) * r());

export const ACTS = ACT_NAMES;

/** Builds graphs node by node, inventing weights for each op. */
export class Builder {
  nodes: GraphNode[] = [];
  weights: Graph["weights"] = {};
  private n = 0;
  constructor(readonly r: () => number) {}
  w(shape: number[], lo: number, hi: number): string {
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
  conv(inputs: string[], cins: number[], k: number, cout: number, o: { act?: string; bias?: "static" | "none" | string; pad?: number } = {}): string {
    const act = o.act ?? "none";
    const attrs: Record<string, unknown> = { k, cout, act, ...(o.pad === undefined ? {} : { pad: o.pad }) };
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
  act(input: string, c: number, act: string, alpha?: number): string {
    const attrs: Record<string, unknown> = { act };
    const roles: Record<string, string> = {};
    this.actWeights(act, c, attrs, roles);
    if (alpha !== undefined) attrs.alpha = alpha;
    return this.add({ op: "Activation", inputs: [input], output: this.out(), attrs, weights: roles });
  }
  op(op: string, inputs: string[], attrs: Record<string, unknown> = {}): string {
    return this.add({ op, inputs, output: this.out(), attrs, weights: {} });
  }
  add(node: GraphNode): string { this.nodes.push(node); return node.output; }
  private finish(output: string): void {
    // The last node writes "y", the network's output name.
    this.nodes.find((n) => n.output === output)!.output = "y";
    for (const n of this.nodes) n.inputs = n.inputs.map((t) => (t === output ? "y" : t));
  }
  /** An RGB network, validated like a loaded one (receptive field and all). */
  graph(name: string, scale: number, output: string, extra: Pick<Graph, "inputPad" | "align"> = {}): ValidatedGraph {
    this.finish(output);
    return validateGraph({ name, scale, input: "x", output: "y", nodes: this.nodes, weights: this.weights, ...extra });
  }
  /**
   * A graph on `c` input channels (validateGraph admits only 1 and 3), for ops probed on their own.
   * Probes are pointwise or whole-image, so their receptive radius is 0 or unbounded.
   */
  probe(name: string, c: number, scale: number, output: string): ValidatedGraph {
    this.finish(output);
    const global = this.nodes.some((n) => getOp(n.op)!.global?.(n));
    const parameterCount = Object.values(this.weights).reduce((s, w) => s + w.data.length, 0);
    return { name, scale, channels: c, input: "x", output: "y", nodes: this.nodes, weights: this.weights, receptiveRadius: global ? Infinity : 0, shrink: 0, global, parameterCount };
  }
}

type Spec = { build: (b: Builder, r: () => number) => ValidatedGraph; tol?: Partial<OpCase["tol"]>; tiles?: boolean; sizes?: Array<[number, number]> };

/** Ops alone on `c` channels, as the scheduler hands them their inputs. */
const PROBES: Record<string, Spec> = {
  ...Object.fromEntries(([["relu"], ["leaky", 0.07], ["prelu"], ["spline"]] as const).map(([act, alpha]) => [`Activation ${act} alone`, {
    build: (b, r) => { const c = randInt(r, 1, 11); return b.probe(act, c, 1, b.act("x", c, act, alpha)); },
  } satisfies Spec])),
  // Pieces chosen so inputs in [-2, 2] cross both knots at ±1.
  "Activation spline, fixed weights spanning ±1": {
    build: (b) => {
      const sp = b.w([3, 5], 0, 1);
      b.weights[sp].data.set([0.01, 0.02, 0.1, 0.2, 0.3, 1, 1.1, 0.9, 0.5, 1.2, 0.25, 0.3, 0.6, 0.1, 0.9]);
      return b.probe("spline-fixed", 5, 1, b.add({ op: "Activation", inputs: ["x"], output: "s", attrs: { act: "spline" }, weights: { spline: sp } }));
    },
    sizes: [[40, 40]],
  },
  ...Object.fromEntries([1, 2, 3, 4].flatMap((r) => (["tf", "torch"] as const).map((order) => [`PixelShuffle r=${r} ${order} alone`, {
    build: (b, rand) => { const c = randInt(rand, 1, 5); return b.probe("shuffle", c * r * r, r, b.op("PixelShuffle", ["x"], { r, order })); },
    tol: { wasm: 0 },
  } satisfies Spec]))),
  "Add same shape": { build: (b, r) => { const c = randInt(r, 1, 9); return b.probe("add", c, 1, b.op("Add", ["x", b.act("x", c, "relu")])); } },
  "Add with coefficients (residual scaling)": {
    build: (b, r) => { const c = randInt(r, 1, 9); return b.probe("add-scaled", c, 1, b.op("Add", ["x", b.act("x", c, "relu")], { coefficients: [0.2, -1.3] })); },
  },
  "Mul same shape": { build: (b, r) => { const c = randInt(r, 1, 9); return b.probe("mul", c, 1, b.op("Mul", ["x", b.act("x", c, "leaky", 0.3)])); } },
  "Mul by a [1,1,c] sigmoid gate (squeeze-excitation)": {
    build: (b, r) => {
      const c = randInt(r, 1, 9);
      const squeeze = randInt(r, 1, 5);
      const gate = b.dense([b.dense([b.op("GlobalMean", ["x"])], [c], squeeze, "relu")], [squeeze], c, "sigmoid");
      return b.probe("se", c, 1, b.op("Mul", ["x", gate]));
    },
  },
  "Concat of three (channel counts not multiples of 4)": {
    build: (b, r) => {
      const c = randInt(r, 1, 6);
      return b.probe("concat", c, 1, b.op("Concat", ["x", b.act("x", c, "relu"), b.act("x", c, "leaky", 0.2)]));
    },
  },
  ...Object.fromEntries([1, 2, 3].map((m) => [`Crop margin ${m} alone`, {
    build: (b, r) => { const c = randInt(r, 1, 9); return b.probe("crop", c, 1, b.op("Crop", ["x"], { margin: m })); },
    sizes: [[2 * m + 1, 2 * m + 1], [2 * m + 1, 2 * m + 7], [2 * m + 9, 2 * m + 2], [2 * m + 11, 2 * m + 13]],
    tol: { wasm: 0 },
    // It shrinks (Graph.inputPad): tiles of such graphs are the upscaler's (test/integration/border-tiles.test.ts).
    tiles: false,
  } satisfies Spec])),
  ...Object.fromEntries([2, 3].flatMap((r) => (["tf", "torch"] as const).map((order) => [`SpaceToDepth r=${r} ${order} alone`, {
    build: (b, rand) => { const c = randInt(rand, 1, 5); return b.probe("s2d", c, 1, b.op("SpaceToDepth", ["x"], { r, order })); },
    sizes: [[r, r], [r, 5 * r], [3 * r, r], [4 * r, 6 * r]],
    tol: { wasm: 0 },
    // Its input sides must be multiples of r (Graph.align): tiles of such graphs are the upscaler's.
    tiles: false,
  } satisfies Spec]))),
  "Add broadcast of a [1,1,c] mean": { build: (b, r) => { const c = randInt(r, 1, 9); return b.probe("add-mean", c, 1, b.op("Add", ["x", b.op("GlobalMean", ["x"])])); } },
  // Dense on two inputs with bias and activation, to n units (drawn apart from c), added over a 1×1 conv of the image to n channels.
  "GlobalMean then Dense (two inputs, bias, spline)": {
    build: (b, r) => {
      const c = randInt(r, 1, 9), n = randInt(r, 1, 13);
      const m = b.op("GlobalMean", ["x"]);
      const d = b.dense([m, b.act(m, c, "relu")], [c, c], n, "spline");
      return b.probe("dense", c, 1, b.op("Add", [b.conv(["x"], [c], 1, n), d]));
    },
  },
};

/** Small RGB networks in which each op meets the others. */
const NETWORKS: Record<string, Spec> = {
  // Every odd kernel size the engine admits up to 15, each with a random activation and bias mode.
  ...Object.fromEntries([1, 3, 5, 7, 9, 11, 13, 15].map((k) => [`conv k=${k}`, {
    build: (b, r) => {
      const c = randInt(r, 1, 9);
      const a = b.conv(["x"], [3], k, c, { act: pick(r, ACTS), bias: pick(r, ["static", "none"] as const) });
      return b.graph(`conv${k}`, 1, b.conv([a], [c], 3, 3, { act: pick(r, ACTS), bias: "static" }));
    },
  } satisfies Spec])),
  // Each activation fused into a conv and standalone, on channel counts that are not multiples of 4.
  ...Object.fromEntries(ACTS.map((act) => [`activation ${act}`, {
    build: (b, r) => {
      const c = pick(r, [5, 6, 7]);
      const s = b.act(b.conv(["x"], [3], 3, c, { act, bias: "static" }), c, act);
      return b.graph(`act-${act}`, 1, b.conv([s], [c], 1, 3, { bias: "static" }));
    },
  } satisfies Spec])),
  "pixel-shuffle tf r=2 and torch r=3": {
    build: (b) => {
      const a = b.conv(["x"], [3], 3, 20, { bias: "static", act: "prelu" });
      const s = b.op("PixelShuffle", [a], { r: 2, order: "tf" }); // 5 channels at 2×
      const c = b.conv([s], [5], 3, 27, { bias: "static" });
      return b.graph("shuffle", 6, b.op("PixelShuffle", [c], { r: 3, order: "torch" }));
    },
  },
  "add residual": { build: (b) => b.graph("add", 1, b.op("Add", [b.conv(["x"], [3], 3, 3, { act: "relu", bias: "static" }), "x"])) },
  // Whole-image statistics: GlobalMean → Dense (two inputs) → vector Activation → Add broadcast and a
  // dynamic conv bias over a conv with three image inputs, then pixel-shuffle.
  "global: mean, dense, vector activation, broadcast add, multi-input conv, dynamic bias": {
    build: (b) => {
      const a = b.conv(["x"], [3], 3, 6, { act: "relu", bias: "static" });
      const d = b.dense([b.op("GlobalMean", [a]), b.op("GlobalMean", ["x"])], [6, 3], 6, "spline");
      const v = b.act(d, 6, "prelu");
      const a2 = b.op("Add", [a, v]); // [h, w, 6] + [1, 1, 6]
      const c = b.conv([a2, "x", a], [6, 3, 6], 3, 12, { bias: b.dense([v], [6], 12, "leaky"), act: "leaky" });
      return b.graph("global", 2, b.op("PixelShuffle", [c], { r: 2 }));
    },
  },
  // An unpadded U-Net stage as waifu2x's CUNet has them: valid convolutions, a stride-2 downsampling as
  // SpaceToDepth + 1×1 conv, a 4×4 stride-2 deconvolution as a valid 3×3 conv + PixelShuffle, the skip
  // cropped to match, a Concat read by a conv. Shrinks 6 pixels per side; sides must be even.
  "unpadded U-Net stage (valid convs, SpaceToDepth, PixelShuffle, Crop, Concat)": {
    build: (b) => {
      const t1 = b.conv(["x"], [3], 3, 6, { act: "leaky", bias: "static", pad: 0 });
      const down = b.conv([b.op("SpaceToDepth", [t1], { r: 2, order: "torch" })], [24], 1, 8, { act: "leaky", bias: "static" });
      const mid = b.conv([down], [8], 3, 8, { act: "leaky", bias: "static", pad: 0 });
      const up = b.op("PixelShuffle", [b.conv([mid], [8], 3, 24, { bias: "static", pad: 0 })], { r: 2, order: "torch" });
      const skip = b.op("Crop", [t1], { margin: 4 });
      const cat = b.conv([b.op("Concat", [b.op("Add", [skip, up]), skip])], [12], 1, 5, { act: "relu", bias: "static" });
      return b.graph("unet", 1, b.conv([cat], [5], 3, 3, { bias: "static", pad: 0 }), { inputPad: { mode: "edge", size: 6 }, align: 2 });
    },
    sizes: [[14, 14], [14, 20], [22, 16], [26, 30]],
    tiles: false,
  },
  // The same with a squeeze-excitation gate (whole-image mean → dense relu → dense sigmoid → Mul).
  "unpadded U-Net stage with squeeze-excitation (global)": {
    build: (b) => {
      const t1 = b.conv(["x"], [3], 3, 8, { act: "leaky", bias: "static", pad: 0 });
      const gate = b.dense([b.dense([b.op("GlobalMean", [t1])], [8], 3, "relu")], [3], 8, "sigmoid");
      const se = b.op("Mul", [t1, gate]);
      const down = b.conv([b.op("SpaceToDepth", [se], { r: 2, order: "tf" })], [32], 1, 8, { act: "leaky", bias: "static" });
      const up = b.op("PixelShuffle", [b.conv([down], [8], 3, 32, { bias: "static", pad: 0 })], { r: 2, order: "tf" });
      const sum = b.op("Add", [b.op("Crop", [se], { margin: 2 }), up], { coefficients: [1, 0.5] });
      return b.graph("unet-se", 1, b.conv([sum], [8], 3, 3, { bias: "static", pad: 0 }), { inputPad: { mode: "reflect", size: 4 }, align: 2 });
    },
    sizes: [[10, 10], [12, 18], [20, 14]],
  },
  // Every resize method enlarging and shrinking (antialiased), in pairs that keep the graph
  // translation-equivariant (so tiles are exact) and ×3 overall.
  ...Object.fromEntries((["nearest", "bilinear", "bicubic", "box", "cubic"] as const).map((method) => [`resize ${method}`, {
    build: (b, r) => {
      const down = b.op("Resize", [b.op("Resize", ["x"], { method, scale: 2 })], { method, factor: 2 });
      const c = b.conv([down], [3], 3, 5, { bias: "static" });
      const down3 = b.op("Resize", [b.op("Resize", [c], { method, scale: 3 })], { method, factor: 3 });
      const sum = b.conv([down3, down], [5, 3], 1, 3, { bias: "static" });
      return b.graph(`resize-${method}`, 3, b.op("Resize", [sum], { method: pick(r, ["bicubic", "bilinear"]), scale: 3 }));
    },
  } satisfies Spec])),
  // Shrinking sizes that do not divide (⌈n / factor⌉ outputs, mirrored edges): whole image only, since
  // a shrink by 3 is not translation-equivariant for tile origins off the 3-pixel grid.
  // A ratio (×4 then 3/4, as Real-ESRGAN's ×3 file): tiles stay exact since 4·x0 is always on the 4-grid.
  "resize cubic ×4 then 3/4": {
    build: (b) => {
      const c = b.conv(["x"], [3], 3, 3, { bias: "static" });
      return b.graph("ratio", 3, b.op("Resize", [b.op("Resize", [c], { method: "nearest", scale: 4 })], { method: "cubic", scale: 3, factor: 4 }));
    },
  },
  ...Object.fromEntries((["nearest", "bilinear", "bicubic", "box", "cubic"] as const).map((method) => [`resize ${method} shrink odd sizes`, {
    build: (b) => {
      const c = b.conv([b.op("Resize", ["x"], { method, factor: 3 })], [3], 3, 3, { bias: "static" });
      return b.graph(`shrink-${method}`, 1, b.op("Resize", [c], { method, scale: 3 }));
    },
    tiles: false,
  } satisfies Spec])),
};

const SPECS = new Map(Object.entries({ ...PROBES, ...NETWORKS }));

/** The corpus's case names, in order. */
export const caseNames = (): string[] => [...SPECS.keys()];

/** One case, built afresh (a runner keeps its graph: callers do not share them). Seeded by its name, so adding a case changes no other. */
export function opCase(name: string): OpCase {
  const spec = SPECS.get(name);
  if (!spec) throw new Error(`no op case named '${name}'`);
  let seed = 0x811c9dc5; // FNV-1a of the name
  for (let i = 0; i < name.length; i++) seed = Math.imul(seed ^ name.charCodeAt(i), 0x01000193) >>> 0;
  const r = rng(seed);
  const graph = spec.build(new Builder(r), r);
  const sizes = spec.sizes ?? [[1, 1], [1, randInt(r, 2, 17)], [randInt(r, 2, 13), 1], [randInt(r, 9, 17), randInt(r, 9, 19)]];
  return { name, graph, sizes, tol: { wasm: 1e-5, webgl: 1e-3, ...spec.tol }, tiles: spec.tiles ?? true, seed };
}

/** The whole corpus. */
export const opCases = (): OpCase[] => caseNames().map(opCase);

/** The case's input at one of its sizes, in [-2, 2] (both sides of every activation's knees). */
export function caseInput(c: OpCase, h: number, w: number): Float32Array {
  return uniform(rng(c.seed * 7919 + h * 131 + w), h * w * (c.graph.channels ?? 3), -2, 2);
}

/** The reference ops (float64 inside, float32 tensors) over a whole image, no tiles. */
export function reference(g: ValidatedGraph, x: Float32Array, h: number, w: number): { data: Float32Array; shape: Shape } {
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

export interface Comparison { worst: number; at: number; got: number; want: number; n: number; lengthsMatch: boolean }

/** Largest |a − b| / max(1, |b|), and where (NaN counts as Infinity). */
export function compare(a: ArrayLike<number>, b: ArrayLike<number>): Comparison {
  let worst = 0, at = -1;
  for (let i = 0; i < b.length; i++) {
    const e = Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i]));
    if (!(e <= worst)) { worst = Number.isNaN(e) ? Infinity : e; at = i; }
  }
  return { worst, at, got: a[at], want: b[at], n: b.length, lengthsMatch: a.length === b.length };
}

/** Why `c` fails `tol`, or "" when it passes. */
export function mismatch(c: Comparison, tol: number): string {
  if (!c.lengthsMatch) return "output length differs";
  return c.worst <= tol ? "" : `element ${c.at} of ${c.n} is ${c.got}, reference ${c.want} (relative error ${c.worst} > ${tol})`;
}
