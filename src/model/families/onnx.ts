// SPDX-License-Identifier: MIT
// An ONNX model (src/model/formats/onnx.ts) as our graph, node by node: Conv (stride 1 with symmetric
// padding, or a k×k stride-k one as SpaceToDepth + 1×1; groups as a block-diagonal kernel), ConvTranspose
// (as a convolution + PixelShuffle), Relu, LeakyRelu, PRelu, Sigmoid (folded into the convolution before
// them), DepthToSpace and SpaceToDepth, Resize (the modes with an exact counterpart here), Add, Mul,
// Concat (read by a convolution: its inputs), GlobalAveragePool / ReduceMean, Gemm / MatMul on the pooled
// vector (squeeze-excitation), Pad of the network input (the border it sees) and Slice crops. The small
// integer computations exporters write for sizes (Shape, Gather, Concat, arithmetic) are evaluated at
// sample input sizes. Anything else is refused naming the operator and the node.
//
// Networks are NCHW with an RGB 0..1 input. srgan-wasm's own export (../formats/onnx-export.ts) reads
// back as the graph it was written from, including the forms it writes where ONNX has no op of ours:
// MATLAB bicubic (mirror pad + Resize + crop) and srgan-rust's spline (polynomial pieces chosen by Where).
import { ModelFormatError } from "../../errors.js";
import type { OnnxAttribute, OnnxModel, OnnxNode, OnnxTensor } from "../formats/onnx.js";
import { inferShapes, validateGraph } from "../graph.js";
import type { GraphNode, InputPad, PadMode, ValidatedGraph } from "../types.js";
import { deconvAsConv, GraphBuilder, repeatEach, smallestAlign } from "./build.js";

/** A value of the ONNX graph as we hold it. */
type Value =
  /** [1, c, h, w]: our tensor t. */
  | { kind: "image"; t: string; c: number }
  /** [1, c] or [1, c, 1, 1]: our [1, 1, c] tensor t. */
  | { kind: "vector"; t: string; c: number; rank: number }
  /** Channels concatenated, made a tensor only when something other than a convolution reads them. */
  | { kind: "concat"; parts: Image[]; c: number; made?: Image }
  /** An image times a constant, kept for Add's coefficients. */
  | { kind: "scaled"; of: Image; s: number }
  /** A constant or size-dependent tensor: its value at input size (h, w). */
  | { kind: "data"; at: (h: number, w: number) => Data; dynamic: boolean }
  /** Pieces of the mirror pad srgan-wasm's export writes before a MATLAB bicubic Resize (../formats/onnx-export.ts). */
  | { kind: "edge1"; of: Image }
  | { kind: "slice"; of: Edge1 | Mirror; axis: number; start: number; end: number }
  | Mirror
  | { kind: "mirrored-resize"; of: Image; scale: number }
  /** The final crop to scale × the image, `start` output pixels in. */
  | { kind: "output-crop"; of: Image; start: number }
  /** Pooled vectors side by side, read by a 1×1 convolution (a Dense of several inputs). */
  | { kind: "vconcat"; parts: Vector[]; c: number }
  /** Per-channel polynomial Σ coeffs[d][ch]·x^d of `of` (ONNX name `name`), and the pieces of a piecewise one. */
  | Poly
  | { kind: "compare"; of: Image | Vector; op: "<=" | ">="; v: number }
  | Piecewise;
type Vector = Extract<Value, { kind: "vector" }>;
type Poly = { kind: "poly"; of: Image | Vector; name: string; coeffs: number[][] };
type Piecewise = { kind: "piecewise"; of: Image | Vector; name: string; cond: Extract<Value, { kind: "compare" }>; then: Poly | Piecewise; else: Poly | Piecewise; made?: Image | Vector };
type Image = Extract<Value, { kind: "image" }>;
type Edge1 = { kind: "edge1"; of: Image };
type Mirror = { kind: "mirror"; of: Image; axes: number[] };
interface Data { dims: number[]; values: number[]; floats?: Float32Array }

/** Sample input sizes at which size computations are evaluated (odd and even, not multiples of each other). */
const PROBES = [101, 134];

