// SPDX-License-Identifier: MIT
// The trainable architectures, as ordinary graphs (src/model/graph.ts) with freshly drawn weights:
// a trained network is saved by encodeNetwork and runs through createUpscaler like any other. The
// family is an SRGAN-style generator cut down for CPU speed: conv3×3 3→W + PReLU, B × (conv3×3 W→W +
// PReLU), conv3×3 W→3·s², pixel-shuffle (TF order), plus the input enlarged by a fixed resampler. No
// normalisation or whole-image statistics, so tiles stay exact.
import { convMacsPerPixel, type Graph, type GraphNode, type Weight } from "../model/graph.js";
import { Rng } from "./rng.js";

export type ResidualMethod = "bilinear" | "bicubic" | "none";

export interface ArchSpec {
  /** Feature channels of the first and body layers. */
  width: number;
  /** conv + PReLU layers between the first and the last conv. */
  body: number;
  /** Kernel size of every conv (odd). Default 3. */
  k?: number;
  /**
   * What the network's output is added to: the input enlarged by this resampler (the network then
   * learns only the detail bicubic/bilinear miss, which trains faster and starts at the baseline).
   * Default 'bilinear' (2 taps, the cheapest at inference).
   */
  residual?: ResidualMethod;
}

/** Named architectures (`--arch NAME`); any `wWbB[-bicubic]` string names one too (e.g. w40b7). */
export const ARCHS: Readonly<Record<string, ArchSpec>> = {
  /** Quality default: ~188k multiply-adds per LR pixel (the issue's calibration width 48, 8 body layers). */
  natural: { width: 48, body: 8 },
  /** Speed default: ~70k multiply-adds per LR pixel (width 32, 6 body layers). */
  "natural-fast": { width: 32, body: 6 },
  /** For tests and smoke runs. */
  tiny: { width: 8, body: 1 },
};

/** The PReLU slopes start here (He et al. 2015). */
export const INITIAL_SLOPE = 0.25;

export function resolveArch(arch: string | ArchSpec): ArchSpec {
  let spec: ArchSpec;
  if (typeof arch === "string") {
    const named = Object.hasOwn(ARCHS, arch) ? ARCHS[arch] : undefined;
    const m = /^w(\d+)b(\d+)(?:k(\d+))?(?:-(bilinear|bicubic|none))?$/.exec(arch);
    if (named) spec = named;
    else if (m) spec = { width: Number(m[1]), body: Number(m[2]), k: m[3] ? Number(m[3]) : undefined, residual: m[4] as ResidualMethod | undefined };
    else throw new RangeError(`arch must be one of ${Object.keys(ARCHS).join(", ")} or 'wWIDTHbBODY[kK][-bilinear|-bicubic|-none]' (e.g. w32b6), got '${arch}'`);
  } else spec = arch;
  const { width, body, k = 3, residual = "bilinear" } = spec ?? ({} as ArchSpec);
  if (!Number.isInteger(width) || width < 1 || width > 512) throw new RangeError(`arch.width must be an integer in [1, 512], got ${width}`);
  if (!Number.isInteger(body) || body < 0 || body > 64) throw new RangeError(`arch.body must be an integer in [0, 64], got ${body}`);
  if (!Number.isInteger(k) || k < 1 || k % 2 === 0 || k > 9) throw new RangeError(`arch.k must be odd in [1, 9], got ${k}`);
  if (!["bilinear", "bicubic", "none"].includes(residual)) throw new RangeError(`arch.residual must be bilinear, bicubic or none, got '${residual}'`);
  return { width, body, k, residual };
}

/** `w32b6` style name of a spec (stored in the network's meta). */
export function archName(spec: ArchSpec): string {
  const s = resolveArch(spec);
  return `w${s.width}b${s.body}${s.k !== 3 ? `k${s.k}` : ""}${s.residual !== "bilinear" ? `-${s.residual}` : ""}`;
}

/** Multiply-adds per low-resolution input pixel (the convolutions; what inference speed scales with). */
export function macsPerPixel(spec: ArchSpec, scale: number): number {
  const { width: W, body: B, k = 3 } = resolveArch(spec);
  return k * k * (3 * W + B * W * W + W * 3 * scale * scale);
}

/**
 * Builds the network for `scale` with fresh weights drawn from `seed`: kernels and biases uniform in
 * ±1/√fan_in (PyTorch's default for convolutions), slopes 0.25. Why not He-normal: its weights are
 * 2.4× larger, so Adam's fixed-size steps move them relatively less; measured on w32b6, 2 000 steps:
 * Set5 29.66 dB with He-normal (zero biases, head at 1/10), 30.02 with this.
 */
