// SPDX-License-Identifier: MIT
// An ncnn network (src/model/formats/ncnn.ts) as our graph, layer by layer: Convolution (stride 1, or a
// stride-k k×k one as SpaceToDepth + 1×1), Deconvolution (as a convolution + PixelShuffle), PReLU, ReLU,
// Sigmoid, InnerProduct, global average Pooling, Scale and BinaryOp products (squeeze-excitation),
// Eltwise and BinaryOp sums, Crop, Interp, PixelShuffle, Concat and Split. Activations fold into the
// convolution before them, and a Concat read only by a convolution becomes that convolution's inputs.
//
// The border the network expects comes from what it is (see docs/formats.md): networks whose
// convolutions do not pad (waifu2x's, Real-CUGAN's) shrink, and get their shrink back as a replicated
// border (waifu2x-ncnn-vulkan) or a reflected one (Real-CUGAN: its squeeze-excitation is BinaryOp, where
// waifu2x's CUNet uses Scale); padded ones (Real-ESRGAN) see the image as it is. Real-CUGAN's ×4
// networks add the input, enlarged by nearest neighbour, outside the graph in realcugan-ncnn-vulkan's
// shader: that Add is part of the graph here.
import { ModelFormatError } from "../../errors.js";
import type { NcnnNetwork, NcnnParamValue, NcnnWeightedLayer } from "../formats/ncnn.js";
import { inferShapes, validateGraph } from "../graph.js";
import type { ValidatedGraph } from "../types.js";
import { deconvAsConv, GraphBuilder, nameOf, repeatEach, smallestAlign, type ConvOptions } from "./build.js";

type Act = Pick<ConvOptions, "act" | "alpha" | "slope">;

