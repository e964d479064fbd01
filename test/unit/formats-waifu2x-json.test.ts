// waifu2x JSON reader (src/model/formats/waifu2x-json.ts): layers and model_config round-trip, with
// torch7 layouts for convolutions and full convolutions; every count is checked against the nested
// arrays; the two community files parse.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { decodeWaifu2xJson, sniff } from "../../src/model/formats/waifu2x-json.js";
import { haveShared, SHARED } from "../helpers.js";
import { everyPrefixRefused, throwsFormatError } from "../format-helpers.js";

const test = suite("formats/waifu2x-json");

/** Nested arrays of `dims` filled with 0, 1, 2, … (row-major), as the exporter writes torch.totable. */
function nested(dims: number[], start = 0): unknown {
  let n = start;
  const build = (d: number): unknown => (d === dims.length ? n++ / 16 : Array.from({ length: dims[d] }, () => build(d + 1)));
  return build(0);
}
const seq = (n: number, start = 0) => Array.from({ length: n }, (_, i) => (start + i) / 16);

function layer(nIn: number, nOut: number, k: number, extra: Record<string, unknown> = {}) {
  return { class_name: "nn.SpatialConvolutionMM", kW: k, kH: k, dW: 1, dH: 1, padW: 0, padH: 0, nInputPlane: nIn, nOutputPlane: nOut, weight: nested([nOut, nIn, k, k]), bias: seq(nOut), ...extra };
}
const small = () => [
  { ...layer(3, 4, 3), model_config: { arch_name: "vgg_7", scale_factor: 1, channels: 3, offset: 2 } },
  layer(4, 3, 3),
];
const text = (v: unknown) => JSON.stringify(v);

test("sniff: a JSON list of objects yes; other formats no", () => {
  assert.ok(sniff(new TextEncoder().encode(text(small()))));
  assert.ok(sniff(new TextEncoder().encode('\uFEFF [ \n{ "kW": 3 }]')));
  for (const s of ["{}", "[1]", "7767517\n", "[]"]) assert.not.ok(sniff(new TextEncoder().encode(s)), s);
});

test("layers and model_config round-trip; weights row-major [out][in][kH][kW]", () => {
  const net = decodeWaifu2xJson(text(small()), "s.json");
  assert.is(net.layers.length, 2);
  const l = net.layers[0];
  assert.equal([l.className, l.transposed, l.kW, l.kH, l.dW, l.dH, l.padW, l.padH, l.nInputPlane, l.nOutputPlane], ["nn.SpatialConvolutionMM", false, 3, 3, 1, 1, 0, 0, 3, 4]);
  assert.equal(Array.from(l.weight), seq(4 * 3 * 9));
  assert.equal(Array.from(net.layers[1].bias), seq(3));
  assert.equal([...net.modelConfig], [["arch_name", "vgg_7"], ["scale_factor", 1], ["channels", 3], ["offset", 2]]);
});

test("a full convolution keeps torch7's [in][out][kH][kW]; non-square kernels; old files without class_name, strides or pads", () => {
  const deconv = { class_name: "nn.SpatialFullConvolution", kW: 4, kH: 2, dW: 2, dH: 2, padW: 1, padH: 1, nInputPlane: 3, nOutputPlane: 2, weight: nested([3, 2, 2, 4]), bias: seq(2) };
  const old = { kW: 3, kH: 1, nInputPlane: 2, nOutputPlane: 3, weight: nested([3, 2, 1, 3]), bias: seq(3) };
  const net = decodeWaifu2xJson(new TextEncoder().encode(text([deconv, old])), "d.json");
  assert.equal([net.layers[0].transposed, net.layers[0].weight.length, net.layers[0].kW, net.layers[0].kH], [true, 48, 4, 2]);
  assert.equal(Array.from(net.layers[0].weight), seq(48));
  assert.equal([net.layers[1].className, net.layers[1].dW, net.layers[1].padH, net.layers[1].weight.length], ["nn.SpatialConvolutionMM", 1, 0, 18]);
  assert.is(net.modelConfig.size, 0);
});

