// SPDX-License-Identifier: MIT
// Our graph as a standard ONNX model (opset 13): input `input` [1, 3, height, width] float32 0..1 of any
// size, output `output` [1, 3, scale·height, scale·width], the same computation op for op, no
// approximations. Layout is NCHW; image tensors are [1, c, h, w] and our [1, 1, c] vectors [1, c, 1, 1].
//
// Where ONNX has no op of our semantics the export writes an exact equivalent: fused activations as their
// own nodes (srgan-rust's spline as its three polynomial pieces and Where), Add's coefficients as Mul,
// Dense as a 1×1 Conv over the vector, torch-order SpaceToDepth as SpaceToDepth + a channel Gather, and
// MATLAB bicubic enlargement (mirrored edges, which ONNX Resize lacks) as a mirror pad by Pad, Slice and Concat,
// Resize and a crop. Resizes ONNX cannot express exactly (antialiased shrinking) are refused.
// Graph-level inputPad and align become a Pad of the input and a crop of the output, so the model maps
// an image to scale × the image as ours does.
import { UnsupportedError } from "../../errors.js";
import { ACTIVATIONS, actName } from "../../ops/activations.js";
import { resizeRatio, type ResizeMethod } from "../../ops/resize-taps.js";
import { inferShapes } from "../graph.js";
import type { GraphNode, Shape, ValidatedGraph } from "../types.js";
import { AttributeType, DataType, EXPORT_IR_VERSION, EXPORT_OPSET, encodeModel, tensorValueInfo, type AttributeInit, type ModelInit, type NodeInit, type TensorInit } from "./onnx-proto.js";

type Attr = { i: number } | { f: number } | { ints: number[] } | { s: string };

/** ONNX nodes and constants under fresh names. */
class OnnxEmitter {
  readonly nodes: NodeInit[] = [];
  readonly initializer: TensorInit[] = [];
  private count = 0;

  fresh(prefix: string): string {
    return `${prefix}_${this.count++}`;
  }

  /** Adds a node with one output; returns its name. */
  op(opType: string, input: string[], attrs: Record<string, Attr> = {}, output = this.fresh(opType)): string {
    const attribute = Object.entries(attrs).map(([name, a]) => toAttribute(name, a));
    this.nodes.push({ opType, input, output: [output], name: output, attribute });
    return output;
  }

  floats(dims: number[], data: ArrayLike<number>, prefix = "w"): string {
    const name = this.fresh(prefix);
    const f = Float32Array.from(data);
    this.initializer.push({ name, dims: dims.map(BigInt), dataType: DataType.FLOAT, rawData: new Uint8Array(f.buffer) });
    return name;
  }

  ints(values: number[]): string {
    const name = this.fresh("i");
    const v = BigInt64Array.from(values.map((x) => BigInt(x)));
    this.initializer.push({ name, dims: [BigInt(values.length)], dataType: DataType.INT64, rawData: new Uint8Array(v.buffer) });
    return name;
  }

  /** Spatial slice [start, end) of axes 2 and 3 (negative: from the end). */
  sliceHW(x: string, start: number | string, end: number | string): string {
    const s = typeof start === "number" ? this.ints([start, start]) : start;
    const e = typeof end === "number" ? this.ints([end, end]) : end;
    return this.op("Slice", [x, s, e, this.ints([2, 3])]);
  }
}

function toAttribute(name: string, a: Attr): AttributeInit {
  const T = AttributeType;
  if ("i" in a) return { name, type: T.INT, i: BigInt(a.i) };
  if ("f" in a) return { name, type: T.FLOAT, f: a.f };
  if ("ints" in a) return { name, type: T.INTS, ints: a.ints.map(BigInt) };
  return { name, type: T.STRING, s: new TextEncoder().encode(a.s) };
}