/** Converts a decoded ncnn network; `label` names the file in errors. */
export function ncnnGraph(net: NcnnNetwork, label: string): ValidatedGraph {
  const fail = (layer: NcnnWeightedLayer, what: string) => new ModelFormatError(`${label}: layer '${layer.name}' (${layer.type}, line ${layer.line}): ${what}`);
  const layers = net.layers;
  // A Split's outputs are its input under other names: resolve every blob to the one a layer wrote.
  const canonical = new Map<string, string>();
  for (const l of layers) if (l.type === "Split") for (const o of l.outputs) canonical.set(o, canon(l.inputs[0]));
  function canon(blob: string): string { return canonical.get(blob) ?? blob; }
  // Who reads each blob (Split itself aside).
  const readers = new Map<string, NcnnWeightedLayer[]>();
  for (const l of layers) if (l.type !== "Split") for (const i of l.inputs) readers.set(canon(i), [...(readers.get(canon(i)) ?? []), l]);
  const soleReader = (blob: string) => { const r = readers.get(blob); return r?.length === 1 ? r[0] : undefined; };

  const b = new GraphBuilder("x");
  const tensor = new Map<string, string>();
  const channels = new Map<string, number>();
  const t = (blob: string) => {
    const name = tensor.get(canon(blob));
    if (name === undefined) throw new ModelFormatError(`${label}: blob '${blob}' is read before any layer writes it`);
    return name;
  };
  const cOf = (blob: string) => channels.get(canon(blob))!;
  const set = (blob: string, name: string, c: number) => { tensor.set(blob, name); channels.set(blob, c); };
  // Layers folded into another (an activation into its convolution), and concatenations a convolution reads directly.
  const folded = new Set<NcnnWeightedLayer>();
  const concatInputs = new Map<string, readonly string[]>();

  /**
   * A convolution's activation: its own (9 = type, 10 = params), or, when it has none and its output's
   * only reader is a PReLU / ReLU / Sigmoid, that one's, folded in. Returns the blob that then holds
   * the activated output.
   */
  const activation = (layer: NcnnWeightedLayer, p: Params, c: number): { blob: string; opts: Act } => {
    const own = activationOf(p, (w) => fail(layer, w));
    const next = soleReader(layer.outputs[0]);
    if (own.act !== "none" || !next || !ACTIVATION_LAYERS.includes(next.type)) return { blob: layer.outputs[0], opts: own };
    folded.add(next);
    const { attrs, slope } = activationLayer(next, params(next), c, (w) => fail(next, w));
    return { blob: next.outputs[0], opts: { act: attrs.act, alpha: attrs.alpha, slope } };
  };

  let hasInput = false;
  for (const layer of layers) {
    if (folded.has(layer)) continue;
    const p = params(layer);
    const out = layer.outputs[0];
    switch (layer.type) {
      case "Input":
        if (hasInput) throw fail(layer, "a second input; networks with one RGB input are supported");
        hasInput = true;
        set(out, "x", 3);
        break;
      case "Split":
        break;
      case "Concat": {
        if (p.int(0, 0) !== 0) throw fail(layer, `concatenation along axis ${p.int(0, 0)}; only channels (axis 0) are supported`);
        const c = layer.inputs.reduce((s, i) => s + cOf(i), 0);
        // Read only by a stride-1 convolution: that convolution takes the inputs itself (Conv2D sums a
        // kernel per input), which needs no copy.
        const reader = soleReader(out);
        if (reader?.type === "Convolution" && params(reader).int(3, 1) === 1) { concatInputs.set(out, layer.inputs); channels.set(out, c); }
        else set(out, b.node("Concat", layer.inputs.map(t)), c);
        break;
      }
      case "Convolution": {
        const cout = p.int(0);
        const k = p.int(1), s = p.int(3, 1);
        if (p.int(11, k) !== k || p.int(13, s) !== s) throw fail(layer, "non-square kernels or strides are not supported");
        if (p.int(2, 1) !== 1 || p.int(12, 1) !== 1) throw fail(layer, "dilated convolution is not supported");
        const pad = symmetricPad(p, (w) => fail(layer, w));
        const ins = concatInputs.get(canon(layer.inputs[0])) ?? layer.inputs;
        const cins = ins.map(cOf);
        const cin = cins.reduce((a, c) => a + c, 0);
        const weight = layer.weights.get("weight")!;
        if (weight.length !== cout * cin * k * k) throw fail(layer, `${weight.length} weights for ${cout}×${cin}×${k}×${k}`);
        const { blob, opts } = activation(layer, p, cout);
        const bias = layer.weights.get("bias");
        if (s === 1) {
          if (k % 2 === 0 || pad > k >> 1) throw fail(layer, `a ${k}×${k} kernel with padding ${pad}; odd kernels padded at most k/2 are supported`);
          set(blob, b.conv(ins.map(t), cins, weight, cout, k, { pad, bias, ...opts }), cout);
        } else if (s === k && pad === 0 && ins.length === 1) {
          // Stride k over k×k windows: each window's pixels as channels in PyTorch's pixel_unshuffle order
          // (channel·k² + ky·k + kx, which is the weight's own [cin][ky][kx] order), then a 1×1 convolution.
          const d = b.node("SpaceToDepth", [t(ins[0])], { r: k, order: "torch" });
          set(blob, b.conv([d], [cin * k * k], weight, cout, 1, { bias, ...opts }), cout);
        } else throw fail(layer, `stride ${s} with a ${k}×${k} kernel and padding ${pad}; stride 1, or stride = kernel without padding, is supported`);
        break;
      }
      case "Deconvolution": {
        const cout = p.int(0);
        const k = p.int(1), s = p.int(3, 1);
        if (p.int(11, k) !== k || p.int(13, s) !== s || p.int(2, 1) !== 1) throw fail(layer, "non-square or dilated transposed convolution is not supported");
        const pad = symmetricPad(p, (w) => fail(layer, w));
        if (p.int(18, 0) !== 0 || p.int(19, 0) !== 0 || p.int(20, 0) !== 0 || p.int(21, 0) !== 0) throw fail(layer, "output padding or fixed output sizes are not supported");
        const cin = cOf(layer.inputs[0]);
        const weight = layer.weights.get("weight")!;
        if (weight.length !== cout * cin * k * k) throw fail(layer, `${weight.length} weights for ${cout}×${cin}×${k}×${k}`);
        let conv;
        try {
          conv = deconvAsConv(weight, cout, cin, k, s, pad, (n) => (n - 1) * s + k - 2 * pad);
        } catch (e) {
          throw fail(layer, (e as Error).message);
        }
        const { blob, opts } = activation(layer, p, cout);
        const bias = layer.weights.get("bias");
        // Activations are per channel and the shuffle a permutation: they run on the convolution's phases.
        const phases = b.conv([t(layer.inputs[0])], [cin], conv.weight, cout * s * s, conv.k, {
          pad: conv.pad, bias: bias && repeatEach(bias, s * s), ...opts, slope: opts.slope && repeatEach(opts.slope, s * s),
        });
        set(blob, b.node("PixelShuffle", [phases], { r: s, order: "torch" }), cout);
        break;
      }
      case "PReLU": case "ReLU": case "Sigmoid": {
        const c = cOf(layer.inputs[0]);
        const { attrs, slope } = activationLayer(layer, p, c, (w) => fail(layer, w));
        set(out, b.node("Activation", [t(layer.inputs[0])], attrs, slope ? { slope: b.weight([c], slope) } : {}), c);
        break;
      }
      case "InnerProduct": {
        const n = p.int(0);
        const k = cOf(layer.inputs[0]);
        const weight = layer.weights.get("weight")!;
        if (weight.length !== n * k) throw fail(layer, `${weight.length} weights for ${n}×${k} (the input must be a [1, 1, c] vector: a global pooling)`);
        const { act, alpha } = activationOf(p, (w) => fail(layer, w));
        // ncnn's [out][in] becomes our input-major [in][out].
        const matrix = Float32Array.from({ length: n * k }, (_, i) => weight[(i % n) * k + Math.floor(i / n)]);
        const roles: Record<string, string> = { matrix0: b.weight([k, n], matrix) };
        const bias = layer.weights.get("bias");
        if (bias) roles.bias = b.weight([n], bias);
        set(out, b.node("Dense", [t(layer.inputs[0])], { units: n, act, ...(act === "leaky" ? { alpha } : {}) }, roles), n);
        break;
      }
      case "Pooling":
        if (p.int(0, 0) !== 1 || p.int(4, 0) !== 1) throw fail(layer, "only global average pooling (0=1 4=1) is supported");
        set(out, b.node("GlobalMean", [t(layer.inputs[0])]), cOf(layer.inputs[0]));
        break;
      case "Scale":
        if (p.int(0, 0) !== -233 || layer.inputs.length !== 2) throw fail(layer, "only Scale by a second input (0=-233) is supported");
        set(out, b.node("Mul", layer.inputs.map(t)), cOf(layer.inputs[0]));
        break;
      case "BinaryOp": {
        const op = p.int(0, 0);
        if (layer.inputs.length !== 2 || p.int(1, 0) !== 0) throw fail(layer, "only BinaryOp on two blobs is supported");
        if (op !== 0 && op !== 2) throw fail(layer, `BinaryOp op_type ${op}; add (0) and mul (2) are supported`);
        set(out, b.node(op === 0 ? "Add" : "Mul", layer.inputs.map(t)), cOf(layer.inputs[0]));
        break;
      }
      case "Eltwise": {
        if (p.int(0, 1) !== 1 || layer.inputs.length !== 2) throw fail(layer, "only Eltwise sums of two blobs (0=1) are supported");
        const co = p.floats(1);
        const attrs = co && (co[0] !== 1 || co[1] !== 1) ? { coefficients: [co[0], co[1]] } : {};
        set(out, b.node("Add", layer.inputs.map(t), attrs), cOf(layer.inputs[0]));
        break;
      }
      case "Crop":
        set(out, b.node("Crop", [t(layer.inputs[0])], { margin: cropMargin(layer, p, (w) => fail(layer, w)) }), cOf(layer.inputs[0]));
        break;
      case "Interp": {
        if (p.int(6, 0) !== 0 || p.int(3, 0) !== 0 || p.int(4, 0) !== 0) throw fail(layer, "align_corner and fixed output sizes are not supported");
        const hs = p.float(1, 1), ws = p.float(2, 1);
        if (hs !== ws) throw fail(layer, `different height and width scales (${hs}, ${ws})`);
        const [scale, factor] = ratio(hs, (w) => fail(layer, w));
        const type = p.int(0, 0);
        const method = type === 1 && factor === 1 ? "nearest" : type === 3 ? "cubic" : type === 2 && factor === 1 ? "bilinear" : undefined;
        if (!method) throw fail(layer, `resize_type ${type} at scale ${hs}; nearest and bilinear enlarging, and bicubic, are supported`);
        set(out, b.node("Resize", [t(layer.inputs[0])], { method, ...(scale !== 1 ? { scale } : {}), ...(factor !== 1 ? { factor } : {}) }), cOf(layer.inputs[0]));
        break;
      }
      case "PixelShuffle": {
        const r = p.int(0, 1);
        set(out, b.node("PixelShuffle", [t(layer.inputs[0])], { r, order: p.int(1, 0) === 0 ? "torch" : "tf" }), cOf(layer.inputs[0]) / (r * r));
        break;
      }
      default:
        throw fail(layer, `layer type ${layer.type} is not supported (supported: ${SUPPORTED.join(", ")})`);
    }
  }
  if (!hasInput) throw new ModelFormatError(`${label}: the network has no Input layer`);
  // The output: the one blob written and never read.
  const outputs = [...tensor.keys()].filter((blob) => !readers.has(blob));
  if (outputs.length !== 1) throw new ModelFormatError(`${label}: the network has ${outputs.length} outputs (${outputs.join(", ")}); one is supported`);
  let y = tensor.get(outputs[0])!;

  const family = familyOf(layers);
  const meta = { source: "ncnn", family };
  const name = nameOf(label, family);
  // Scale and shrink from the output at two input sizes: out = scale·(n − 2·shrink).
  const [a, c] = [840, 1680].map((n) => ({ n, out: inferShapes(b.graph({ name, scale: 1, output: y, meta }), n).get(y)! }));
  const scale = (c.out.h - a.out.h) / (c.n - a.n);
  const shrink = (a.n - a.out.h / scale) / 2;
  if (a.out.c !== 3) throw new ModelFormatError(`${label}: the network's output has ${a.out.c} channels; RGB (3) is supported`);
  if (!Number.isInteger(scale) || scale < 1 || !Number.isInteger(shrink) || shrink < 0) {
    throw new ModelFormatError(`${label}: the network does not upscale by an integer factor (output ${a.out.h} for input ${a.n})`);
  }
  if (family === "Real-CUGAN" && scale === 4) {
    // realcugan-ncnn-vulkan adds the input, enlarged ×4 by nearest neighbour, after the graph.
    const up = b.node("Resize", ["x"], { method: "nearest", scale });
    y = b.node("Add", [y, shrink ? b.node("Crop", [up], { margin: shrink * scale }) : up]);
  }
  const inputPad = shrink > 0 ? { mode: family === "Real-CUGAN" ? "reflect" as const : "edge" as const, size: shrink } : undefined;
  const g = b.graph({ name, scale, output: y, inputPad, meta });
  const align = smallestAlign((n) => { try { inferShapes(g, n); return true; } catch { return false; } });
  return validateGraph({ ...g, align });
}