/** Converts a decoded ONNX model; `label` names the file in errors. */
export function onnxGraph(model: OnnxModel, label: string): ValidatedGraph {
  if (model.inputs.length !== 1) throw new ModelFormatError(`${label}: the model has ${model.inputs.length} inputs (${model.inputs.map((i) => i.name).join(", ")}); one image input is supported`);
  if (model.outputs.length !== 1) throw new ModelFormatError(`${label}: the model has ${model.outputs.length} outputs; one is supported`);
  const input = model.inputs[0];
  // Channels second; a symbolic one is taken as 3 unless the last dimension says the layout is NHWC.
  if (input.dims.length !== 4 || (typeof input.dims[1] === "number" ? input.dims[1] !== 3 : input.dims[3] === 3)) {
    throw new ModelFormatError(`${label}: the input '${input.name}' has dimensions [${input.dims}]; an NCHW RGB image [1, 3, height, width] is supported`);
  }
  const b = new GraphBuilder("x");
  const values = new Map<string, Value>();
  const readers = new Map<string, number>();
  const readerOps = new Map<string, string[]>();
  for (const n of model.nodes) for (const i of n.inputs) { readers.set(i, (readers.get(i) ?? 0) + 1); readerOps.set(i, [...(readerOps.get(i) ?? []), n.opType]); }
  for (const o of model.outputs) readers.set(o, (readers.get(o) ?? 0) + 1);
  for (const [name, t] of model.initializers) values.set(name, constant(t));
  values.set(input.name, { kind: "image", t: "x", c: 3 });
  // The output's names: it and what Identity nodes pass on to it.
  const outputs = new Set(model.outputs);
  for (const n of [...model.nodes].reverse()) if ((n.opType === "Identity" || n.opType === "Dropout") && outputs.has(n.outputs[0])) outputs.add(n.inputs[0]);
  let border: { pad: InputPad; align: number } | undefined;

  for (const node of model.nodes) {
    const fail = (what: string) => new ModelFormatError(`${label}: node '${node.name}' (${node.opType}): ${what}`);
    if (node.domain && node.domain !== "ai.onnx") throw fail(`operator domain '${node.domain}' is not supported (only the standard ONNX operators)`);
    const value = (i: number): Value => {
      const name = node.inputs[i];
      const v = name ? values.get(name) : undefined;
      if (!v) throw fail(`input ${i} ('${name ?? ""}') is ${name ? "not computed before this node" : "missing"}`);
      // A piecewise polynomial is an activation to every op but those that build one.
      if (v.kind === "piecewise" && !PIECEWISE_OPS.has(node.opType)) return (v.made ??= spline(b, v, readers, fail));
      return v;
    };
    const optional = (i: number) => (node.inputs[i] ? value(i) : undefined);
    const ctx: Ctx = {
      b, node, fail, value, optional, readers, readerOps, border, inputName: input.name, outputs,
      image: (v) => image(b, v, fail),
      data: (v) => data(v, fail),
      sizeOf: (t) => sizeOf(b, t, border),
      setBorder: (pad, align) => { border = { pad, align }; ctx.border = border; },
    };
    const out = convert(ctx);
    if (out) values.set(node.outputs[0], out);
  }

  const result = values.get(model.outputs[0]);
  if (!result) throw new ModelFormatError(`${label}: the output '${model.outputs[0]}' is never computed`);
  const fail = (what: string) => new ModelFormatError(`${label}: the output: ${what}`);
  const crop = result.kind === "output-crop" ? result : undefined;
  const y = image(b, crop ? crop.of : result, fail);
  if (y.c !== 3) throw fail(`it has ${y.c} channels; RGB (3) is supported`);
  const meta = { source: "ONNX", producer: model.producer };
  const [p, q] = [840, 1680].map((n) => ({ n, out: inferShapes(b.graph({ name: label, scale: 1, output: y.t, meta }), n).get(y.t)! }));
  const scale = (q.out.h - p.out.h) / (q.n - p.n);
  const shrink = (p.n - p.out.h / scale) / 2;
  if (!Number.isInteger(scale) || scale < 1 || !Number.isInteger(shrink) || shrink < 0) throw fail(`the network does not upscale by an integer factor (output ${p.out.h} for input ${p.n})`);
  const padSize = border?.pad.size ?? 0;
  if (crop) {
    if (crop.start !== scale * (padSize - shrink)) throw fail(`the final crop starts ${crop.start} pixels in; for a border of ${padSize} and a shrink of ${shrink} at ×${scale} it would be ${scale * (padSize - shrink)}`);
  } else if (shrink > padSize) {
    throw fail(`the network loses ${shrink} pixels per side (unpadded operations) and pads ${padSize} back: its output is smaller than scale × the image; not supported`);
  } else if (shrink < padSize || (border?.align ?? 1) > 1) {
    throw fail(`the input is padded by ${padSize} but the output is not cropped back to scale × the image; not supported`);
  }
  const g = b.graph({ name: label, scale, output: y.t, inputPad: border && (border.pad.size > 0 || border.align > 1) ? border.pad : undefined, meta });
  const align = border?.align ?? smallestAlign((n) => { try { inferShapes(g, n); return true; } catch { return false; } });
  return validateGraph({ ...g, ...(align > 1 ? { align } : {}) });
}

interface Ctx {
  b: GraphBuilder;
  node: OnnxNode;
  fail(what: string): ModelFormatError;
  value(i: number): Value;
  optional(i: number): Value | undefined;
  readers: ReadonlyMap<string, number>;
  /** The op types of each value's readers. */
  readerOps: ReadonlyMap<string, readonly string[]>;
  inputName: string;
  /** The model's output and the names Identity passes on to it. */
  outputs: ReadonlySet<string>;
  border?: { pad: InputPad; align: number };
  image(v: Value): Image;
  data(v: Value): (h: number, w: number) => Data;
  /** A tensor's side at input size n (the image before any border). */
  sizeOf(t: string): (n: number) => number;
  setBorder(pad: InputPad, align: number): void;
}

/** The op that nests piecewise polynomials (srgan-wasm's spline export, ../formats/onnx-export.ts); to the rest one is an activated tensor. */
const PIECEWISE_OPS = new Set(["Where"]);

const SUPPORTED_OPS = ["Conv", "ConvTranspose", "Relu", "LeakyRelu", "PRelu", "Sigmoid", "DepthToSpace", "SpaceToDepth", "Resize",
  "Add", "Mul", "Concat", "Pad", "Slice", "GlobalAveragePool", "ReduceMean", "Gemm", "MatMul", "Flatten", "Reshape", "Squeeze", "Unsqueeze",
  "Identity", "Dropout", "Constant", "Shape", "Gather", "Cast", "Sub", "Div", "Mod", "Floor", "Ceil", "Where", "LessOrEqual", "GreaterOrEqual"];

