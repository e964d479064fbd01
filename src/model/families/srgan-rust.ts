// SPDX-License-Identifier: MIT
// srgan-rust's fractal network (factor f, width w, log_depth d, global-node factor g) as our graph: the
// parameter list in file order with the shape each must have, and the builder. The template every
// importer follows: a format decoder (../formats/rsr.ts) hands named arrays to a family builder that
// checks them and emits ops. The semantics are specified in ../shared/docs/srgan-rust-rsr.md;
// docs/srgan-rust.md says what we support.
import { ModelFormatError } from "../../errors.js";
import type { Graph, GraphNode, Weight } from "../types.js";

/** The hyper-parameters that fix the graph and every parameter's shape. */
export interface RsrHyper {
  factor: number;
  width: number;
  logDepth: number;
  globalNodeFactor: number;
  /** Later srgan-rust adds a learned bias to each hidden layer's global Linear ([1, g·C_i]). */
  globalBias?: boolean;
}

/** One decoded array: ndarray's row-major shape and values. */
export interface RsrArray { shape: number[]; data: Float32Array }

export interface RsrParam { name: string; shape: number[] }

/** Fractal-net jumps of layer i: the powers of two dividing i + 1, ascending (doc §4). */
export function rsrJumps(i: number): number[] {
  const out: number[] = [];
  for (let s = 1; (i + 1) % s === 0; s *= 2) out.push(s);
  return out;
}

/** Channels of conv node z_i: w·|J(i)| for hidden layers, 3f² for the output layer. */
function layerChannels(h: RsrHyper, i: number): number {
  return i < 2 ** h.logDepth - 1 ? h.width * rsrJumps(i).length : 3 * h.factor * h.factor;
}

/**
 * The parameter arrays in the order alumina created them (doc §5), which is the order of the file.
 * Names follow the doc's table ("L3.conv_from_h2" is K_{3,2}).
 */
export function rsrParameterSpec(h: RsrHyper): RsrParam[] {
  const g = h.globalNodeFactor;
  const D = 2 ** h.logDepth;
  const ch = (k: number) => (k === 0 ? 3 : layerChannels(h, k - 1));
  const out: RsrParam[] = [];
  if (g > 0) out.push({ name: "gin.linear", shape: [3, 3 * g] }, { name: "gin.spline", shape: [3, 1, 3 * g] });
  for (let i = 0; i < D; i++) {
    const c = layerChannels(h, i);
    const hidden = i < D - 1;
    const bias = { name: `L${i}.bias`, shape: [1, 1, 1, c] };
    if (g > 0) out.push(bias);
    for (const s of rsrJumps(i)) {
      const k = i + 1 - s;
      out.push({ name: `L${i}.conv_from_h${k}`, shape: [c, 3, 3, ch(k)] });
      if (g > 0) out.push({ name: `L${i}.glin_from_a${k}`, shape: [g * ch(k), c] });
    }
    if (g === 0) out.push(bias);
    if (hidden) {
      out.push({ name: `L${i}.spline`, shape: [3, 1, 1, 1, c] });
      if (g > 0) {
        out.push({ name: `L${i}.glinear`, shape: [c, g * c] });
        if (h.globalBias) out.push({ name: `L${i}.gbias`, shape: [1, g * c] });
        out.push({ name: `L${i}.gspline`, shape: [3, 1, g * c] });
      }
    }
  }
  return out;
}

const squeeze = (s: number[]) => s.filter((d) => d !== 1);
/** Equal once unit axes are dropped (ndarray keeps the 1s alumina's shapes have). */
export const sameShape = (a: number[], b: number[]) => {
  const x = squeeze(a), y = squeeze(b);
  return x.length === y.length && x.every((d, i) => d === y[i]);
};

/**
 * Builds our graph of srgan-rust's network (doc §4) from its arrays, in file order.
 * Global means make it a 'global' graph: the upscaler runs it on the whole image at once.
 */
