// ncnn reader (src/model/formats/ncnn.ts): the text .param (ints, floats, both array styles, strings,
// any whitespace) and the .bin read layer by layer as ncnn's loader does (tagged fp32/fp16 weights,
// untagged fp32 biases, every weighted layer type these networks use); damage names the file, the
// layer and the offset; the community networks in ../shared are consumed exactly.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { readdirSync, readFileSync } from "node:fs";
import { decodeNcnn, parseNcnnParam, sniff, type NcnnNetwork } from "../../src/model/formats/ncnn.js";
import { ModelFormatError } from "../../src/errors.js";
import { haveShared, SHARED } from "../helpers.js";
import { everyPrefixRefused, throwsFormatError } from "../format-helpers.js";
import { ncnnBlob, ncnnParam, type BlobStorage, type LayerLine } from "../ncnn-writer.js";
import { concat } from "../pth-writer.js";

const test = suite("formats/ncnn");

const enc = (s: string) => new TextEncoder().encode(s);
const labels = { param: "n.param", bin: "n.bin" };
const decode = (param: string | Uint8Array, bin: Uint8Array) => decodeNcnn({ param, bin }, labels);
const seq = (n: number, from = 0) => Array.from({ length: n }, (_, i) => (from + i) / 8); // fp16-exact
const L = (type: string, name: string, inputs: string[], outputs: string[], params = ""): LayerLine => ({ type, name, inputs, outputs, params });

/** A network with every weighted layer type, weightless ones between, and its .bin blobs in order. */
function everyType(storage: BlobStorage = "fp16"): { param: string; blobs: Uint8Array[]; expect: [string, Record<string, number[]>][] } {
  const expect: [string, Record<string, number[]>][] = [];
  const blobs: Uint8Array[] = [];
  const add = (layer: string, w: Record<string, [number[], BlobStorage]>) => {
    expect.push([layer, Object.fromEntries(Object.entries(w).map(([k, [v]]) => [k, v]))]);
    for (const [v, s] of Object.values(w)) blobs.push(ncnnBlob(v, s));
  };
  add("conv", { weight: [seq(2 * 3 * 9), storage], bias: [seq(2, 5), "untagged"] });
  add("dw", { weight: [seq(2 * 9, 1), "fp32"] });
  add("deconv", { weight: [seq(2 * 2 * 16, 2), storage], bias: [seq(2, 9), "untagged"] });
  add("deconvdw", { weight: [seq(2 * 4, 3), storage] });
  add("fc", { weight: [seq(9, 4), storage], bias: [seq(3, 1), "untagged"] }); // 9 fp16 values: padded to 20 bytes
  add("prelu", { slope: [seq(2, 7), "untagged"] });
  add("scale", { scale: [seq(2, 2), "untagged"], bias: [seq(2, 3), "untagged"] });
  add("bn", { slope: [seq(2, 1), "untagged"], mean: [seq(2, 2), "untagged"], variance: [seq(2, 3), "untagged"], bias: [seq(2, 4), "untagged"] });
  const param = ncnnParam([
    L("Input", "in", [], ["x"], "0=8 1=8 2=3"),
    L("Convolution", "conv", ["x"], ["c"], "0=2 1=3 4=1 5=1 6=54 9=2 -23310=1,1.000000e-01"),
    L("Split", "split", ["c"], ["c1", "c2"]),
    L("ConvolutionDepthWise", "dw", ["c1"], ["d"], "0=2 1=3 4=1 6=18 7=2"),
    L("Deconvolution", "deconv", ["d"], ["e"], "0=2 1=4 3=2 4=1 5=1 6=64"),
    L("DeconvolutionDepthWise", "deconvdw", ["e"], ["f"], "0=2 1=2 3=2 6=8 7=2"),
    L("Pooling", "pool", ["f"], ["p"], "0=1 4=1"),
    L("InnerProduct", "fc", ["p"], ["q"], "0=3 1=1 2=9 9=4"),
    L("PReLU", "prelu", ["c2"], ["r"], "0=2"),
    L("Scale", "scale", ["r"], ["s"], "0=2 1=1"),
    L("Scale", "se", ["s", "q"], ["t"], "0=-233"),
    L("BatchNorm", "bn", ["t"], ["u"], "0=2 1=1.000000e-05"),
    L("Convolution", "dyn", ["u", "t"], ["v"], "0=2 1=3 19=1"),
    L("Interp", "up", ["v"], ["w"], "0=2 1=2.000000e+00 2=2.000000e+00"),
    L("Eltwise", "sum", ["w", "w"], ["y"], "0=1 -23301=2,2.000000e-01,1.000000e+00"),
  ]);
  return { param, blobs, expect };
}