function convert(ctx: Ctx): Value | undefined {
  const { b, node, fail } = ctx;
  const int = (name: string, fallback: number) => attrNumber(node, name, fallback, fail);
  const x = () => ctx.value(0);
  switch (node.opType) {
    case "Identity": case "Dropout": return x();
    case "Constant": {
      const v = node.attrs.get("value") ?? node.attrs.get("value_float") ?? node.attrs.get("value_floats") ?? node.attrs.get("value_int") ?? node.attrs.get("value_ints");
      if (v === undefined) throw fail("only value, value_float(s) and value_int(s) constants are supported");
      if (typeof v === "number") return constant(node.attrs.has("value_int") ? { dims: [], ints: [v] } : { dims: [], floats: Float32Array.of(v) });
      if (Array.isArray(v)) return constant(node.attrs.has("value_ints") ? { dims: [v.length], ints: v } : { dims: [v.length], floats: Float32Array.from(v) });
      if (typeof v === "object" && "dims" in (v as object)) return constant(v as OnnxTensor);
      throw fail("unsupported constant");
    }
    case "Shape": {
      const v = x();
      if (node.inputs[0] !== ctx.inputName || v.kind !== "image") throw fail("only the shape of the network input is supported");
      return { kind: "data", dynamic: true, at: (h, w) => ({ dims: [4], values: [1, 3, h, w] }) };
    }
    case "Conv": return conv(ctx);
    case "ConvTranspose": return convTranspose(ctx);
    case "Relu": case "LeakyRelu": case "PRelu": case "Sigmoid": return activation(ctx);
    case "DepthToSpace": {
      const v = ctx.image(x());
      const r = int("blocksize", 0);
      const mode = attrString(node, "mode", "DCR");
      if (mode !== "DCR" && mode !== "CRD") throw fail(`mode ${mode}`);
      return { kind: "image", t: b.node("PixelShuffle", [v.t], { r, order: mode === "DCR" ? "tf" : "torch" }), c: v.c / (r * r) };
    }
    case "SpaceToDepth": {
      const v = ctx.image(x());
      const r = int("blocksize", 0);
      return { kind: "image", t: b.node("SpaceToDepth", [v.t], { r, order: "tf" }), c: v.c * r * r };
    }
    case "Gather": return gather(ctx);
    case "Resize": return resize(ctx);
    case "Add": case "Mul": case "Sub": case "Div": case "Mod": return arithmetic(ctx);
    case "LessOrEqual": case "GreaterOrEqual": {
      const [u, v] = [x(), ctx.value(1)];
      const at = scalarOf(v);
      if ((u.kind !== "image" && u.kind !== "vector") || at === undefined) throw fail("comparisons of a tensor with a constant are supported (as srgan-wasm's spline export writes them)");
      return { kind: "compare", of: u, op: node.opType === "LessOrEqual" ? "<=" : ">=", v: at };
    }
    case "Where": {
      const [c, p, q] = [x(), ctx.value(1), ctx.value(2)];
      const piece = (v: Value) => (v.kind === "poly" || v.kind === "piecewise" ? v : undefined);
      if (c.kind !== "compare" || !piece(p) || !piece(q) || piece(p)!.of !== c.of || piece(q)!.of !== c.of) throw fail("Where is supported choosing between polynomials of one tensor (srgan-wasm's spline export)");
      return { kind: "piecewise", of: c.of, name: piece(p)!.name, cond: c, then: piece(p)!, else: piece(q)! };
    }
    case "Concat": return concat(ctx);
    case "Pad": return pad(ctx);
    case "Slice": return slice(ctx);
    case "GlobalAveragePool": case "ReduceMean": {
      const v = ctx.image(x());
      if (node.opType === "ReduceMean") {
        const axes = (node.attrs.get("axes") as number[] | undefined)?.map((a) => (a < 0 ? a + 4 : a)).sort();
        if (axes?.join() !== "2,3" || int("keepdims", 1) !== 1) throw fail("only the mean over height and width with keepdims is supported");
      }
      return { kind: "vector", t: b.node("GlobalMean", [v.t]), c: v.c, rank: 4 };
    }
    case "Flatten": case "Reshape": case "Squeeze": case "Unsqueeze": return reshape(ctx);
    case "Gemm": case "MatMul": return dense(ctx);
    case "Cast": case "Floor": case "Ceil": {
      const v = ctx.data(x());
      const f = node.opType === "Floor" ? Math.floor : node.opType === "Ceil" ? Math.ceil : (n: number) => n;
      return derived(x(), (h, w) => { const d = v(h, w); return { dims: d.dims, values: d.values.map(f) }; });
    }
    default:
      throw fail(`operator ${node.opType} is not supported (supported: ${SUPPORTED_OPS.join(", ")})`);
  }
}

// ---- values ----

function constant(t: OnnxTensor): Value {
  const d: Data = { dims: [...t.dims], values: t.ints ? [...t.ints] : [], floats: t.floats };
  if (t.floats && t.floats.length <= 64) d.values = [...t.floats];
  return { kind: "data", dynamic: false, at: () => d };
}

/** A data value computed from others, dynamic when they are. */
function derived(from: Value | Value[], at: (h: number, w: number) => Data): Value {
  const dynamic = [from].flat().some((v) => v.kind === "data" && v.dynamic);
  return { kind: "data", dynamic, at };
}

function data(v: Value, fail: (what: string) => Error): (h: number, w: number) => Data {
  if (v.kind !== "data") throw fail(`expected a constant or a size, got an ${v.kind}`);
  return v.at;
}

/** The constant's float values (weights). */
function weights(ctx: Ctx, i: number, what: string): { dims: number[]; data: Float32Array } {
  const v = ctx.value(i);
  if (v.kind !== "data" || v.dynamic) throw ctx.fail(`${what} must be a constant`);
  const d = v.at(PROBES[0], PROBES[0]);
  return { dims: d.dims, data: d.floats ?? Float32Array.from(d.values) };
}

const producerOf = (b: GraphBuilder, t: string): GraphNode | undefined => b.nodes.find((n) => n.output === t);

function image(b: GraphBuilder, v: Value, fail: (what: string) => Error): Image {
  switch (v.kind) {
    case "image": return v;
    case "concat": return (v.made ??= { kind: "image", t: b.node("Concat", v.parts.map((p) => p.t)), c: v.c });
    case "scaled": return { kind: "image", t: b.node("Add", [v.of.t, v.of.t], { coefficients: [v.s, 0] }), c: v.of.c };
    case "poly": {
      // A per-channel affine map a·x + b: a 1×1 convolution with a diagonal kernel.
      const [c0, c1, ...higher] = v.coeffs;
      if (higher.some((d) => d.some((q) => q !== 0)) || v.of.kind !== "image") throw fail("a per-channel polynomial of an image is supported up to degree 1 (a·x + b)");
      const c = v.of.c;
      const diag = new Float32Array(c * c);
      for (let i = 0; i < c; i++) diag[i * c + i] = c1?.[i] ?? 0;
      return { kind: "image", t: b.conv([v.of.t], [c], diag, c, 1, { bias: Float32Array.from(c0) }), c };
    }
    case "edge1": case "slice": case "mirror": case "mirrored-resize":
      throw fail("Slice and Concat of image rows or columns are supported only as a symmetric crop, or as the mirror pad around a bicubic Resize that srgan-wasm's export writes");
    default:
      throw fail(`expected an image, got a ${v.kind}`);
  }
}

/** The side of our tensor t at image size n: the graph so far, on the image extended by the border. */
function sizeOf(b: GraphBuilder, t: string, border: Ctx["border"]) {
  return (n: number) => {
    const pad = border?.pad.size ?? 0, align = border?.align ?? 1;
    const N = n + 2 * pad + ((align - ((n + 2 * pad) % align)) % align);
    return inferShapes(b.graph({ name: "partial", scale: 1, output: t }), N).get(t)!.h;
  };
}

// ---- attributes ----

function attrNumber(node: OnnxNode, name: string, fallback: number, fail: (w: string) => Error): number {
  const v = node.attrs.get(name) ?? fallback;
  if (typeof v !== "number") throw fail(`attribute ${name} is not a number`);
  return v;
}
function attrInts(node: OnnxNode, name: string): number[] | undefined {
  const v = node.attrs.get(name);
  return Array.isArray(v) ? (v as number[]) : undefined;
}
function attrString(node: OnnxNode, name: string, fallback: string): string {
  const v: OnnxAttribute = node.attrs.get(name) ?? fallback;
  return typeof v === "string" ? v : fallback;
}

// ---- convolutions ----