const ACTIVATION_LAYERS = ["PReLU", "ReLU", "Sigmoid"];
const SUPPORTED = ["Input", "Split", "Convolution", "Deconvolution", "PReLU", "ReLU", "Sigmoid", "InnerProduct", "Pooling", "Scale",
  "BinaryOp", "Eltwise", "Crop", "Interp", "PixelShuffle", "Concat"];

/** What the network is, from its layer types (for `srgan info`, and the border it expects). */
function familyOf(layers: readonly NcnnWeightedLayer[]): string {
  const kinds = new Set(layers.map((l) => l.type));
  // Unpadded k > 1 convolutions of stride 1: the network shrinks (waifu2x, Real-CUGAN).
  const shrinks = layers.some((l) => l.type === "Convolution" && (l.params.get(1) as number) > 1 && (l.params.get(3) ?? 1) === 1 && (l.params.get(4) ?? 0) === 0);
  if (kinds.has("Pooling")) return kinds.has("Scale") ? "waifu2x CUNet" : "Real-CUGAN";
  if (shrinks) return "waifu2x UpConv7";
  if (kinds.has("Concat") && kinds.has("Eltwise")) return "Real-ESRGAN RRDBNet";
  if (kinds.has("PReLU") && kinds.has("PixelShuffle")) return "Real-ESRGAN SRVGGNetCompact";
  return "ncnn network";
}