function checkWeights(net: NcnnNetwork, expect: [string, Record<string, number[]>][], label: string) {
  const byName = new Map(net.layers.map((l) => [l.name, l]));
  for (const [layer, w] of expect) {
    const got = byName.get(layer)!.weights;
    assert.equal([...got.keys()], Object.keys(w), `${label} ${layer}`);
    for (const [k, v] of Object.entries(w)) assert.equal(Array.from(got.get(k)!), v, `${label} ${layer}.${k}`);
  }
  for (const l of net.layers) if (!expect.some(([n]) => n === l.name)) assert.is(l.weights.size, 0, `${label} ${l.name} has no weights`);
}

test("sniff: the text .param's magic (after a BOM or whitespace) yes; anything else no", () => {
  assert.ok(sniff(enc("7767517\n1 1\n")));
  assert.ok(sniff(enc("\uFEFF  7767517\r\n")));
  for (const s of ["77675170\n", "7767516\n", '[{"kW":3}]', ""]) assert.not.ok(sniff(enc(s)), s);
});

test("every weighted layer type (Convolution, ConvolutionDepthWise, Deconvolution(DepthWise), InnerProduct, PReLU, Scale, BatchNorm) reads its blobs in order, fp16 and fp32", () => {
  for (const storage of ["fp16", "fp32"] as const) {
    const { param, blobs, expect } = everyType(storage);
    const net = decode(param, concat(blobs));
    assert.is(net.layers.length, 15);
    checkWeights(net, expect, storage);
  }
});

test("param values: ints, floats (as float32), old and new style arrays, strings, quoted strings with spaces, any whitespace", () => {
  const text = "7767517\r\n2\t3\r\nInput in 0 1 x 0=8 1=-2 2=1.5 3=1e-3 -23304=3,1,2.5,-3 5=4,5,6 6=0.5,1 7=tanh\r\n" +
    "Custom c 1 1 x y 8=\"a b c\" 9=\"q\"\n   11=7\n";
  const { layers, blobCount } = parseNcnnParam(text, "p.param");
  assert.is(blobCount, 3);
  assert.equal(layers.map((l) => [l.type, l.name, l.inputs, l.outputs, l.line]), [["Input", "in", [], ["x"], 3], ["Custom", "c", ["x"], ["y"], 4]]);
  assert.equal([...layers[0].params], [[0, 8], [1, -2], [2, 1.5], [3, Math.fround(1e-3)], [4, [1, 2.5, -3]], [5, [4, 5, 6]], [6, [0.5, 1]], [7, "tanh"]]);
  assert.equal([...layers[1].params], [[8, "a b c"], [9, "q"], [11, 7]], "params may continue on the next line, as ncnn's scanner reads them");
});

test("damaged .param: magic, counts, blobs, ids, values, arrays — named by file and line", () => {
  const head = "7767517\n1 1\n";
  const cases: [string | Uint8Array, RegExp][] = [
    ["7767516\n1 1\nInput in 0 1 x\n", /starts with '7767516', not the magic number 7767517 .*regenerate/],
    [Uint8Array.of(0xdd, 0x84, 0x76, 0x00, 1, 0, 0, 0), /a binary \.param\.bin/],
    [Uint8Array.of(0x37, 0xff, 0xfe), /not UTF-8 text/],
    ["7767517\n0 1\n", /line 2: the layer count is '0', expected an integer ≥ 1/],
    ["7767517\n2 2\nInput in 0 1 x\n", /declares 2 layers but ends after 1 \(truncated\)/],
    [`${head}Input in 0 1 x\nReLU r 1 1 x y\n`, /line 4: text after the 1 layers the header declares \('ReLU'\)/],
    [`${head}Input in 0 2 x y\n`, /line 3, layer 0 'in' \(Input\): more than the 1 blobs the header declares/],
    [`${head}Input in 0 1 x 40=1\n`, /layer 0 'in' \(Input\): param id 40 is outside \[0, 32\)/],
    [`${head}Input in 0 1 x -23340=1,1\n`, /param id -23340 is outside/],
    [`${head}Input in 0 1 x 0=1x\n`, /param 0: '1x' is not a 32-bit integer/],
    [`${head}Input in 0 1 x 0=99999999999\n`, /not a 32-bit integer/],
    [`${head}Input in 0 1 x 0=1.5.2\n`, /param 0: '1.5.2' is not a number/],
    [`${head}Input in 0 1 x -23300=3,1,2\n`, /array param 0 declares 3 elements but has 2/],
    [`${head}Input in 0 1 x 0=1,0.5\n`, /param 0: '0.5' is not a 32-bit integer/],
    [`${head}Input in 0 x\n`, /line 3, layer 0 'in' \(Input\): the output count is 'x', expected an integer ≥ 0/],
    [`${head}Input in 0 1\n`, /output 0 is missing at the end of the file/],
  ];
  for (const [p, re] of cases) throwsFormatError(() => parseNcnnParam(p, "p.param"), new RegExp(`^ncnn param file p\\.param: .*${re.source}`), re.source);
});