export function buildNetwork(arch: string | ArchSpec, opts: { scale: number; seed?: number; name?: string }): Graph {
  const spec = resolveArch(arch);
  const { width: W, body: B, k = 3, residual = "bilinear" } = spec;
  const s = opts.scale;
  if (!Number.isInteger(s) || s < 1 || s > 8) throw new RangeError(`scale must be an integer in [1, 8], got ${s}`);
  const rng = new Rng(opts.seed ?? 1);
  const nodes: GraphNode[] = [];
  const weights: Record<string, Weight> = {};
  const conv = (name: string, input: string, output: string, cin: number, cout: number, prelu: boolean) => {
    const bound = 1 / Math.sqrt(k * k * cin);
    const uniform = (n: number) => Float32Array.from({ length: n }, () => bound * (2 * rng.next() - 1));
    weights[`${name}.kernel`] = { shape: [cout, k, k, cin], data: uniform(cout * k * k * cin) };
    weights[`${name}.bias`] = { shape: [cout], data: uniform(cout) };
    const roles: Record<string, string> = { kernel0: `${name}.kernel`, bias: `${name}.bias` };
    if (prelu) {
      weights[`${name}.slope`] = { shape: [cout], data: new Float32Array(cout).fill(INITIAL_SLOPE) };
      roles.slope = `${name}.slope`;
    }
    nodes.push({ op: "Conv2D", inputs: [input], output, attrs: prelu ? { k, cout, act: "prelu" } : { k, cout }, weights: roles });
  };
  conv("conv0", "x", "f0", 3, W, true);
  for (let i = 1; i <= B; i++) conv(`conv${i}`, `f${i - 1}`, `f${i}`, W, W, true);
  const detail = residual === "none" ? "y" : "detail";
  conv("head", `f${B}`, "head", W, 3 * s * s, false);
  nodes.push({ op: "PixelShuffle", inputs: ["head"], output: detail, attrs: { r: s, order: "tf" }, weights: {} });
  if (residual !== "none") {
    nodes.push({ op: "Resize", inputs: ["x"], output: "base", attrs: { method: residual, scale: s }, weights: {} });
    nodes.push({ op: "Add", inputs: ["detail", "base"], output: "y", attrs: {}, weights: {} });
  }
  return {
    name: opts.name ?? archName(spec),
    scale: s,
    channels: 3,
    input: "x",
    output: "y",
    nodes,
    weights,
    meta: { arch: archName(spec), macsPerPixel: macsPerPixel(spec, s), init: { seed: opts.seed ?? 1, scheme: "uniform-fan-in", slope: INITIAL_SLOPE } },
  };
}

/**
 * Net2Net-style deepening: inserts `layers` conv3×3 W→W + PReLU layers that compute the identity
 * (centre tap 1 on the diagonal, zero bias, slope 1) after the last body layer, so the deeper network
 * starts with exactly the outputs of `g` and fine-tuning only has to improve on it.
 */
export function deepenNetwork(g: Graph, layers: number): Graph {
  if (!Number.isInteger(layers) || layers < 0 || layers > 64) throw new RangeError(`layers must be an integer in [0, 64], got ${layers}`);
  let bodyIndex = -1;
  g.nodes.forEach((n, i) => { if (n.op === "Conv2D" && n.attrs.act === "prelu") bodyIndex = i; });
  const last = g.nodes[bodyIndex];
  const k = Number(last?.attrs.k), width = Number(last?.attrs.cout);
  if (!last || g.nodes.filter((n) => n.inputs.includes(last.output)).length !== 1) {
    throw new RangeError(`network '${g.name}' has no body layer (Conv2D with PReLU, read by one node) to deepen after`);
  }
  const nodes = [...g.nodes], weights = { ...g.weights };
  let tensor = last.output;
  // Names not taken yet: a network deepened before already has deepen0, deepen1, …
  const taken = new Set(g.nodes.flatMap((n) => [n.output, ...Object.values(n.weights ?? {})]));
  let next = 0;
  for (let i = 0; i < layers; i++) {
    while (taken.has(`deepen${next}.out`) || taken.has(`deepen${next}.kernel`)) next++;
    const name = `deepen${next++}`, out = `${name}.out`;
    const kernel = new Float32Array(width * k * k * width), centre = (k * k - 1) / 2;
    for (let c = 0; c < width; c++) kernel[(c * k * k + centre) * width + c] = 1;
    weights[`${name}.kernel`] = { shape: [width, k, k, width], data: kernel };
    weights[`${name}.bias`] = { shape: [width], data: new Float32Array(width) };
    weights[`${name}.slope`] = { shape: [width], data: new Float32Array(width).fill(1) };
    nodes.splice(bodyIndex + 1 + i, 0, { op: "Conv2D", inputs: [tensor], output: out, attrs: { k, cout: width, act: "prelu" },
      weights: { kernel0: `${name}.kernel`, bias: `${name}.bias`, slope: `${name}.slope` } });
    tensor = out;
  }
  // Rewire the one reader of the old last body layer to the new last layer.
  const reader = nodes.findIndex((n, i) => i > bodyIndex + layers && n.inputs.includes(last.output));
  nodes[reader] = { ...nodes[reader], inputs: nodes[reader].inputs.map((t) => (t === last.output ? tensor : t)) };
  // Keep the provenance fields true: wWbB names grow by `layers`, and so do the multiply-adds.
  const arch = /^w(\d+)b(\d+)(.*)$/.exec(String(g.meta?.arch ?? ""));
  const meta: Record<string, unknown> = { ...g.meta, deepened: { from: g.name, layers } };
  if (arch) meta.arch = `w${arch[1]}b${Number(arch[2]) + layers}${arch[3]}`;
  if (typeof g.meta?.macsPerPixel === "number") meta.macsPerPixel = g.meta.macsPerPixel + layers * k * k * width * width;
  return { ...g, nodes, weights, meta };
}