/** A convolution's geometry: square kernel k, stride s, equal padding p on every side. */
function geometry(ctx: Ctx, k: number): { s: number; p: number } {
  const { node, fail } = ctx;
  const strides = attrInts(node, "strides") ?? [1, 1], dil = attrInts(node, "dilations") ?? [1, 1];
  if (strides[0] !== strides[1]) throw fail(`strides ${strides}; equal strides are supported`);
  if (dil.some((d) => d !== 1)) throw fail("dilated convolution is not supported");
  const auto = attrString(node, "auto_pad", "NOTSET");
  if (auto === "VALID") return { s: strides[0], p: 0 };
  if (auto === "SAME_UPPER" || auto === "SAME_LOWER") {
    if (strides[0] !== 1 || k % 2 === 0) throw fail(`auto_pad ${auto} with stride ${strides[0]} and kernel ${k}`);
    return { s: 1, p: k >> 1 };
  }
  const pads = attrInts(node, "pads") ?? [0, 0, 0, 0];
  if (!pads.every((q) => q === pads[0]) || pads[0] < 0) throw fail(`padding ${pads}; equal non-negative padding on every side is supported`);
  return { s: strides[0], p: pads[0] };
}

function conv(ctx: Ctx): Value {
  const { b, node, fail } = ctx;
  const w = weights(ctx, 1, "the weight");
  const [cout, cinG, kh, kw] = w.dims;
  if (w.dims.length !== 4 || kh !== kw) throw fail(`weight dimensions [${w.dims}]; square 2-D kernels are supported`);
  const k = kh;
  const bias = node.inputs[2] ? weights(ctx, 2, "the bias").data : undefined;
  const group = attrNumber(node, "group", 1, fail);
  const { s, p } = geometry(ctx, k);
  const x = ctx.value(0);
  if (x.kind === "vector" || x.kind === "vconcat") {
    const parts = x.kind === "vector" ? [x] : x.parts;
    if (k !== 1 || group !== 1 || parts.reduce((a, q) => a + q.c, 0) !== cinG) throw fail("a convolution of pooled vectors must be 1×1 without groups");
    // [cout][Σ K] → one input-major [K][cout] matrix per vector.
    const roles: Record<string, string> = {};
    let from = 0;
    parts.forEach((q, j) => {
      const matrix = Float32Array.from({ length: q.c * cout }, (_, i) => w.data[(i % cout) * cinG + from + Math.floor(i / cout)]);
      roles[`matrix${j}`] = b.weight([q.c, cout], matrix);
      from += q.c;
    });
    if (bias) roles.bias = b.weight([cout], bias);
    return { kind: "vector", t: b.node("Dense", parts.map((q) => q.t), { units: cout }, roles), c: cout, rank: 4 };
  }
  const parts = x.kind === "concat" && s === 1 && group === 1 ? x.parts : [ctx.image(x)];
  const cin = parts.reduce((a, q) => a + q.c, 0);
  if (cin !== cinG * group || cout % group !== 0) throw fail(`weight dimensions [${w.dims}] with ${group} groups for ${cin} input channels`);
  const weight = group === 1 ? w.data : blockDiagonal(w.data, cout, cinG, k, group);
  if (s === 1) {
    if (k % 2 === 0 || p > k >> 1) throw fail(`a ${k}×${k} kernel with padding ${p}; odd kernels padded at most k/2 are supported`);
    return { kind: "image", t: b.conv(parts.map((q) => q.t), parts.map((q) => q.c), weight, cout, k, { pad: p, bias }), c: cout };
  }
  if (s === k && p === 0) {
    // Stride k over k×k windows: the window's pixels as channels in PyTorch's order (channel·k² + ky·k + kx,
    // the weight's own [cin][ky][kx] order), then a 1×1 convolution.
    const d = b.node("SpaceToDepth", [parts[0].t], { r: k, order: "torch" });
    return { kind: "image", t: b.conv([d], [cin * k * k], weight, cout, 1, { bias }), c: cout };
  }
  throw fail(`stride ${s} with a ${k}×${k} kernel and padding ${p}; stride 1, or stride = kernel without padding, is supported`);
}

/** A grouped kernel [cout][cin/g][k][k] as the equivalent full one [cout][cin][k][k] (zeros between groups). */
function blockDiagonal(w: Float32Array, cout: number, cinG: number, k: number, group: number): Float32Array {
  const cin = cinG * group, perGroup = cout / group;
  const out = new Float32Array(cout * cin * k * k);
  for (let o = 0; o < cout; o++) {
    const g = Math.floor(o / perGroup);
    for (let c = 0; c < cinG; c++) out.set(w.subarray((o * cinG + c) * k * k, (o * cinG + c + 1) * k * k), (o * cin + g * cinG + c) * k * k);
  }
  return out;
}

function convTranspose(ctx: Ctx): Value {
  const { b, node, fail } = ctx;
  const x = ctx.image(ctx.value(0));
  const w = weights(ctx, 1, "the weight");
  const [cin, cout, kh, kw] = w.dims;
  if (w.dims.length !== 4 || kh !== kw || cin !== x.c) throw fail(`weight dimensions [${w.dims}] for ${x.c} input channels`);
  if (attrNumber(node, "group", 1, fail) !== 1) throw fail("grouped transposed convolution is not supported");
  if ((attrInts(node, "output_padding") ?? []).some((q) => q !== 0) || node.attrs.has("output_shape")) throw fail("output padding or a fixed output shape is not supported");
  const k = kh;
  const { s, p } = geometry(ctx, k);
  // ONNX's [cin][cout][k][k] as [cout][cin][k][k].
  const wt = new Float32Array(w.data.length);
  for (let i = 0; i < cin; i++) for (let o = 0; o < cout; o++) wt.set(w.data.subarray((i * cout + o) * k * k, (i * cout + o + 1) * k * k), (o * cin + i) * k * k);
  let c;
  try {
    c = deconvAsConv(wt, cout, cin, k, s, p, (n) => (n - 1) * s + k - 2 * p);
  } catch (e) {
    throw fail((e as Error).message);
  }
  const bias = node.inputs[2] ? weights(ctx, 2, "the bias").data : undefined;
  const phases = b.conv([x.t], [cin], c.weight, cout * s * s, c.k, { pad: c.pad, bias: bias && repeatEach(bias, s * s) });
  return { kind: "image", t: b.node("PixelShuffle", [phases], { r: s, order: "torch" }), c: cout };
}