/** Encodes a validated graph as an ONNX model; a node ONNX cannot express exactly is an UnsupportedError naming it. */
export function encodeOnnx(g: ValidatedGraph): Uint8Array {
  const e = new OnnxEmitter();
  const channels = g.channels ?? 3;
  // Tensor shapes: channels at a size every op takes; for ratio resizes, sides at two sizes the network
  // takes that are not multiples of much (computed only when such a Resize asks).
  const align = g.align ?? 1;
  const shapes = inferShapes(g, 2 * 3 * 5 * 7 * align);
  let sides: Map<string, Shape>[] | undefined;
  const shapeOf = (t: string): Shape[] => (sides ??= [101, 102].map((m) => inferShapes(g, align * m))).map((p) => p.get(t)!);
  const channelsOf = (t: string) => shapes.get(t)!.c;

  const names = new Map<string, string>();
  const v = (t: string) => names.get(t)!;
  names.set(g.input, inputPadding(e, g));
  for (const node of g.nodes) {
    try {
      names.set(node.output, emitNode(e, g, node, v, channelsOf, shapeOf));
    } catch (err) {
      if (err instanceof UnsupportedError) err.message = `ONNX export: ${node.op} node '${node.output}': ${err.message}`;
      throw err;
    }
  }
  e.op("Identity", [outputCrop(e, g, v(g.output))], {}, "output");

  const model: ModelInit = {
    irVersion: BigInt(EXPORT_IR_VERSION),
    opsetImport: [{ domain: "", version: BigInt(EXPORT_OPSET) }],
    producerName: "srgan-wasm",
    graph: {
      name: g.name,
      node: e.nodes,
      initializer: e.initializer,
      input: [tensorValueInfo("input", [1, channels, "height", "width"])],
      output: [tensorValueInfo("output", [1, channelsOf(g.output), "out_height", "out_width"])],
    },
    metadataProps: [{ key: "scale", value: String(g.scale) }],
    docString: `${g.name}: ×${g.scale} super-resolution, RGB 0..1 in and out (NCHW), exported by srgan-wasm`,
  };
  return encodeModel(model);
}

/** The network input padded by the graph's inputPad and to its align, as the runtime extends the image. */
function inputPadding(e: OnnxEmitter, g: ValidatedGraph): string {
  const b = g.inputPad?.size ?? 0, align = g.align ?? 1;
  if (b === 0 && align === 1) return "input";
  const mode = { zero: "constant", edge: "edge", reflect: "reflect" }[g.inputPad?.mode ?? "zero"];
  let pads: string;
  if (align === 1) pads = e.ints([0, 0, b, b, 0, 0, b, b]);
  else {
    // The end pads up to the next multiple of align: b + (align − (n + 2b) mod align) mod align.
    const hw = e.op("Slice", [e.op("Shape", ["input"]), e.ints([2]), e.ints([4])]);
    const a = e.ints([align]);
    const rem = e.op("Mod", [e.op("Sub", [a, e.op("Mod", [e.op("Add", [hw, e.ints([2 * b])]), a])]), a]);
    pads = e.op("Concat", [e.ints([0, 0, b, b, 0, 0]), e.op("Add", [rem, e.ints([b])])], { axis: { i: 0 } });
  }
  return e.op("Pad", ["input", pads], { mode: { s: mode } });
}

/** The output cropped to scale × the image, where the input was padded or the network shrinks. */
function outputCrop(e: OnnxEmitter, g: ValidatedGraph, y: string): string {
  const b = g.inputPad?.size ?? 0;
  if (b === 0 && (g.align ?? 1) === 1) return y;
  const start = g.scale * (b - g.shrink);
  const hw = e.op("Slice", [e.op("Shape", ["input"]), e.ints([2]), e.ints([4])]);
  const end = e.op("Add", [e.op("Mul", [hw, e.ints([g.scale])]), e.ints([start])]);
  return e.sliceHW(y, start, end);
}

/** Per-channel constants [1, c, 1, 1]: they broadcast over images and vectors alike. */
const channelConst = (e: OnnxEmitter, c: number, values: ArrayLike<number>) => e.floats([1, c, 1, 1], values);