/**
 * Net2Net-style widening: every conv + PReLU layer of width W gets `width` − W more output channels.
 * The new channels' incoming weights and biases are drawn like buildNetwork's (slopes 0.25), and every
 * weight that reads them in the next conv is zero, so the wider network starts with exactly the outputs
 * of `g`; the zero weights get gradients from the first step (the new channels are not zero).
 */
export function widenNetwork(g: Graph, width: number, seed = 1): Graph {
  const body = g.nodes.filter((n) => n.op === "Conv2D" && n.attrs.act === "prelu");
  const from = Number(body[0]?.attrs.cout);
  if (body.length === 0 || body.some((n) => Number(n.attrs.cout) !== from)) {
    throw new RangeError(`network '${g.name}' has no body of one width (Conv2D + PReLU layers) to widen`);
  }
  if (!Number.isInteger(width) || width < from || width > 512) throw new RangeError(`width must be an integer in [${from}, 512], got ${width}`);
  const rng = new Rng(seed);
  const widened = new Set(body.map((n) => n.output));
  const weights = { ...g.weights };
  const nodes = g.nodes.map((n) => {
    if (n.op !== "Conv2D") return n;
    const [cout, k, , cin] = g.weights[n.weights.kernel0].shape;
    const newCout = widened.has(n.output) ? width : cout, newCin = n.inputs.some((t) => widened.has(t)) ? width : cin;
    if (newCout === cout && newCin === cin) return n;
    const bound = 1 / Math.sqrt(k * k * newCin), uniform = () => bound * (2 * rng.next() - 1);
    const old = g.weights[n.weights.kernel0].data, kernel = new Float32Array(newCout * k * k * newCin);
    for (let o = 0; o < newCout; o++) {
      for (let t = 0; t < k * k; t++) {
        for (let i = 0; i < newCin; i++) {
          // Old outputs keep their weights and read nothing new; new outputs read everything.
          kernel[(o * k * k + t) * newCin + i] = o < cout ? (i < cin ? old[(o * k * k + t) * cin + i] : 0) : uniform();
        }
      }
    }
    weights[n.weights.kernel0] = { shape: [newCout, k, k, newCin], data: kernel };
    const grow = (role: string, fill: () => number) => {
      const w = g.weights[n.weights[role]];
      if (!w) return;
      const data = new Float32Array(newCout);
      data.set(w.data);
      for (let o = cout; o < newCout; o++) data[o] = fill();
      weights[n.weights[role]] = { shape: [newCout], data };
    };
    grow("bias", uniform);
    grow("slope", () => INITIAL_SLOPE);
    return { ...n, attrs: { ...n.attrs, cout: newCout } };
  });
  const arch = /^w(\d+)b(\d+)(.*)$/.exec(String(g.meta?.arch ?? ""));
  const meta: Record<string, unknown> = { ...g.meta, widened: { from: g.name, width: { from, to: width }, seed } };
  if (arch) meta.arch = `w${width}b${arch[2]}${arch[3]}`;
  const wide = { ...g, nodes, weights, meta };
  meta.macsPerPixel = convMacsPerPixel(wide);
  return wide;
}
