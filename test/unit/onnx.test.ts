// ONNX in and out. Export: every op-corpus case (test/ops/cases.ts) written as ONNX and run in
// onnxruntime-web computes what our reference ops compute, or is refused naming its node where ONNX
// cannot express it exactly. Import: our export reads back as the graph it was written from; a model
// made independently by PyTorch (test/fixtures/onnx/make-torch-onnx.py) computes its golden; bad files
// and unsupported operators give ERR_MODEL_FORMAT naming what is wrong.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { caseInput, caseNames, opCase, reference } from "../ops/cases.js";
import { encodeOnnx } from "../../src/model/formats/onnx-export.js";
import { decodeOnnx } from "../../src/model/formats/onnx.js";
import { sniff } from "../../src/model/formats/onnx-sniff.js";
import { decodeModel, encodeModel, tensorValueInfo, type AttributeInit, type GraphInit, type NodeInit, type ValueInfoProto } from "../../src/model/formats/onnx-proto.js";
import { decodeNetworkFiles, formatOf } from "../../src/model/network-formats.js";
import { builtinGraph } from "../../src/model/builtin.js";
import { validateGraph } from "../../src/model/graph.js";
import { ModelFormatError, SrganError } from "../../src/errors.js";
import { runOnnx } from "../onnx-runtime.js";
import { borderIndex } from "../../src/image/border.js";
import { virtualExtent } from "../../src/runtime/tiler.js";
import type { ValidatedGraph } from "../../src/model/types.js";
import { assertClose, randomArray, rng } from "../helpers.js";

const test = suite("onnx");
const FIXTURES = fileURLToPath(new URL("../fixtures/onnx/", import.meta.url));

/**
 * The reference ops on the image as the upscaler extends it (inputPad, align), cropped to scale × the
 * image: what an exported model computes from the image itself.
 */
function extendedReference(g: ValidatedGraph, x: Float32Array, h: number, w: number): { data: Float32Array; shape: { h: number; w: number; c: number } } {
  const c = g.channels ?? 3, E = g.inputPad?.size ?? 0, mode = g.inputPad?.mode ?? "zero";
  const vy = virtualExtent(h, E, g.align), vx = virtualExtent(w, E, g.align);
  const [vh, vw] = [vy.end - vy.start, vx.end - vx.start];
  const ext = new Float32Array(vh * vw * c);
  for (let y = 0; y < vh; y++) for (let xx = 0; xx < vw; xx++) {
    const sy = borderIndex(y + vy.start, h, mode), sx = borderIndex(xx + vx.start, w, mode);
    if (sy >= 0 && sx >= 0) ext.set(x.subarray((sy * w + sx) * c, (sy * w + sx + 1) * c), (y * vw + xx) * c);
  }
  const full = reference(g, ext, vh, vw);
  const s = g.scale, off = (E - g.shrink) * s, H = h * s, W = w * s, oc = full.shape.c;
  const data = new Float32Array(H * W * oc);
  for (let r = 0; r < H; r++) data.set(full.data.subarray(((r + off) * full.shape.w + off) * oc, ((r + off) * full.shape.w + off + W) * oc), r * W * oc);
  return { data, shape: { h: H, w: W, c: oc } };
}

/** Corpus cases ONNX cannot express exactly: antialiased (MATLAB) shrinking, and ratios whose sizes ONNX would round otherwise. */
const REFUSED = /^resize (bilinear|bicubic|box)$|shrink odd sizes$/;