/** Relu / LeakyRelu / PRelu / Sigmoid: folded into the Conv2D or Dense that alone feeds it, else a node. */
function activation(ctx: Ctx): Value {
  const { b, node, fail } = ctx;
  const x = ctx.value(0);
  const v = x.kind === "vector" ? x : ctx.image(x);
  const act = { Relu: "relu", LeakyRelu: "leaky", PRelu: "prelu", Sigmoid: "sigmoid" }[node.opType] as string;
  const attrs: Record<string, unknown> = { act };
  if (act === "leaky") attrs.alpha = attrNumber(node, "alpha", 0.01, fail);
  let slope: Float32Array | undefined;
  if (act === "prelu") {
    const s = weights(ctx, 1, "the slope").data;
    if (s.length !== v.c && s.length !== 1) throw fail(`${s.length} slopes for ${v.c} channels`);
    slope = s.length === v.c ? s : new Float32Array(v.c).fill(s[0]);
  }
  const producer = producerOf(b, v.t);
  const foldable = producer && (producer.op === "Conv2D" || producer.op === "Dense") && (producer.attrs.act ?? "none") === "none" &&
    ctx.readers.get(node.inputs[0]) === 1;
  const target: GraphNode = foldable ? producer : { op: "Activation", inputs: [v.t], output: "", attrs: {}, weights: {} };
  Object.assign(target.attrs, attrs);
  if (slope) target.weights.slope = b.weight([v.c], slope);
  if (foldable) return v;
  const t = b.node("Activation", [v.t], target.attrs, target.weights);
  return { ...v, t };
}

// ---- data movement ----

function gather(ctx: Ctx): Value {
  const { b, node, fail } = ctx;
  const x = ctx.value(0);
  const axis = attrNumber(node, "axis", 0, fail);
  const idx = ctx.data(ctx.value(1));
  if (x.kind === "image") {
    // SpaceToDepth then a channel permutation: PyTorch's pixel_unshuffle order, as srgan-wasm's export writes it.
    const producer = producerOf(b, x.t);
    const perm = idx(PROBES[0], PROBES[0]).values;
    const r = producer?.attrs.r as number;
    const c = x.c / (r * r);
    const torch = producer?.op === "SpaceToDepth" && producer.attrs.order === "tf" && axis === 1 && perm.length === x.c &&
      perm.every((p, i) => p === (i % (r * r)) * c + Math.floor(i / (r * r))) && ctx.readers.get(node.inputs[0]) === 1;
    if (!torch) throw fail("gathering image channels is supported only as the PyTorch-order SpaceToDepth permutation");
    producer!.attrs.order = "torch";
    return x;
  }
  const d = ctx.data(x);
  if (axis !== 0) throw fail("only axis 0 of a 1-D size tensor is supported");
  return derived([x, ctx.value(1)], (h, w) => {
    const v = d(h, w).values, i = idx(h, w);
    return { dims: i.dims, values: i.values.map((j) => v[j < 0 ? j + v.length : j]) };
  });
}

function concat(ctx: Ctx): Value {
  const { node, fail } = ctx;
  const axis = attrNumber(node, "axis", 0, fail);
  const inputs = node.inputs.map((_, i) => ctx.value(i));
  if (inputs.every((v) => v.kind === "data")) {
    const fs = inputs.map((v) => ctx.data(v));
    return derived(inputs, (h, w) => {
      const values = fs.flatMap((f) => f(h, w).values);
      return { dims: [values.length], values };
    });
  }
  if ((axis === 1 || axis === -3) && inputs.every((v) => v.kind === "vector")) {
    const parts = inputs as Vector[];
    return { kind: "vconcat", parts, c: parts.reduce((a, p) => a + p.c, 0) };
  }
  if (axis === 1 || axis === -3) {
    const parts = inputs.map((v) => ctx.image(v));
    return { kind: "concat", parts, c: parts.reduce((a, p) => a + p.c, 0) };
  }
  // The mirror pad of srgan-wasm's export: the edge-padded image y as [y[2], y, y[−3]] along a spatial axis.
  const a = axis < 0 ? axis + 4 : axis;
  const centre = inputs[1];
  const isSlice = (v: Value, start: number, end: number) => v.kind === "slice" && v.of === centre && v.axis === a && v.start === start && v.end === end;
  if ((a === 2 || a === 3) && inputs.length === 3 && (centre?.kind === "edge1" || centre?.kind === "mirror") && isSlice(inputs[0], 2, 3) && isSlice(inputs[2], -3, -2)) {
    return { kind: "mirror", of: centre.of, axes: centre.kind === "mirror" ? [...centre.axes, a] : [a] };
  }
  throw fail(`concatenation along axis ${axis}; channels (axis 1) are supported`);
}

function pad(ctx: Ctx): Value {
  const { node, fail } = ctx;
  const x = ctx.value(0);
  const mode = attrString(node, "mode", "constant");
  // An edge pad by 1 read only by slices and concatenations: the start of the export's mirror pad.
  if (x.kind === "image" && mode === "edge" && ctx.readerOps.get(node.outputs[0])?.every((op) => op === "Slice" || op === "Concat")) {
    const pads = ctx.data(ctx.value(1))(PROBES[0], PROBES[0]).values;
    if (pads.join() === "0,0,1,1,0,0,1,1") return { kind: "edge1", of: x };
  }
  if (x.kind !== "image" || node.inputs[0] !== ctx.inputName || ctx.border) throw fail("padding is supported on the network input only (the border the network sees)");
  const unpadded = ctx.readerOps.get(ctx.inputName)!.filter((op) => op !== "Shape").length;
  if (unpadded !== 1) throw fail("the network reads its input unpadded too; not supported");
  const ours = ({ constant: "zero", edge: "edge", reflect: "reflect" } as Record<string, PadMode>)[mode];
  if (!ours) throw fail(`mode ${mode}`);
  const cv = ctx.optional(2);
  if (cv && ctx.data(cv)(1, 1).values.some((q) => q !== 0)) throw fail("a non-zero constant border is not supported");
  const pads = ctx.data(ctx.value(1));
  // Begin pads are the border; end pads the border plus what makes the size a multiple of align.
  const at = (n: number) => pads(n, n).values;
  const [first] = [at(PROBES[0])];
  const size = first[2];
  if (first.length !== 8 || first[0] || first[1] || first[4] || first[5] || first[3] !== size || size < 0) throw fail(`pads [${first}]; equal spatial padding is supported`);
  for (let align = 1; align <= 64; align *= 2) {
    const fits = Array.from({ length: 2 * align + 2 }, (_, i) => i + 1).every((n) => {
      const p = at(n);
      const end = size + ((align - ((n + 2 * size) % align)) % align);
      return p[2] === size && p[3] === size && p[6] === end && p[7] === end;
    });
    if (fits) {
      ctx.setBorder({ mode: ours, size }, align);
      return x;
    }
  }
  throw fail(`pads [${first}] at a ${PROBES[0]}-pixel input: the same border on every side (the end ones rounded up to a multiple of a power of two) is supported`);
}

