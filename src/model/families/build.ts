// SPDX-License-Identifier: MIT
// What every importer needs to emit our graph from another framework's layers: a builder that names
// tensors and weights, PyTorch-layout convolutions (weights [cout][cin][k][k]) turned into ours
// ([cout][k][k][cin], one kernel per input so a concatenation feeds the conv directly), and the exact
// rewrite of a transposed convolution as a convolution + PixelShuffle.
import { ModelFormatError } from "../../errors.js";
import type { Graph, GraphNode, Weight } from "../types.js";

export interface ConvOptions {
  /** Zero pixels per side; default k >> 1 ("same"). */
  pad?: number;
  bias?: Float32Array;
  act?: "none" | "relu" | "leaky" | "prelu" | "sigmoid";
  /** LeakyReLU slope. */
  alpha?: number;
  /** PReLU slopes, one per output channel. */
  slope?: Float32Array;
}

export class GraphBuilder {
  readonly nodes: GraphNode[] = [];
  readonly weights: Record<string, Weight> = {};
  private count = 0;

  constructor(readonly input = "x") {}

  /** Adds a weight under a fresh name. */
  weight(shape: number[], data: Float32Array): string {
    const name = `w${this.count++}`;
    this.weights[name] = { shape, data };
    return name;
  }

  /** Adds a node writing a fresh tensor; returns its name. */
  node(op: string, inputs: string[], attrs: Record<string, unknown> = {}, weights: Record<string, string> = {}): string {
    const output = `t${this.count++}`;
    this.nodes.push({ op, inputs, output, attrs, weights });
    return output;
  }

  /**
   * A k×k convolution of stride 1 over one or more inputs (their channels concatenated), from PyTorch's
   * layout: `weight` is [cout][Σ cins][k][k].
   */
  conv(inputs: string[], cins: number[], weight: Float32Array, cout: number, k: number, o: ConvOptions = {}): string {
    const total = cins.reduce((a, b) => a + b, 0);
    if (weight.length !== cout * total * k * k) throw new ModelFormatError(`a ${k}×${k} convolution ${total} → ${cout} needs ${cout * total * k * k} weights, got ${weight.length}`);
    const roles: Record<string, string> = {};
    let from = 0;
    cins.forEach((cin, i) => {
      roles[`kernel${i}`] = this.weight([cout, k, k, cin], torchToOurs(weight, cout, total, k, from, cin));
      from += cin;
    });
    if (o.bias) roles.bias = this.weight([cout], o.bias);
    if (o.slope) roles.slope = this.weight([cout], o.slope);
    const attrs: Record<string, unknown> = { k, cout, act: o.act ?? "none" };
    if (o.pad !== undefined && o.pad !== k >> 1) attrs.pad = o.pad;
    if (o.act === "leaky") attrs.alpha = o.alpha;
    return this.node("Conv2D", inputs, attrs, roles);
  }

  /** The graph, for validateGraph. */
  graph(g: Omit<Graph, "input" | "nodes" | "weights">): Graph {
    return { ...g, input: this.input, nodes: this.nodes, weights: this.weights };
  }
}

/** Input channels [from, from + cin) of a [cout][cinTotal][k][k] kernel, as our [cout][k][k][cin]. */
function torchToOurs(w: Float32Array, cout: number, cinTotal: number, k: number, from: number, cin: number): Float32Array {
  const out = new Float32Array(cout * k * k * cin);
  for (let o = 0; o < cout; o++)
    for (let c = 0; c < cin; c++)
      for (let t = 0; t < k * k; t++) out[(o * k * k + t) * cin + c] = w[(o * cinTotal + from + c) * k * k + t];
  return out;
}

/** A transposed convolution as a stride-1 convolution whose s² phase outputs PixelShuffle (torch order) interleaves. */
export interface DeconvAsConv {
  k: number;
  pad: number;
  /** [cout·s²][cin][k][k], PyTorch layout, output channel co·s² + ry·s + rx. */
  weight: Float32Array;
}

/**
 * Rewrites a transposed convolution (stride s, kernel k, `pad` cut from each side of its full output,
 * weights [cout][cin][k][k] scattering in[i]·w[t] to out[i·s + t], as ncnn's and PyTorch's) exactly:
 * output s·m + r sums in[m − q]·w[s·q + r + pad] over the q that land inside the kernel, so it is a
 * convolution over a window of input pixels, one kernel per phase r, followed by a pixel shuffle. Taps
 * a phase does not use are zero. Refused where the two would differ in size (e.g. output padding).
 * Returns the convolution for an n-pixel input; its output, shuffled, is the deconvolution's.
 */
export function deconvAsConv(w: Float32Array, cout: number, cin: number, k: number, s: number, pad: number, outputSize: (n: number) => number): DeconvAsConv {
  // d = −q: the input pixel m + d a phase reads; its range over all phases is the window.
  let dMin = Infinity, dMax = -Infinity;
  for (let r = 0; r < s; r++) {
    for (let q = Math.ceil((-r - pad) / s); q <= Math.floor((k - 1 - r - pad) / s); q++) { dMin = Math.min(dMin, -q); dMax = Math.max(dMax, -q); }
  }
  if (!(dMin <= 0 && dMax >= 0)) throw new ModelFormatError(`a ${k}×${k} transposed convolution of stride ${s} with padding ${pad} reads no centred window of its input; not supported`);
  const P = -dMin;
  const K = (Math.max(2 * P, dMax + P) + 1) | 1; // the smallest odd K covering the window with P ≤ K >> 1
  for (const n of [16, 17]) {
    if (s * (n + 2 * P - K + 1) !== outputSize(n)) throw new ModelFormatError(`a ${k}×${k} transposed convolution of stride ${s} with padding ${pad} (and output padding) has no exact convolution form here`);
  }
  const out = new Float32Array(cout * s * s * cin * K * K);
  for (let co = 0; co < cout; co++)
    for (let ry = 0; ry < s; ry++)
      for (let rx = 0; rx < s; rx++)
        for (let ci = 0; ci < cin; ci++)
          for (let ty = 0; ty < K; ty++)
            for (let tx = 0; tx < K; tx++) {
              // Window tap t reads input m + t − P, i.e. q = P − t.
              const ky = s * (P - ty) + ry + pad, kx = s * (P - tx) + rx + pad;
              if (ky < 0 || ky >= k || kx < 0 || kx >= k) continue;
              out[((((co * s + ry) * s + rx) * cin + ci) * K + ty) * K + tx] = w[((co * cin + ci) * k + ky) * k + kx];
            }
  return { k: K, pad: P, weight: out };
}

/** Each of `v`'s values repeated n times in place: a per-channel parameter of a deconvolution's phases. */
export const repeatEach = (v: Float32Array, n: number): Float32Array => Float32Array.from({ length: v.length * n }, (_, i) => v[Math.floor(i / n)]);

/** A network's name: its file's base name without the extension, or (from bytes) what it is. */
export const nameOf = (label: string, family: string): string => (label === "bytes" ? family : (label.split(/[\\/]/).pop() ?? label).replace(/\.[^.]+$/, ""));

/** The smallest network align (1, 2, 4, … 64) at which `fits(n)` holds for three successive multiples. */
export function smallestAlign(fits: (n: number) => boolean): number {
  for (let a = 1; a <= 64; a *= 2) if ([105, 106, 107].every((m) => fits(a * m))) return a;
  throw new ModelFormatError("the network accepts no input size up to alignment 64");
}