test("every op-corpus case runs in onnxruntime-web as our reference ops compute it, or is refused naming its node", async () => {
  for (const name of caseNames()) {
    const c = opCase(name);
    let model: Uint8Array;
    try {
      model = encodeOnnx(c.graph);
    } catch (e) {
      assert.ok(REFUSED.test(name), `${name}: refused: ${(e as Error).message}`);
      assert.is((e as SrganError).code, "ERR_UNSUPPORTED");
      assert.match((e as Error).message, /^ONNX export: Resize node '/);
      continue;
    }
    assert.not.ok(REFUSED.test(name), `${name} was expected to be refused`);
    const ch = c.graph.channels ?? 3;
    for (const [h, w] of c.sizes) {
      const x = caseInput(c, h, w);
      const want = c.graph.inputPad || c.graph.align ? extendedReference(c.graph, x, h, w) : reference(c.graph, x, h, w);
      const got = await runOnnx(model, x, h, w, ch);
      assert.equal([got.h, got.w, got.c], [want.shape.h, want.shape.w, want.shape.c], `${name} ${h}×${w} shape`);
      assertClose(got.data, want.data, 2e-5, `${name} ${h}×${w}`);
    }
  }
});

// Bit for bit on the wasm kernels (test/integration/onnx-networks.test.ts); the float64 reference ops
// read attrs.alpha as given, which ONNX stores as float32, hence the tolerance here.
test("round trip: every exported RGB corpus case imports back to the same ops, weights and outputs", async () => {
  for (const name of caseNames()) {
    const c = opCase(name);
    if ((c.graph.channels ?? 3) !== 3 || REFUSED.test(name)) continue;
    try { validateGraph(c.graph); } catch { continue; } // an op probe that is no network (e.g. a crop with nothing to give its pixels back)
    const back = await decodeNetworkFiles({ main: encodeOnnx(c.graph) }, `${name}.onnx`);
    // An Activation 'none' is no ONNX node, and a Concat read by a convolution comes back as that
    // convolution's inputs (as the importers make it): the rest is the same list.
    const ops = (g: ValidatedGraph) => g.nodes.filter((n) => n.op !== "Concat" && (n.op !== "Activation" || n.attrs.act !== "none")).map((n) => n.op);
    assert.equal(ops(back), ops(c.graph), `${name}: ops`);
    assert.equal([back.scale, back.shrink, back.inputPad, back.align ?? 1], [c.graph.scale, c.graph.shrink, c.graph.inputPad, c.graph.align ?? 1], `${name}: geometry`);
    assert.is(back.parameterCount, c.graph.parameterCount, `${name}: parameters`);
    for (const [h, w] of c.sizes) {
      const x = caseInput(c, h, w);
      assertClose(reference(back, x, h, w).data, reference(c.graph, x, h, w).data, 1e-6, `${name} ${h}×${w}`);
    }
  }
});

test("a model made by torch.onnx.export (independent of our exporter) computes PyTorch's golden output", async () => {
  const bytes = readFileSync(`${FIXTURES}tiny-torch.onnx`);
  assert.is(formatOf(bytes)?.name, "ONNX");
  const g = await decodeNetworkFiles({ main: bytes }, "tiny-torch.onnx");
  assert.is(g.scale, 4);
  assert.ok(g.global, "squeeze-excitation makes it a whole-image network");
  // Activations folded into their convolutions and dense layers; ConvTranspose as conv + PixelShuffle; stride-2 conv as SpaceToDepth + 1×1.
  assert.equal(g.nodes.map((n) => n.op + (n.attrs.act && n.attrs.act !== "none" ? `:${n.attrs.act}` : "")).join(" "),
    "Conv2D:prelu Conv2D:leaky Conv2D Add GlobalMean Dense:relu Dense:sigmoid Mul SpaceToDepth Conv2D Conv2D PixelShuffle Activation:relu Add Conv2D PixelShuffle Resize Conv2D Resize Add");
  const golden = JSON.parse(readFileSync(`${FIXTURES}tiny-torch.golden.json`, "utf8")) as { input: { shape: number[]; data: number[] }; output: { shape: number[]; data: number[] } };
  const [, , h, w] = golden.input.shape, [, , H, W] = golden.output.shape;
  const fromNchw = (d: number[], hh: number, ww: number) => Float32Array.from({ length: hh * ww * 3 }, (_, i) => d[(i % 3) * hh * ww + Math.floor(i / 3)]);
  const y = reference(g, fromNchw(golden.input.data, h, w), h, w);
  assert.equal([y.shape.h, y.shape.w], [H, W]);
  assertClose(y.data, fromNchw(golden.output.data, H, W), 1e-5, "tiny-torch");
});

test("squeeze-excitation written with MatMul + Add (bias), Reshape and a per-channel gate imports as GlobalMean, Dense, Mul", async () => {
  const r = rng(7);
  const w = randomArray(9, r), bias = randomArray(3, r);
  const bytes = model([
    { opType: "GlobalAveragePool", input: ["input"], output: ["m"] },
    { opType: "Flatten", input: ["m"], output: ["f"], attribute: [{ name: "axis", type: 2, i: 1n }] },
    { opType: "MatMul", input: ["f", "w"], output: ["p"] },
    { opType: "Add", input: ["p", "b"], output: ["q"] },
    { opType: "Sigmoid", input: ["q"], output: ["s"] },
    { opType: "Reshape", input: ["s", "shape"], output: ["g"] },
    { opType: "Mul", input: ["input", "g"], output: ["output"] },
  ], { initializer: [
    { name: "w", dims: [3n, 3n], dataType: 1, floatData: [...w] },
    { name: "b", dims: [3n], dataType: 1, floatData: [...bias] },
    { name: "shape", dims: [4n], dataType: 7, int64Data: [1n, -1n, 1n, 1n] },
  ] });
  const g = await decodeNetworkFiles({ main: bytes }, "se.onnx");
  assert.equal(g.nodes.map((n) => n.op + (n.attrs.act && n.attrs.act !== "none" ? `:${n.attrs.act}` : "")), ["GlobalMean", "Dense:sigmoid", "Mul"]);
  const x = Float32Array.from({ length: 5 * 6 * 3 }, (_, i) => (i % 7) / 7);
  const y = reference(g, x, 5, 6).data;
  const mean = [0, 1, 2].map((k) => x.filter((_, i) => i % 3 === k).reduce((a, v) => a + v, 0) / 30);
  const gate = [0, 1, 2].map((j) => 1 / (1 + Math.exp(-(bias[j] + [0, 1, 2].reduce((a, q) => a + mean[q] * w[q * 3 + j], 0)))));
  assertClose(y, x.map((v, i) => v * gate[i % 3]), 1e-6, "gated");
});

test("convert's output names every dimension: input [1, 3, height, width], opset 13", () => {
  const m = decodeModel(encodeOnnx(validateGraph(builtinGraph("bicubic", 3)!)));
  assert.is(m.opsetImport[0].version, 13n);
  const dims = (v: ValueInfoProto) => v.type?.value.case !== "tensorType" ? undefined
    : v.type.value.value.shape?.dim.map(({ value: d }) => d.case === "dimValue" ? Number(d.value) : d.value);
  const { input, output } = m.graph!;
  assert.equal(dims(input[0]), [1, 3, "height", "width"]);
  assert.equal(dims(output[0]), [1, 3, "out_height", "out_width"]);
  assert.equal([input[0].name, output[0].name], ["input", "output"]);
});

// ---- bad files ----

/** A small valid ONNX model (our bicubic ×2) to damage. */
const small = () => encodeOnnx(validateGraph(builtinGraph("bicubic", 2)!));

/** An ONNX model of the given nodes on input 'input' [1, 3, h, w] and output 'output'. */
function model(nodes: NodeInit[], extra: GraphInit = {}): Uint8Array {
  const vi = (name: string) => tensorValueInfo(name, [1, 3, "h", "w"]);
  return encodeModel({ irVersion: 7n, opsetImport: [{ version: 13n }], graph: { node: nodes, input: [vi("input")], output: [vi("output")], ...extra } });
}

async function refused(bytes: Uint8Array, message: RegExp): Promise<void> {
  try {
    await decodeNetworkFiles({ main: bytes }, "bad.onnx");
  } catch (e) {
    assert.instance(e, ModelFormatError);
    assert.match((e as Error).message, message);
    return;
  }
  assert.unreachable(`accepted, expected ${message}`);
}

test("an unsupported operator is refused naming the operator and the node", async () => {
  await refused(model([{ opType: "Tanh", name: "squash", input: ["input"], output: ["output"] }]), /^bad\.onnx: node 'squash' \(Tanh\): operator Tanh is not supported \(supported: Conv, ConvTranspose/);
  await refused(model([{ opType: "Relu", name: "r", domain: "com.microsoft", input: ["input"], output: ["output"] }]), /node 'r' \(Relu\): operator domain 'com\.microsoft'/);
});

test("shapes and layouts outside what runs here are refused clearly", async () => {
  const conv = (attrs: AttributeInit[], k = 3) => model([{ opType: "Conv", name: "c", input: ["input", "w"], output: ["output"], attribute: attrs }],
    { initializer: [{ name: "w", dims: [3n, 3n, BigInt(k), BigInt(k)], dataType: 1, floatData: Array(9 * k * k).fill(0.1) }] });
  await refused(conv([{ name: "pads", type: 7, ints: [0n, 1n, 0n, 1n] }]), /node 'c' \(Conv\): padding 0,1,0,1; equal non-negative padding/);
  await refused(conv([{ name: "dilations", type: 7, ints: [2n, 2n] }]), /dilated convolution is not supported/);
  await refused(conv([]), /^bad\.onnx: the output: the network loses 1 pixels per side \(unpadded operations\) and pads 0 back/);
  await refused(conv([{ name: "strides", type: 7, ints: [2n, 2n] }, { name: "pads", type: 7, ints: [1n, 1n, 1n, 1n] }]), /stride 2 with a 3×3 kernel and padding 1/);
  const nhwc = encodeModel({ irVersion: 7n, opsetImport: [{ version: 13n }], graph: {
    node: [{ opType: "Identity", input: ["input"], output: ["output"] }],
    input: [tensorValueInfo("input", [1, "h", "w", 3])],
    output: [{ name: "output" }] } });
  await refused(nhwc, /the input 'input' has dimensions \[1,h,w,3\]; an NCHW RGB image/);
  const external = model([{ opType: "Identity", input: ["input"], output: ["output"] }], { initializer: [{ name: "w", dims: [3n], dataType: 1, dataLocation: 1 }] });
  await refused(external, /tensor 'w' is stored outside the file \(external data\)/);
  const short = model([{ opType: "Identity", input: ["input"], output: ["output"] }], { initializer: [{ name: "w", dims: [4n, 4n], dataType: 1, rawData: new Uint8Array(60) }] });
  await refused(short, /tensor 'w' has 15 4-byte elements for dimensions \[4,4\] \(16; truncated or corrupt\)/);
});

test("every truncation of a model is refused with ERR_MODEL_FORMAT (or still decodes the same network)", async () => {
  const bytes = small();
  for (let n = 0; n < bytes.length; n++) {
    try {
      await decodeNetworkFiles({ main: bytes.subarray(0, n) }, "cut.onnx");
    } catch (e) {
      assert.instance(e, SrganError, `cut at ${n}: ${(e as Error).message}`);
      assert.is((e as SrganError).code, "ERR_MODEL_FORMAT", `cut at ${n}`);
      continue;
    }
    // protobuf has no end marker: a cut after the last field that matters leaves a whole model.
    assert.ok(n > bytes.length - 64, `cut at ${n} of ${bytes.length} decoded`);
  }
});

test("sniff: ONNX models yes; the other formats and random bytes no", () => {
  assert.ok(sniff(small()));
  assert.ok(sniff(readFileSync(`${FIXTURES}tiny-torch.onnx`)));
  const r = rng(24);
  for (let i = 0; i < 200; i++) {
    const b = Uint8Array.from(randomArray(64, r, 0, 256), Math.floor);
    if (sniff(b)) assert.is(b[0], 0x08);
  }
  assert.not.ok(sniff(new TextEncoder().encode("7767517\n3 3\n")));
  assert.not.ok(sniff(Uint8Array.of(0x08, 0x07)));
  assert.not.ok(formatOf(new TextEncoder().encode('{"a": 1}'))?.name === "ONNX");
});

test("decodeOnnx reads attributes, integer and float16 tensors", () => {
  const f16 = new Uint16Array([0x3c00, 0xc000]); // 1, −2
  const m = decodeOnnx(model([{ opType: "LeakyRelu", name: "l", input: ["input"], output: ["output"], attribute: [{ name: "alpha", type: 1, f: 0.25 }] }], {
    initializer: [
      { name: "h", dims: [2n], dataType: 10, rawData: new Uint8Array(f16.buffer) },
      { name: "i", dims: [2n], dataType: 7, int64Data: [3n, -9n] },
      { name: "big", dims: [1n], dataType: 7, rawData: new Uint8Array(BigInt64Array.of(2n ** 63n - 1n).buffer) },
    ],
  }), "m.onnx");
  assert.equal([...m.initializers.get("h")!.floats!], [1, -2]);
  assert.equal(m.initializers.get("i")!.ints, [3, -9]);
  assert.equal(m.initializers.get("big")!.ints, [Number.MAX_SAFE_INTEGER]);
  assert.is(m.nodes[0].attrs.get("alpha"), 0.25);
  assert.equal(m.inputs, [{ name: "input", dims: [1, 3, "h", "w"] }]);
});

test.run();