function slice(ctx: Ctx): Value {
  const { node, fail } = ctx;
  const x = ctx.value(0);
  if (!node.inputs[2]) throw fail("Slice before opset 10 (attributes for starts and ends) is not supported");
  const at = (i: number) => (node.inputs[i] ? ctx.data(ctx.value(i)) : undefined);
  const starts = at(1)!, ends = at(2)!, axesOf = at(3), steps = at(4);
  if (x.kind === "data") {
    const d = ctx.data(x);
    return derived([x, ctx.value(1), ctx.value(2)], (h, w) => {
      const v = d(h, w).values, s = starts(h, w).values[0], e = ends(h, w).values[0];
      const norm = (q: number) => Math.max(0, Math.min(v.length, q < 0 ? q + v.length : q));
      const values = v.slice(norm(s), norm(e));
      return { dims: [values.length], values };
    });
  }
  const probe = (f: typeof starts, n: number) => f(n, n).values;
  const axes = axesOf ? probe(axesOf, PROBES[0]).map((a) => (a < 0 ? a + 4 : a)) : [0, 1, 2, 3].slice(0, probe(starts, PROBES[0]).length);
  if (steps && probe(steps, PROBES[0]).some((q) => q !== 1)) throw fail("slices with steps are not supported");
  const dynamic = [1, 2].some((i) => { const v = ctx.value(i); return v.kind === "data" && v.dynamic; });
  if (axes.length === 1 && (axes[0] === 2 || axes[0] === 3) && !dynamic && (x.kind === "edge1" || x.kind === "mirror")) {
    return { kind: "slice", of: x, axis: axes[0], start: probe(starts, PROBES[0])[0], end: probe(ends, PROBES[0])[0] };
  }
  if (axes.join() !== "2,3") throw fail(`slicing axes ${axes}; crops of height and width together are supported`);
  const s = probe(starts, PROBES[0]);
  if (s[0] !== s[1] || s[0] < 0) throw fail(`starts ${s}; equal crops are supported`);
  const m = s[0];
  if (x.kind === "mirrored-resize") {
    if (dynamic || probe(ends, PROBES[0]).some((e) => e !== -m) || m !== 2 * x.scale) throw fail("the crop after a mirror-padded bicubic Resize must remove the pad");
    return { kind: "image", t: ctx.b.node("Resize", [x.of.t], { method: "bicubic", scale: x.scale }), c: x.of.c };
  }
  const y = ctx.image(x);
  const endAt = (n: number) => probe(ends, n)[0];
  if (dynamic && ctx.outputs.has(node.outputs[0])) {
    // The crop back to scale × the image, last: its end grows with the image by the network's scale.
    const [p, q] = PROBES;
    const scale = (endAt(q) - endAt(p)) / (q - p);
    if (Number.isInteger(scale) && PROBES.every((n) => endAt(n) === m + scale * n && probe(ends, n)[1] === endAt(n))) return { kind: "output-crop", of: y, start: m };
  }
  const side = ctx.sizeOf(y.t);
  const symmetric = PROBES.every((n) => probe(ends, n).every((e) => (e < 0 ? e + side(n) : Math.min(e, side(n))) === side(n) - m));
  if (symmetric) return { kind: "image", t: ctx.b.node("Crop", [y.t], { margin: m }), c: y.c };
  throw fail(`starts ${s}, ends [${probe(ends, PROBES[0])}] at a ${PROBES[0]}-pixel input: a crop of equal margins, or the final crop to scale × the image, is supported`);
}

function reshape(ctx: Ctx): Value {
  const { node, fail } = ctx;
  const x = ctx.value(0);
  if (x.kind === "data") {
    if (node.opType === "Reshape") throw fail("reshaping size tensors is not supported");
    const d = ctx.data(x);
    return derived(x, (h, w) => ({ dims: [d(h, w).values.length], values: d(h, w).values }));
  }
  if (x.kind !== "vector") throw fail(`${node.opType} of an image is not supported (of a pooled vector it is)`);
  if (node.opType === "Reshape") {
    const dims = ctx.data(ctx.value(1))(PROBES[0], PROBES[0]).values;
    const known = dims.map((d, i) => (d === 0 ? (i === 1 ? x.c : 1) : d));
    const resolved = known.map((d) => (d === -1 ? x.c / known.filter((e) => e !== -1).reduce((a, e) => a * e, 1) : d));
    if (resolved[0] !== 1 || resolved[1] !== x.c || resolved.slice(2).some((d) => d !== 1)) throw fail(`reshaping a ${x.c}-vector to [${dims}]`);
    return { ...x, rank: resolved.length };
  }
  return { ...x, rank: node.opType === "Flatten" || node.opType === "Squeeze" ? 2 : 4 };
}

function dense(ctx: Ctx): Value {
  const { b, node, fail } = ctx;
  const x = ctx.value(0);
  if (x.kind !== "vector") throw fail("matrix products are supported on a pooled [1, c] vector only (squeeze-excitation)");
  const m = weights(ctx, 1, "the matrix");
  if (m.dims.length !== 2) throw fail(`matrix dimensions [${m.dims}]`);
  const transB = node.opType === "Gemm" && attrNumber(node, "transB", 0, fail) === 1;
  if (node.opType === "Gemm" && attrNumber(node, "transA", 0, fail) !== 0) throw fail("transA is not supported");
  const [K, N] = transB ? [m.dims[1], m.dims[0]] : m.dims;
  if (K !== x.c) throw fail(`a ${m.dims.join("×")} matrix for a ${x.c}-vector`);
  const alpha = node.opType === "Gemm" ? attrNumber(node, "alpha", 1, fail) : 1;
  const matrix = Float32Array.from({ length: K * N }, (_, i) => alpha * (transB ? m.data[(i % N) * K + Math.floor(i / N)] : m.data[i]));
  const roles: Record<string, string> = { matrix0: b.weight([K, N], matrix) };
  if (node.opType === "Gemm" && node.inputs[2]) {
    const beta = attrNumber(node, "beta", 1, fail);
    const c = weights(ctx, 2, "the bias").data;
    if (c.length !== N && c.length !== 1) throw fail(`a bias of ${c.length} values for ${N} outputs`);
    roles.bias = b.weight([N], Float32Array.from({ length: N }, (_, j) => beta * c[c.length === 1 ? 0 : j]));
  }
  return { kind: "vector", t: b.node("Dense", [x.t], { units: N }, roles), c: N, rank: 2 };
}