function emitNode(e: OnnxEmitter, g: ValidatedGraph, node: GraphNode, v: (t: string) => string, channelsOf: (t: string) => number, shapeOf: (t: string) => Shape[]): string {
  const w = (role: string) => g.weights[node.weights[role]];
  const xs = node.inputs.map(v);
  const attrs = node.attrs;
  switch (node.op) {
    case "Conv2D": {
      const k = attrs.k as number, cout = attrs.cout as number;
      const pad = (attrs.pad as number | undefined) ?? k >> 1;
      const images = attrs.dynamicBias ? xs.slice(0, -1) : xs;
      const kernels = images.map((_, i) => w(`kernel${i}`));
      const cins = kernels.map((kw) => kw.shape[3]);
      const weight = e.floats([cout, cins.reduce((a, b) => a + b, 0), k, k], oursToOnnxKernel(kernels.map((kw) => kw.data), cout, k, cins));
      const x = images.length > 1 ? e.op("Concat", images, { axis: { i: 1 } }) : images[0];
      const bias = node.weights.bias ? [e.floats([cout], w("bias").data)] : [];
      let y = e.op("Conv", [x, weight, ...bias], { kernel_shape: { ints: [k, k] }, pads: { ints: [pad, pad, pad, pad] } });
      if (attrs.dynamicBias) y = e.op("Add", [y, xs.at(-1)!]);
      return activation(e, g, node, y, cout);
    }
    case "Dense": {
      // [1, K, 1, 1] vectors: a 1×1 convolution is the product with the matrix (input-major [K][N] here).
      const n = attrs.units as number;
      const mats = node.inputs.map((_, i) => w(`matrix${i}`));
      const total = mats.reduce((s, m) => s + m.shape[0], 0);
      const weight = new Float32Array(n * total);
      let from = 0;
      for (const m of mats) {
        const K = m.shape[0];
        for (let q = 0; q < K; q++) for (let j = 0; j < n; j++) weight[j * total + from + q] = m.data[q * n + j];
        from += K;
      }
      const x = xs.length > 1 ? e.op("Concat", xs, { axis: { i: 1 } }) : xs[0];
      const bias = node.weights.bias ? [e.floats([n], w("bias").data)] : [];
      return activation(e, g, node, e.op("Conv", [x, e.floats([n, total, 1, 1], weight), ...bias], { kernel_shape: { ints: [1, 1] } }), n);
    }
    case "Activation":
      return activation(e, g, node, xs[0], channelsOf(node.inputs[0]));
    case "PixelShuffle":
      return e.op("DepthToSpace", [xs[0]], { blocksize: { i: attrs.r as number }, mode: { s: (attrs.order ?? "tf") === "tf" ? "DCR" : "CRD" } });
    case "SpaceToDepth": {
      const r = attrs.r as number;
      const y = e.op("SpaceToDepth", [xs[0]], { blocksize: { i: r } });
      if ((attrs.order ?? "tf") === "tf") return y;
      // ONNX's order is channel sub·c + k; torch's is k·r² + sub.
      const c = channelsOf(node.inputs[0]);
      const perm = Array.from({ length: c * r * r }, (_, i) => (i % (r * r)) * c + Math.floor(i / (r * r)));
      return e.op("Gather", [y, e.ints(perm)], { axis: { i: 1 } });
    }
    case "Add": {
      const co = attrs.coefficients as [number, number] | undefined;
      const scaled = (x: string, s: number) => (s === 1 ? x : e.op("Mul", [x, e.floats([], [s])]));
      return e.op("Add", co ? [scaled(xs[0], co[0]), scaled(xs[1], co[1])] : xs);
    }
    case "Mul":
      return e.op("Mul", xs);
    case "Concat":
      return e.op("Concat", xs, { axis: { i: 1 } });
    case "Crop": {
      const m = attrs.margin as number;
      return e.sliceHW(xs[0], m, -m);
    }
    case "GlobalMean":
      return e.op("GlobalAveragePool", xs);
    case "Resize":
      return resize(e, xs[0], attrs.method as ResizeMethod, resizeRatio(attrs), shapeOf(node.inputs[0]));
    default:
      throw new UnsupportedError(`no ONNX form for op ${node.op}`);
  }
}

/** Our [cout][k][k][cin_i] kernels, one per input, as ONNX's [cout][Σ cin][k][k]. */
function oursToOnnxKernel(kernels: Float32Array[], cout: number, k: number, cins: number[]): Float32Array {
  const total = cins.reduce((a, b) => a + b, 0);
  const out = new Float32Array(cout * total * k * k);
  let from = 0;
  kernels.forEach((src, i) => {
    const cin = cins[i];
    for (let o = 0; o < cout; o++)
      for (let t = 0; t < k * k; t++)
        for (let c = 0; c < cin; c++) out[(o * total + from + c) * k * k + t] = src[(o * k * k + t) * cin + c];
    from += cin;
  });
  return out;
}

/** A node's activation (attrs.act) applied to x as ONNX nodes. */
function activation(e: OnnxEmitter, g: ValidatedGraph, node: GraphNode, x: string, c: number): string {
  const act = actName(node);
  const perChannel = (ACTIVATIONS[act] as { perChannel?: { role: string } }).perChannel;
  const params = perChannel ? g.weights[node.weights[perChannel.role]].data : undefined;
  switch (act) {
    case "none": return x;
    case "relu": return e.op("Relu", [x]);
    case "sigmoid": return e.op("Sigmoid", [x]);
    case "leaky": return e.op("LeakyRelu", [x], { alpha: { f: node.attrs.alpha as number } });
    case "prelu": return e.op("PRelu", [x, e.floats([c, 1, 1], params!)]);
    case "spline": return spline(e, x, c, params!);
  }
}

/**
 * srgan-rust's spline (src/ops/activations.ts) as its pieces: linear below −1 and above 1, a cubic
 * between, chosen by Where with the same comparisons (x ≤ −1 first, then x ≥ 1).
 */