/** Typed access to a layer's params with ncnn's defaults. */
function params(layer: NcnnWeightedLayer) {
  const get = (id: number): NcnnParamValue | undefined => layer.params.get(id);
  return {
    int(id: number, fallback?: number): number {
      const v = get(id) ?? fallback;
      if (typeof v !== "number") throw new ModelFormatError(`layer '${layer.name}': param ${id} ${v === undefined ? "is missing" : "is not a number"}`);
      return v;
    },
    float(id: number, fallback: number): number {
      const v = get(id) ?? fallback;
      if (typeof v !== "number") throw new ModelFormatError(`layer '${layer.name}': param ${id} is not a number`);
      return v;
    },
    floats(id: number): number[] | undefined {
      const v = get(id);
      return Array.isArray(v) ? v : undefined;
    },
  };
}
type Params = ReturnType<typeof params>;

/** pad_left (4), right (15), top (14), bottom (16), which must agree ("same" padding, −233, is refused with the rest). */
function symmetricPad(p: Params, fail: (what: string) => Error): number {
  const left = p.int(4, 0), right = p.int(15, left), top = p.int(14, left), bottom = p.int(16, top);
  if (left !== right || left !== top || left !== bottom || left < 0) throw fail(`padding ${left}, ${right}, ${top}, ${bottom}; equal non-negative padding on every side is supported`);
  return left;
}