// ---- arithmetic ----

function arithmetic(ctx: Ctx): Value {
  const { b, node, fail } = ctx;
  const [u, v] = [ctx.value(0), ctx.value(1)];
  if (u.kind === "data" && v.kind === "data") {
    const [f, g] = [ctx.data(u), ctx.data(v)];
    const op = { Add: (p: number, q: number) => p + q, Sub: (p: number, q: number) => p - q, Mul: (p: number, q: number) => p * q,
      Div: (p: number, q: number) => p / q, Mod: (p: number, q: number) => ((p % q) + q) % q }[node.opType]!;
    return derived([u, v], (h, w) => {
      const [p, q] = [f(h, w), g(h, w)];
      const n = Math.max(p.values.length, q.values.length);
      const ints = !p.floats && !q.floats;
      const values = Array.from({ length: n }, (_, i) => {
        const r = op(p.values[p.values.length === 1 ? 0 : i], q.values[q.values.length === 1 ? 0 : i]);
        return ints && node.opType === "Div" ? Math.trunc(r) : r;
      });
      return { dims: n === 1 && p.dims.length === 0 && q.dims.length === 0 ? [] : [n], values };
    });
  }
  const poly = polynomial(ctx, u, v);
  if (poly) return poly;
  if (node.opType === "Mul") {
    const s = scalarOf(v) ?? scalarOf(u);
    if (s !== undefined) return { kind: "scaled", of: ctx.image(scalarOf(v) !== undefined ? u : v), s };
    const [a, c] = v.kind === "vector" && u.kind !== "vector" ? [u, v] : [v, u];
    if (c.kind === "vector") return { kind: "image", t: b.node("Mul", [ctx.image(a).t, c.t]), c: c.c };
    const [p, q] = [ctx.image(u), ctx.image(v)];
    return { kind: "image", t: b.node("Mul", [p.t, q.t]), c: p.c };
  }
  if (node.opType === "Add") {
    if (u.kind === "vector" || v.kind === "vector") {
      const [img, vec] = u.kind === "vector" ? [v, u] : [u, v];
      if (vec.kind !== "vector") throw fail("unsupported");
      if (img.kind === "vector") throw fail("adding two vectors is not supported");
      if (img.kind === "data") {
        // MatMul + Add: the bias of the Dense that alone feeds this Add.
        const bias = img.dynamic ? undefined : img.at(PROBES[0], PROBES[0]);
        const values = bias && (bias.floats ? [...bias.floats] : bias.values);
        const dense = producerOf(b, vec.t);
        const name = node.inputs[u.kind === "vector" ? 0 : 1];
        if (!values || values.length !== vec.c || dense?.op !== "Dense" || dense.weights.bias || (dense.attrs.act ?? "none") !== "none" || ctx.readers.get(name) !== 1) {
          throw fail("a constant added to a pooled vector is supported as the bias of the matrix product that alone feeds it");
        }
        dense.weights.bias = b.weight([vec.c], Float32Array.from(values));
        return vec;
      }
      const x = ctx.image(img);
      // A per-image bias of the convolution that alone feeds this Add: Conv2D's dynamic bias.
      const producer = producerOf(b, x.t);
      const name = node.inputs[u.kind === "vector" ? 1 : 0];
      const before = b.nodes.findIndex((n) => n.output === vec.t) < b.nodes.indexOf(producer!);
      if (producer?.op === "Conv2D" && before && !producer.weights.bias && !producer.attrs.dynamicBias && (producer.attrs.act ?? "none") === "none" && ctx.readers.get(name) === 1) {
        producer.inputs.push(vec.t);
        producer.attrs.dynamicBias = true;
        return x;
      }
      return { kind: "image", t: b.node("Add", [x.t, vec.t]), c: vec.c };
    }
    const part = (w: Value) => (w.kind === "scaled" ? { t: w.of.t, c: w.of.c, s: w.s } : { ...ctx.image(w), s: 1 });
    const [p, q] = [part(u), part(v)];
    const attrs = p.s !== 1 || q.s !== 1 ? { coefficients: [p.s, q.s] } : {};
    return { kind: "image", t: b.node("Add", [p.t, q.t], attrs), c: p.c };
  }
  throw fail(`${node.opType} of images is not supported`);
}

/** The constant's value when it has one element. */
function scalarOf(d: Value): number | undefined {
  if (d.kind !== "data" || d.dynamic) return undefined;
  const values = d.at(PROBES[0], PROBES[0]).values;
  return values.length === 1 ? values[0] : undefined;
}

/** Per-channel constant values (c of them, dims [1, c, 1, 1], [c, 1, 1] or [c]) of a data value, for c > 1. */
function perChannel(d: Value, c: number): number[] | undefined {
  if (d.kind !== "data" || d.dynamic || c < 2) return undefined;
  const { dims, values, floats } = d.at(PROBES[0], PROBES[0]);
  const all = floats ? [...floats] : values;
  return all.length === c && dims.filter((q) => q !== 1).length === 1 ? all : undefined;
}

/**
 * Mul / Add building per-channel polynomials of one tensor (srgan-wasm's spline export): x·a, p + b,
 * p·x. Returns undefined where the operands are something else.
 */
function polynomial(ctx: Ctx, u: Value, v: Value): Poly | undefined {
  const { node } = ctx;
  const base = (w: Value) => (w.kind === "image" || w.kind === "vector" ? w : undefined);
  if (node.opType === "Mul") {
    for (const [p, q, i] of [[u, v, 0], [v, u, 1]] as const) {
      const x = base(p), a = x && perChannel(q, x.c);
      if (x && a) return { kind: "poly", of: x, name: node.inputs[i], coeffs: [a.map(() => 0), a] };
      if (p.kind === "poly" && q === p.of) return { ...p, coeffs: [p.coeffs[0].map(() => 0), ...p.coeffs] };
    }
  }
  if (node.opType === "Add") {
    for (const [p, q] of [[u, v], [v, u]] as const) {
      const b0 = p.kind === "poly" ? perChannel(q, p.of.c) : undefined;
      if (p.kind === "poly" && b0) return { ...p, coeffs: [p.coeffs[0].map((c, i) => c + b0[i]), ...p.coeffs.slice(1)] };
    }
  }
  return undefined;
}