function spline(e: OnnxEmitter, x: string, c: number, p: Float32Array): string {
  const per = (f: (L: number, C: number, R: number) => number) => channelConst(e, c, Array.from({ length: c }, (_, i) => f(p[i], p[c + i], p[2 * c + i])));
  const affine = (a: string, b: string) => e.op("Add", [e.op("Mul", [x, a]), b]);
  const left = affine(per((L) => L), per((L, C, R) => (2 / 3) * (0.875 * L + 0.125 * R - C)));
  const right = affine(per((_L, _C, R) => R), per((L, C, R) => (2 / 3) * (C - 0.125 * L - 0.875 * R)));
  // −(1/3)(C x³ − 3C x − ½(L + R) x³ + ¾(L − R) x²) = ((p3 x + p2) x + p1) x
  const p3 = per((L, C, R) => (L + R) / 6 - C / 3), p2 = per((L, _C, R) => 0.25 * (R - L)), p1 = per((_L, C) => C);
  const mid = e.op("Mul", [e.op("Add", [e.op("Mul", [e.op("Add", [e.op("Mul", [x, p3]), p2]), x]), p1]), x]);
  const isLeft = e.op("LessOrEqual", [x, e.floats([], [-1])]);
  const isRight = e.op("GreaterOrEqual", [x, e.floats([], [1])]);
  return e.op("Where", [isLeft, left, e.op("Where", [isRight, right, mid])]);
}

/**
 * Our Resize in ONNX terms (see src/ops/resize-taps.ts for ours). Enlarging by an integer: nearest and
 * box are `floor(o / s)` (asymmetric, floor); bilinear is half_pixel linear (MATLAB mirrors one pixel
 * where ONNX clamps: the same value); bicubic (Keys −0.5) mirrors two pixels, so the input is
 * mirror-padded by 2 first and the result cropped; cubic (OpenCV, −0.75, clamped) is ONNX's cubic at
 * any ratio. Any ratio for nearest: half_pixel, round_prefer_ceil. A ratio's output must come out at
 * ⌈n · up / down⌉ from ONNX's ⌊n · scale⌋ for every size the network takes, else it is refused.
 */
function resize(e: OnnxEmitter, x: string, method: ResizeMethod, [up, down]: [number, number], inputs: Shape[]): string {
  const scales = (r: number) => e.floats([4], [1, 1, r, r]);
  if (down === 1) {
    if (method === "nearest" || method === "box") {
      return e.op("Resize", [x, "", scales(up)], { mode: { s: "nearest" }, coordinate_transformation_mode: { s: "asymmetric" }, nearest_mode: { s: "floor" } });
    }
    if (method === "bilinear") return e.op("Resize", [x, "", scales(up)], { mode: { s: "linear" }, coordinate_transformation_mode: { s: "half_pixel" } });
    if (method === "bicubic") {
      const y = e.op("Resize", [mirrorPad2(e, x), "", scales(up)], { mode: { s: "cubic" }, cubic_coeff_a: { f: -0.5 }, coordinate_transformation_mode: { s: "half_pixel" } });
      return e.sliceHW(y, 2 * up, -2 * up);
    }
  }
  if (method !== "cubic" && method !== "nearest") {
    throw new UnsupportedError(`${method} resizing by ${up}/${down} is antialiased (MATLAB), which ONNX Resize cannot express exactly; enlargements by an integer, and 'cubic' and 'nearest' at any ratio, export`);
  }
  const ratio = up / down;
  const exact = Math.fround(ratio) >= ratio && inputs.every((s) => (s.h * up) % down === 0 && (s.w * up) % down === 0);
  if (!exact) throw new UnsupportedError(`resizing by ${up}/${down} here gives sizes ONNX's ⌊n · ${ratio}⌋ would not reproduce`);
  const attrs: Record<string, Attr> = method === "cubic"
    ? { mode: { s: "cubic" }, cubic_coeff_a: { f: -0.75 }, coordinate_transformation_mode: { s: "half_pixel" } }
    : { mode: { s: "nearest" }, coordinate_transformation_mode: { s: "half_pixel" }, nearest_mode: { s: "round_prefer_ceil" } };
  return e.op("Resize", [x, "", scales(ratio)], attrs);
}

/**
 * MATLAB's symmetric extension by 2 pixels on every side (x1 x0 | x0 x1 … | xn−1 xn−2): an edge pad by 1,
 * then per axis the pixel beyond each padded end, by Slice and Concat. A 1-pixel line becomes x0 x0 | x0 | x0 x0.
 */
function mirrorPad2(e: OnnxEmitter, x: string): string {
  let y = e.op("Pad", [x, e.ints([0, 0, 1, 1, 0, 0, 1, 1])], { mode: { s: "edge" } });
  for (const axis of [2, 3]) {
    const part = (start: number, end: number) => e.op("Slice", [y, e.ints([start]), e.ints([end]), e.ints([axis])]);
    y = e.op("Concat", [part(2, 3), y, part(-3, -2)], { axis: { i: axis } });
  }
  return y;
}