/** A layer's own activation (9 = type, 10 = params): 0 none, 1 ReLU, 2 LeakyReLU, 4 sigmoid. */
function activationOf(p: Params, fail: (what: string) => Error): { act: "none" | "relu" | "leaky" | "sigmoid"; alpha?: number } {
  const type = p.int(9, 0);
  if (type === 0) return { act: "none" };
  if (type === 1) return { act: "relu" };
  if (type === 2) return { act: "leaky", alpha: p.floats(10)?.[0] ?? 0 };
  if (type === 4) return { act: "sigmoid" };
  throw fail(`activation_type ${type}; none, ReLU, LeakyReLU and sigmoid are supported`);
}

/** A PReLU / ReLU / Sigmoid layer as an activation: its attrs and, for PReLU, the per-channel slopes. */
function activationLayer(layer: NcnnWeightedLayer, p: Params, c: number, fail: (what: string) => Error): { attrs: { act: "relu" | "leaky" | "prelu" | "sigmoid"; alpha?: number }; slope?: Float32Array } {
  if (layer.type === "Sigmoid") return { attrs: { act: "sigmoid" } };
  if (layer.type === "ReLU") {
    const slope = p.float(0, 0);
    return { attrs: slope === 0 ? { act: "relu" } : { act: "leaky", alpha: slope } };
  }
  const slope = layer.weights.get("slope")!;
  if (slope.length !== c && slope.length !== 1) throw fail(`${slope.length} slopes for ${c} channels`);
  return { attrs: { act: "prelu" }, slope: slope.length === c ? slope : new Float32Array(c).fill(slope[0]) };
}

/** The margin of a symmetric spatial crop, in either of ncnn's two Crop forms. */
function cropMargin(layer: NcnnWeightedLayer, p: Params, fail: (what: string) => Error): number {
  const starts = p.floats(9), ends = p.floats(10), axes = p.floats(11);
  if (starts || ends) {
    // numpy-style: starts / ends (negative from the end) on axes; spatial axes are 1, 2 (or −2, −1).
    const spatial = (axes ?? []).map((a) => (a < 0 ? a + 3 : a));
    if (!starts || !ends || spatial.length !== 2 || !spatial.includes(1) || !spatial.includes(2)) throw fail("only crops of both spatial axes are supported");
    const m = starts[0];
    if (!starts.every((s) => s === m) || !ends.every((e) => e === -m) || m < 0) throw fail(`starts ${starts} / ends ${ends}; equal margins on every side are supported`);
    return m;
  }
  if (layer.inputs.length === 2) {
    // To the size of the second blob at offsets (0=woffset, 1=hoffset): symmetric when the sizes differ by twice the offset (checked by validation).
    const w = p.int(0, 0), h = p.int(1, 0);
    if (w !== h) throw fail(`offsets ${w}, ${h}; equal offsets are supported`);
    return w;
  }
  throw fail("this Crop form is not supported");
}

/** An Interp scale as a ratio of small integers (0.75 = 3/4). */
function ratio(x: number, fail: (what: string) => Error): [number, number] {
  for (let down = 1; down <= 16; down++) {
    const up = Math.round(x * down);
    if (up >= 1 && up <= 16 && Math.abs(up / down - x) < 1e-6) return [up, down];
  }
  throw fail(`scale ${x} is not a ratio of integers up to 16`);
}