export function rsrGraph(h: RsrHyper, arrays: RsrArray[], label = "srgan-rust"): Graph {
  const spec = rsrParameterSpec(h);
  if (arrays.length !== spec.length) throw new ModelFormatError(`srgan-rust graph needs ${spec.length} arrays, got ${arrays.length}`);
  const weights: Record<string, Weight> = {};
  spec.forEach((p, i) => {
    if (!sameShape(arrays[i].shape, p.shape)) throw new ModelFormatError(`srgan-rust graph: array #${i} (${p.name}) has shape [${arrays[i].shape}], expected [${p.shape}]`);
    // Unit axes dropped: same row-major data. Spline [3, …, C] becomes our [3][C] rows (L, Ce, R);
    // biases become plain vectors; conv kernels [cout, 3, 3, cin] and Linear [K, N] are already our layouts.
    const s = p.shape;
    const shape = /\.(g?spline)$/.test(p.name) ? [3, s[s.length - 1]] : /\.(bias|gbias)$/.test(p.name) ? [s[s.length - 1]] : s;
    weights[p.name] = { shape, data: arrays[i].data };
  });
  const g = h.globalNodeFactor;
  const D = 2 ** h.logDepth;
  const f = h.factor;
  const nodes: GraphNode[] = [];
  const node = (op: string, inputs: string[], output: string, attrs: Record<string, unknown>, w: Record<string, string>) =>
    nodes.push({ op, inputs, output, attrs, weights: w });
  const hName = (k: number) => (k === 0 ? "x" : `h${k}`);
  if (g > 0) {
    // a0 = S(m(x)·W_in; τ_in), no bias.
    node("GlobalMean", ["x"], "m0", {}, {});
    node("Dense", ["m0"], "a0", { units: 3 * g, act: "spline" }, { matrix0: "gin.linear", spline: "gin.spline" });
  }
  for (let i = 0; i < D; i++) {
    const c = layerChannels(h, i);
    const hidden = i < D - 1;
    const srcs = rsrJumps(i).map((s) => i + 1 - s);
    const kernels = Object.fromEntries(srcs.map((k, j) => [`kernel${j}`, `L${i}.conv_from_h${k}`]));
    const out = hidden ? hName(i + 1) : "z";
    const act: Record<string, string> = hidden ? { act: "spline" } : {};
    const spline: Record<string, string> = hidden ? { spline: `L${i}.spline` } : {};
    if (g > 0) {
      // β_i = b_i + Σ a_k·U_{i,k}: a per-image bias vector; z_i = Σ Conv(h_k) + β_i, then σ_i fused.
      node("Dense", srcs.map((k) => `a${k}`), `beta${i}`, { units: c },
        { ...Object.fromEntries(srcs.map((k, j) => [`matrix${j}`, `L${i}.glin_from_a${k}`])), bias: `L${i}.bias` });
      node("Conv2D", [...srcs.map(hName), `beta${i}`], out, { k: 3, cout: c, dynamicBias: true, ...act }, { ...kernels, ...spline });
      if (hidden) {
        // a_{i+1} = S(m(h_{i+1})·G_i (+ bias in later files); τ_i), from the post-activation h.
        node("GlobalMean", [out], `m${i + 1}`, {}, {});
        node("Dense", [`m${i + 1}`], `a${i + 1}`, { units: g * c, act: "spline" },
          { matrix0: `L${i}.glinear`, spline: `L${i}.gspline`, ...(h.globalBias ? { bias: `L${i}.gbias` } : {}) });
      }
    } else {
      node("Conv2D", srcs.map(hName), out, { k: 3, cout: c, ...act }, { ...kernels, bias: `L${i}.bias`, ...spline });
    }
  }
  // y = Expand_f(z) + Linterp_f(x): a residual over bilinear upsampling. The resize comes last so the
  // 16×-sized upsampled image is not live while the layers run.
  node("PixelShuffle", ["z"], "res", { r: f, order: "tf" }, {});
  node("Resize", ["x"], "up", { method: "bilinear", scale: f }, {});
  node("Add", ["res", "up"], "y", {}, {});
  return {
    name: label,
    scale: f,
    input: "x",
    output: "y",
    nodes,
    weights,
    meta: {
      source: "srgan-rust .rsr",
      factor: f, width: h.width, logDepth: h.logDepth, globalNodeFactor: g, globalBias: !!h.globalBias,
    },
  };
}