test("every count is checked against the nested arrays; bad values and classes are named by layer and path", () => {
  const with0 = (edit: (l: Record<string, any>) => void) => { const layers = small() as Record<string, any>[]; edit(layers[1]); return text(layers); };
  const cases: [string, RegExp][] = [
    [with0((l) => { l.nOutputPlane = 5; }), /layer 1 weight has 3 entries, expected 5 \(sizes \[5,4,3,3\]\)/],
    [with0((l) => { l.weight[2][1] = [[1, 2, 3], [4, 5, 6]]; }), /layer 1 weight\[2\]\[1\] has 2 entries, expected 3/],
    [with0((l) => { l.weight[0][0][0][2] = "x"; }), /layer 1 weight\[0\]\[0\]\[0\]\[2\] is "x", not a number/],
    [with0((l) => { l.weight[0][0][0] = 5; }), /weight\[0\]\[0\]\[0\] has no list \(number\), expected 3/],
    [with0((l) => { l.bias = seq(2); }), /layer 1 bias has 2 entries, expected 3/],
    [with0((l) => { l.kW = 0; }), /layer 1 kW is 0, expected an integer in \[1, 64\]/],
    [with0((l) => { l.padH = 1.5; }), /layer 1 padH is 1\.5/],
    [with0((l) => { l.class_name = "nn.LeakyReLU"; }), /layer 1 is "nn\.LeakyReLU": this reader takes nn\.SpatialConvolutionMM/],
    [with0((l) => { l.nInputPlane = 4096; l.nOutputPlane = 4096; l.kW = 64; l.kH = 64; }), /layer 1 declares 68719476736 weights \(\[4096,4096,64,64\]\), more than the \d+-byte file can hold/],
    [text([]), /not a non-empty JSON list of layers/],
    [text({ layers: [] }), /not a non-empty JSON list of layers/],
    [text([5]), /layer 0 is not an object/],
    [text([{ ...layer(3, 4, 3), model_config: [1] }]), /model_config is not an object/],
    [text([{ ...layer(3, 4, 3), model_config: { scale_factor: "2" } }]), /model_config\.scale_factor is "2", expected a small non-negative integer/],
    ['[{"kW": 3,', /not valid UTF-8 JSON \(truncated or corrupt\)/],
  ];
  for (const [json, re] of cases) throwsFormatError(() => decodeWaifu2xJson(json, "w.json"), new RegExp(`^waifu2x JSON network w\\.json: .*${re.source}`), re.source);
  throwsFormatError(() => decodeWaifu2xJson(Uint8Array.of(0x5b, 0xff, 0x5d), "w.json"), /not valid UTF-8 JSON/, "bad UTF-8");
});

test("a '__proto__' key in model_config is just a key", () => {
  const net = decodeWaifu2xJson(text([{ ...layer(3, 4, 3), model_config: JSON.parse('{"__proto__": {"polluted": 1}, "offset": 7}') }]), "p.json");
  assert.is(({} as Record<string, unknown>).polluted, undefined);
  assert.is(net.modelConfig.get("offset"), 7);
  assert.equal(net.modelConfig.get("__proto__"), { polluted: 1 });
});

test("truncated at every length: a ModelFormatError each time", () => {
  const b = new TextEncoder().encode(text([layer(1, 2, 1), layer(2, 1, 1)]));
  assert.is(everyPrefixRefused(b, (p) => decodeWaifu2xJson(p, "t.json"), "json"), b.length);
});

// ---- the community files (../shared) ----------------------------------------------------------------

const JSONS = haveShared("community waifu2x JSON networks") ? `${SHARED}data/community/waifu2x-json/` : "";

test("community: both vgg_7 JSON files — 7 layers 3→32→32→64→64→128→128→3, offset 7, scale_factor 1; values as the file writes them", () => {
  if (!JSONS) return;
  for (const [file, first] of [["scale2.0x_model.json", [-0.032546602189541, 0.21419779956341, 0.22637192904949]], ["noise1_model.json", [0.028829948976635933, 0.13043223321437836, 0.03509329631924629]]] as const) {
    const net = decodeWaifu2xJson(new Uint8Array(readFileSync(JSONS + file)), file);
    assert.equal(net.layers.map((l) => [l.nInputPlane, l.nOutputPlane, l.kW, l.kH, l.padW]), [[3, 32, 3, 3, 0], [32, 32, 3, 3, 0], [32, 64, 3, 3, 0], [64, 64, 3, 3, 0], [64, 128, 3, 3, 0], [128, 128, 3, 3, 0], [128, 3, 3, 3, 0]], file);
    assert.equal([net.modelConfig.get("arch_name"), net.modelConfig.get("scale_factor"), net.modelConfig.get("offset"), net.modelConfig.get("channels")], ["vgg_7", 1, 7, 3], file);
    assert.equal(Array.from(net.layers[0].weight.slice(0, 3)), first.map(Math.fround), file);
    assert.ok(net.layers.every((l) => l.weight.every(Number.isFinite) && l.bias.every(Number.isFinite)), file);
  }
});

test.run();