test("damaged .bin: int8 weights, unknown tags, unknown layer types, missing and left-over bytes — each names the layer", () => {
  const conv = ncnnParam([L("Input", "in", [], ["x"]), L("Convolution", "conv", ["x"], ["y"], "0=2 1=1 5=1 6=6")]);
  const weights = seq(6), bias = seq(2);
  const ok = concat([ncnnBlob(weights, "fp32"), ncnnBlob(bias, "untagged")]);
  assert.equal(Array.from(decode(conv, ok).layers[1].weights.get("bias")!), bias);
  const at = /layer 1 'conv' \(Convolution, \.param line 4\)/.source;
  const cases: [string, Uint8Array, RegExp][] = [
    [conv, concat([ncnnBlob(weights, { tag: 0x000d4b38 }), ncnnBlob(bias, "untagged")]), new RegExp(`${at} weight \\(6 values\\) at offset 0 is int8-quantised`)],
    [conv, concat([ncnnBlob(weights, { tag: 0x12345678 }), ncnnBlob(bias, "untagged")]), /weight \(6 values\) at offset 0 has storage tag 0x12345678.*lookup-table/],
    [conv, ok.subarray(0, ok.length - 1), new RegExp(`${at} bias \\(2 values\\) as fp32 needs 8 bytes at offset 28 but only 7 remain \\(truncated, or this \\.bin does not belong to the \\.param\\)`)],
    [conv, concat([ok, new Uint8Array(5)]), new RegExp(`5 bytes remain after the last weights \\(${at}, which ended at offset 36\\)`)],
    [ncnnParam([L("Input", "in", [], ["x"]), L("Convolution", "c", ["x"], ["y"], "0=2 1=1 6=6 8=1")]), ok, /layer 1 'c' \(Convolution, \.param line 4\): int8-quantised \(param 8/],
    [ncnnParam([L("Input", "in", [], ["x"]), L("MyFancyLayer", "m", ["x"], ["y"], "0=2")]), ok, /layer 1 'm' \(MyFancyLayer, \.param line 4\): this reader cannot size this layer type's weights/],
    [ncnnParam([L("Input", "in", [], ["x"]), L("Convolution", "c", ["x"], ["y"], "0=2 1=1")]), ok, /weight_data_size \(param 6\) is 0: ncnn needs it positive/],
    [ncnnParam([L("Input", "in", [], ["x"]), L("Convolution", "c", ["x"], ["y"], "0=2 1=1 6=2147483647")]), ok, /weight \(2147483647 values\) as fp32 needs 8589934588 bytes at offset 4 but only 32 remain/],
    [ncnnParam([L("Input", "in", [], ["x"]), L("Convolution", "c", ["x"], ["y"], "0=2 1=1 6=1.5")]), ok, /param 6 is 1\.5, expected an integer/],
  ];
  for (const [p, b, re] of cases) throwsFormatError(() => decode(p, b), new RegExp(`^ncnn (model|param) file n\\.(bin|param): .*${re.source}`), re.source);
});

test("truncated at every length: every .bin prefix is refused; every .param prefix is refused or still a valid description", () => {
  const { param, blobs } = everyType();
  const bin = concat(blobs);
  assert.is(everyPrefixRefused(bin, (b) => decode(param, b), ".bin"), bin.length);
  // A .param cut after its last layer's output name (in Eltwise's coefficients) still describes a network.
  const lastLayer = param.lastIndexOf(" y ") + 2;
  const refused = everyPrefixRefused(enc(param), (p) => decode(p, bin), ".param", (n) => n >= lastLayer);
  assert.ok(refused >= lastLayer, `${refused} of ${param.length} prefixes refused`);
});

// ---- the community networks (../shared) -------------------------------------------------------------

const NCNN = haveShared("community ncnn networks") ? `${SHARED}data/community/ncnn/` : "";
const pairs = () => readdirSync(NCNN).flatMap((d) => readdirSync(NCNN + d).filter((f) => f.endsWith(".param")).map((f) => `${NCNN}${d}/${f.slice(0, -6)}`));

test("community: all 17 ncnn networks decode, their .bin consumed exactly; every weighted layer's sizes match its params", () => {
  if (!NCNN) return;
  const list = pairs();
  assert.is(list.length, 17);
  for (const base of list) {
    const name = base.slice(NCNN.length);
    const param = readFileSync(`${base}.param`, "utf8");
    const net = decodeNcnn({ param, bin: new Uint8Array(readFileSync(`${base}.bin`)) }, { param: `${name}.param`, bin: `${name}.bin` });
    const [layerCount, blobCount] = param.split("\n")[1].trim().split(/\s+/).map(Number);
    assert.equal([net.layers.length, net.blobCount], [layerCount, blobCount], name);
    let values = 0;
    for (const l of net.layers) {
      const p = (id: number) => l.params.get(id) as number;
      if (l.type === "Convolution" || l.type === "Deconvolution") assert.equal([l.weights.get("weight")!.length, l.weights.get("bias")?.length], [p(6), p(5) ? p(0) : undefined], `${name} ${l.name}`);
      if (l.type === "InnerProduct") assert.equal([l.weights.get("weight")!.length, l.weights.get("bias")!.length], [p(2), p(0)], `${name} ${l.name}`);
      if (l.type === "PReLU") assert.is(l.weights.get("slope")!.length, p(0), `${name} ${l.name}`);
      for (const w of l.weights.values()) { values += w.length; assert.ok(w.every(Number.isFinite), `${name} ${l.name} finite`); }
    }
    assert.ok(values > 500_000, `${name}: ${values} values`);
  }
});

test("community: realesr-animevideov3-x4 — 40 layers; first conv, its bias, the first PReLU and the last bias as Python's struct reads them", () => {
  if (!NCNN) return;
  const base = `${NCNN}realesrgan/realesr-animevideov3-x4`;
  const net = decodeNcnn({ param: new Uint8Array(readFileSync(`${base}.param`)), bin: new Uint8Array(readFileSync(`${base}.bin`)) });
  const convs = net.layers.filter((l) => l.type === "Convolution");
  assert.equal([net.layers.length, convs.length, net.layers.filter((l) => l.type === "PReLU").length], [40, 18, 17]);
  assert.equal(Array.from(convs[0].weights.get("weight")!.slice(0, 3)), [-0.04736328125, -0.047271728515625, 0.55712890625]); // fp16
  assert.equal(Array.from(convs[0].weights.get("bias")!.slice(0, 3)), [0.21254003047943115, 0.07621118426322937, 4.572746276855469]);
  assert.equal(Array.from(net.layers.find((l) => l.type === "PReLU")!.weights.get("slope")!.slice(0, 2)), [0.0010072719305753708, -0.8137637376785278]);
  assert.equal(Array.from(convs[17].weights.get("bias")!.slice(-3)), [0.0125748161226511, 0.013493793085217476, 0.012496945448219776]);
  assert.equal([...net.layers.find((l) => l.type === "Interp")!.params], [[0, 1], [1, 4], [2, 4]]);
});

test("community: waifu2x CUNet's Scale 0=-233 layers read no weights; its InnerProducts (SE blocks) do", () => {
  if (!NCNN) return;
  const base = `${NCNN}waifu2x-cunet/noise1_model`;
  const net = decodeNcnn({ param: readFileSync(`${base}.param`, "utf8"), bin: new Uint8Array(readFileSync(`${base}.bin`)) });
  const scales = net.layers.filter((l) => l.type === "Scale");
  assert.equal([scales.length, scales.every((l) => l.params.get(0) === -233 && l.weights.size === 0 && l.inputs.length === 2)], [4, true]);
  const fc = net.layers.filter((l) => l.type === "InnerProduct");
  assert.equal(fc.map((l) => l.weights.get("weight")!.length), [512, 512, 2048, 2048, 2048, 2048, 512, 512]);
});

test("community: a .bin paired with another network's .param is refused, naming the layer where it went wrong", () => {
  if (!NCNN) return;
  const e = throwsFormatError(() => decodeNcnn({ param: readFileSync(`${NCNN}realesrgan/realesr-animevideov3-x4.param`, "utf8"), bin: new Uint8Array(readFileSync(`${NCNN}waifu2x-upconv7/scale2.0x_model.bin`)) }, { param: "x4.param", bin: "upconv7.bin" }),
    /^ncnn model file upconv7\.bin: layer \d+ '.+' \(.+, \.param line \d+\)/, "mismatched pair");
  assert.ok(e instanceof ModelFormatError);
});

test.run();