/**
 * srgan-rust's spline from its pieces (x ≤ −1: L·x + …, x ≥ 1: R·x + …, between: a cubic with C·x, as
 * ../formats/onnx-export.ts writes it), folded into the convolution or dense layer that feeds it alone.
 */
function spline(b: GraphBuilder, p: Piecewise, readers: ReadonlyMap<string, number>, fail: (w: string) => Error): Image | Vector {
  const right = p.else.kind === "piecewise" ? p.else : undefined;
  const left = p.then, mid = right?.else, rightPoly = right?.then;
  const wrong = () => fail("a piecewise polynomial other than srgan-rust's spline (as srgan-wasm exports it) is not supported");
  if (p.cond.op !== "<=" || p.cond.v !== -1 || !right || right.cond.op !== ">=" || right.cond.v !== 1 || left.kind !== "poly" || rightPoly?.kind !== "poly" || mid?.kind !== "poly") throw wrong();
  const c = p.of.c;
  const coef = (q: Poly, d: number, i: number) => q.coeffs[d]?.[i] ?? 0;
  const L = Array.from({ length: c }, (_, i) => coef(left, 1, i)), R = Array.from({ length: c }, (_, i) => coef(rightPoly, 1, i)), C = Array.from({ length: c }, (_, i) => coef(mid, 1, i));
  const near = (a: number, e: number) => Math.abs(a - e) <= 1e-6 * Math.max(1, Math.abs(e));
  for (let i = 0; i < c; i++) {
    const ok = left.coeffs.length <= 2 && rightPoly.coeffs.length <= 2 && mid.coeffs.length <= 4 && coef(mid, 0, i) === 0 &&
      near(coef(left, 0, i), (2 / 3) * (0.875 * L[i] + 0.125 * R[i] - C[i])) && near(coef(rightPoly, 0, i), (2 / 3) * (C[i] - 0.125 * L[i] - 0.875 * R[i])) &&
      near(coef(mid, 3, i), (L[i] + R[i]) / 6 - C[i] / 3) && near(coef(mid, 2, i), 0.25 * (R[i] - L[i]));
    if (!ok) throw wrong();
  }
  const table = b.weight([3, c], Float32Array.from([...L, ...C, ...R]));
  // The export's pieces read x seven times: with no other reader, the activation folds into x's producer.
  const producer = producerOf(b, p.of.t);
  if (producer && (producer.op === "Conv2D" || producer.op === "Dense") && (producer.attrs.act ?? "none") === "none" && readers.get(p.name) === 7) {
    producer.attrs.act = "spline";
    producer.weights.spline = table;
    return p.of;
  }
  return { ...p.of, t: b.node("Activation", [p.of.t], { act: "spline" }, { spline: table }) };
}

// ---- resize ----

function resize(ctx: Ctx): Value {
  const { b, node, fail } = ctx;
  const x = ctx.value(0);
  const mode = attrString(node, "mode", "nearest");
  const coords = attrString(node, "coordinate_transformation_mode", "half_pixel");
  const nearest = attrString(node, "nearest_mode", "round_prefer_floor");
  const a = attrNumber(node, "cubic_coeff_a", -0.75, fail);
  if (attrNumber(node, "antialias", 0, fail) !== 0 || attrNumber(node, "exclude_outside", 0, fail) !== 0) throw fail("antialias and exclude_outside are not supported");
  if (ctx.node.inputs.length < 3) throw fail("Resize before opset 11 is not supported");
  const src = x.kind === "mirror" ? x.of : ctx.image(x);
  // The ratio from scales, or from the sizes asked for at two input sizes.
  const scales = ctx.optional(2), sizes = ctx.optional(3);
  let ratio: number;
  const given = scales && ctx.data(scales)(PROBES[0], PROBES[0]).values;
  if (given && given.length === 4) {
    if (given[0] !== 1 || given[1] !== 1 || given[2] !== given[3]) throw fail(`scales [${given}]; equal height and width scales are supported`);
    ratio = given[2];
  } else if (sizes) {
    const side = ctx.sizeOf(src.t), want = ctx.data(sizes);
    const [p, q] = PROBES.map((n) => want(n, n).values[2] / side(n));
    if (p !== q) throw fail("sizes that are not a fixed multiple of the input are not supported");
    ratio = p;
  } else throw fail("neither scales nor sizes");
  const [up, down] = rational(ratio, fail);
  const halfPixel = coords === "half_pixel" || coords === "pytorch_half_pixel";
  let method: string | undefined;
  if (x.kind === "mirror") {
    if (mode === "cubic" && a === -0.5 && halfPixel && down === 1 && x.axes.sort().join() === "2,3") return { kind: "mirrored-resize", of: src, scale: up };
    throw fail("a mirror-padded input is supported only for a bicubic (a = −0.5) enlargement");
  }
  if (mode === "nearest" && ((coords === "asymmetric" && nearest === "floor" && down === 1) || (halfPixel && (nearest === "round_prefer_ceil" || (nearest === "round_prefer_floor" && down === 1))))) method = "nearest";
  else if (mode === "linear" && halfPixel && down === 1) method = "bilinear";
  else if (mode === "cubic" && a === -0.75 && halfPixel) method = "cubic";
  if (!method) throw fail(`mode ${mode} (${coords}${mode === "nearest" ? `, ${nearest}` : mode === "cubic" ? `, a = ${a}` : ""}) at ${up}/${down}; supported: nearest, linear (half_pixel, enlarging) and cubic (a = −0.75, half_pixel)`);
  if (down > 1) {
    // Ours gives ⌈n·up/down⌉ pixels, ONNX ⌊n·scale⌋: equal only where n·up/down is whole.
    const side = ctx.sizeOf(src.t);
    if (PROBES.some((n) => (side(n) * up) % down !== 0)) throw fail(`resizing by ${up}/${down} an input whose size is not a multiple of ${down}`);
  }
  return { kind: "image", t: b.node("Resize", [src.t], { method, ...(up !== 1 ? { scale: up } : {}), ...(down !== 1 ? { factor: down } : {}) }), c: src.c };
}

/** A scale as a ratio of small integers (0.75 = 3/4). */
function rational(x: number, fail: (what: string) => Error): [number, number] {
  for (let down = 1; down <= 16; down++) {
    const up = Math.round(x * down);
    if (up >= 1 && up <= 16 && Math.abs(up / down - x) < 1e-6) return [up, down];
  }
  throw fail(`scale ${x} is not a ratio of integers up to 16`);
}
