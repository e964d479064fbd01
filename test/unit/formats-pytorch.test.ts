// PyTorch .pth reader (src/model/formats/pytorch.ts): synthetic zip and legacy files round-trip every
// dtype, strided and shared views; pickStateDict finds the weights; hostile and damaged files are
// ModelFormatErrors that say what and where; the community files in ../shared parse.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { decodePth, pickStateDict, sniff, type PthDict, type PthValue } from "../../src/model/formats/pytorch.js";
import { PickleDict } from "../../src/model/formats/pickle.js";
import type { Tensor, TensorDtype } from "../../src/model/formats/tensor.js";
import { assertBitIdentical, haveShared, SHARED } from "../helpers.js";
import { everyPrefixRefused, throwsFormatError } from "../format-helpers.js";
import { dict, global, OP, raw, tensorRef, tuple, type PyValue } from "../pickle-writer.js";
import { concat, torchLegacy, torchZip, zipStored, type Storage } from "../pth-writer.js";

const test = suite("formats/pytorch");

const od = (entries: [string, PyValue][]) => new Map<PyValue, PyValue>(entries);
const sd = (v: PthValue) => pickStateDict(v, "t.pth");

/** Values every dtype holds exactly. */
const EXACT: Record<TensorDtype, number[]> = {
  float32: [0.5, -1.25, 3e-5, 1e30, -0, 7], float16: [0.5, -1.25, 2 ** -20, 65504, -0, 7], bfloat16: [0.5, -1.25, 2 ** -100, 2 ** 100, -0, 7],
  float64: [0.5, -1.25, 3, 2 ** -30, -0, 7], int64: [0, -1, 2 ** 24, -(2 ** 24), 5, 7], int32: [0, -1, 2 ** 24, 9, 5, 7],
  int16: [0, -1, 32767, -32768, 5, 7], int8: [0, -1, 127, -128, 5, 7], uint8: [0, 1, 255, 128, 5, 7], bool: [0, 1, 1, 0, 0, 1],
};
const DTYPES = Object.keys(EXACT) as TensorDtype[];

function everyDtype(): { root: PyValue; storages: Storage[] } {
  const storages = DTYPES.map((dtype, i) => ({ key: String(i), dtype, values: EXACT[dtype] }));
  return { root: od(DTYPES.map((d, i) => [`w.${d}`, tensorRef(String(i), [2, 3])])), storages };
}

function checkEveryDtype(v: PthValue, label: string) {
  const m = sd(v);
  assert.is(m.size, DTYPES.length, label);
  for (const d of DTYPES) {
    const t = m.get(`w.${d}`)!;
    assert.equal([t.shape, t.dtype], [[2, 3], d], `${label} ${d}`);
    assertBitIdentical(t.data, Float32Array.from(EXACT[d]), `${label} ${d}`);
  }
}

test("sniff: zip and legacy files yes; safetensors, ncnn text, JSON, empty no", () => {
  const { root, storages } = everyDtype();
  assert.ok(sniff(torchZip(root, storages)));
  assert.ok(sniff(torchLegacy(root, storages)));
  const legacy = torchLegacy(root, storages);
  const framed = concat([Uint8Array.of(0x80, 4, 0x95, 13, 0, 0, 0, 0, 0, 0, 0), legacy.subarray(2)]); // as pickle protocol 4 writes it
  assert.ok(sniff(framed), "legacy, protocol 4 with a FRAME");
  const wrongMagic = legacy.slice();
  wrongMagic[6] ^= 1;
  assert.not.ok(sniff(wrongMagic));
  throwsFormatError(() => decodePth(wrongMagic, "t.pth"), /PyTorch file t\.pth: neither a zip archive \(torch ≥ 1\.6\) nor a legacy torch\.save stream/, "bad magic");
  for (const b of [new Uint8Array(0), new TextEncoder().encode("7767517\n1 1\n"), new TextEncoder().encode('[{"kW":3}]'), Uint8Array.of(2, 0, 0, 0, 0, 0, 0, 0, 0x7b, 0x7d)]) assert.not.ok(sniff(b));
});

test("zip: every dtype round-trips (f32, f16, bf16, f64 and the integer types, exactly)", () => {
  const { root, storages } = everyDtype();
  checkEveryDtype(decodePth(torchZip(root, storages), "t.pth"), "zip");
});

test("legacy: every dtype round-trips", () => {
  const { root, storages } = everyDtype();
  checkEveryDtype(decodePth(torchLegacy(root, storages), "t.pth"), "legacy");
});

test("strided views: a transpose and a storage offset are materialised; contiguous views of one storage share its buffer", () => {
  const values = Array.from({ length: 12 }, (_, i) => i);
  const root = od([
    ["t", tensorRef("s", [3, 2], [1, 3])], // the transpose of a 2×3 matrix
    ["tail", tensorRef("s", [2, 2], [2, 1], 8)],
    ["head", tensorRef("s", [2, 3])],
    ["col", tensorRef("s", [4], [3], 1)], // every third element from 1
    ["bcast", tensorRef("s", [2, 3], [0, 1], 4)], // stride 0: one row repeated
  ]);
  for (const [name, file] of [["zip", torchZip(root, [{ key: "s", dtype: "float32", values }])], ["legacy", torchLegacy(root, [{ key: "s", dtype: "float32", values }])]] as const) {
    const m = sd(decodePth(file, "t.pth"));
    assert.equal(Array.from(m.get("t")!.data), [0, 3, 1, 4, 2, 5], name);
    assert.equal(Array.from(m.get("tail")!.data), [8, 9, 10, 11], name);
    assert.equal(Array.from(m.get("col")!.data), [1, 4, 7, 10], name);
    assert.equal(Array.from(m.get("bcast")!.data), [4, 5, 6, 4, 5, 6], name);
    assert.is(m.get("head")!.data.buffer, m.get("tail")!.data.buffer, `${name}: contiguous views share the decoded storage`);
  }
});

test("legacy: tensors on storage views (view_metadata) read from the root storage at the view's offset", () => {
  const file = torchLegacy(od([["a", tensorRef("v1", [2])], ["b", tensorRef("v2", [3], [1], 1)]]), [{ key: "root", dtype: "float16", values: [1, 2, 3, 4, 5, 6, 7] }],
    { v1: { root: "root", offset: 1, size: 2 }, v2: { root: "root", offset: 2, size: 5 } });
  const m = sd(decodePth(file, "t.pth"));
  assert.equal(Array.from(m.get("a")!.data), [2, 3]);
  assert.equal(Array.from(m.get("b")!.data), [4, 5, 6]);
  throwsFormatError(() => decodePth(torchLegacy(od([["a", tensorRef("v", [2])]]), [{ key: "root", dtype: "float32", values: [1, 2] }], { v: { root: "root", offset: 1, size: 2 } }), "t.pth"),
    /storage view .* does not lie within its storage 'root' of 2 elements/, "view past its root");
});

test("empty tensors, nested containers, numbers and strings come back as Python wrote them", () => {
  const root = dict([["state_dict", od([["e", tensorRef("s", [0, 4])], ["x", tensorRef("s", [1])]])], ["epoch", 12], ["lr", 0.5], ["name", "ünï"], ["flags", [true, false, null]], ["big", 2n ** 70n], ["neg", -(2n ** 40n)], ["pair", tuple(1, "a")]]);
  const v = decodePth(torchZip(root, [{ key: "s", dtype: "float32", values: [9] }]), "t.pth") as PthDict;
  assert.ok(v instanceof PickleDict);
  assert.equal([v.get("epoch"), v.get("lr"), v.get("name"), v.get("flags"), v.get("big"), v.get("neg")], [12, 0.5, "ünï", [true, false, null], 2n ** 70n, -(2 ** 40)]);
  assert.ok(Object.isFrozen(v.get("pair")), "tuples are frozen arrays");
  const m = sd(v);
  assert.equal([m.get("e")!.shape, m.get("e")!.data.length, Array.from(m.get("x")!.data)], [[0, 4], 0, [9]]);
});

test("pickStateDict: params_ema over params (as Real-ESRGAN), then state_dict, model, net; module. prefix stripped; non-tensors skipped", () => {
  const s = [{ key: "0", dtype: "float32" as const, values: [1] }, { key: "1", dtype: "float32" as const, values: [2] }];
  const read = (root: PyValue) => sd(decodePth(torchZip(root, s), "t.pth"));
  const ema = read(dict([["params", od([["w", tensorRef("0", [1])]])], ["params_ema", od([["w", tensorRef("1", [1])]])]]));
  assert.equal(Array.from(ema.get("w")!.data), [2]);
  assert.equal([...read(dict([["iter", 5], ["state_dict", od([["module.a.weight", tensorRef("0", [1])], ["module.b", tensorRef("1", [1])]])]])).keys()], ["a.weight", "b"]);
  assert.equal([...read(dict([["net", od([["x", tensorRef("0", [1])]])]])).keys()], ["x"]);
  assert.equal([...read(od([["module.x", tensorRef("0", [1])], ["y", tensorRef("1", [1])], ["step", 3]])).keys()], ["module.x", "y"], "a prefix only some keys have stays");
  throwsFormatError(() => read(dict([["epoch", 3], ["optimizer", dict([])]])), /no tensors found: its keys are 'epoch', 'optimizer'/, "no tensors");
  throwsFormatError(() => sd([1, 2] as PthValue), /holds a list of 2, not a dict of tensors/, "a list");
});

test("pickStateDict takes a safetensors-style Map<string, Tensor> too", () => {
  const t: Tensor = { shape: [1], dtype: "float32", data: Float32Array.of(1) };
  assert.equal([...pickStateDict(new Map([["module.conv.weight", t]])).keys()], ["conv.weight"]);
});

// ---- hostile and damaged files ----------------------------------------------------------------------

const one = () => od([["w", tensorRef("0", [2, 2])]]);
const s4: Storage[] = [{ key: "0", dtype: "float32", values: [1, 2, 3, 4] }];

test("refused globals: os.system, builtins.eval, __builtin__.getattr, an unknown class, a whole model — nothing runs", () => {
  const reduce = (module: string, name: string, arg: string): PyValue => raw(...globalBytes(module, name), ...argBytes(arg), OP.TUPLE1, OP.REDUCE);
  for (const [m, n] of [["os", "system"], ["posix", "system"], ["builtins", "eval"], ["__builtin__", "getattr"], ["subprocess", "Popen"], ["torch.nn.modules.conv", "Conv2d"]]) {
    const e = throwsFormatError(() => decodePth(torchZip(od([["x", reduce(m, n, "touch /tmp/pwned")]]), []), "evil.pth"), new RegExp(`PyTorch file evil\\.pth, archive/data\\.pkl: refused global '${m.replace(".", "\\.")}\\.${n}'.*nothing in the file runs.*opcode GLOBAL at offset \\d+`), `${m}.${n}`);
    assert.is(/^[A-Z]/.test(n), /torch\.save\(model\.state_dict\(\)/.test(e.message), `${m}.${n}: the whole-model hint only for classes`);
  }
  const model = torchZip(raw(...globalBytes("__main__", "RRDBNet"), OP.EMPTY_TUPLE, OP.REDUCE), []);
  throwsFormatError(() => decodePth(model, "model.pth"), /refused global '__main__\.RRDBNet'.*whole pickled model.*torch\.save\(model\.state_dict\(\), "weights\.pth"\)/, "whole model");
  // STACK_GLOBAL is checked the same way.
  throwsFormatError(() => decodePth(torchZip(raw(OP.SHORT_BINUNICODE, 2, 0x6f, 0x73, OP.SHORT_BINUNICODE, 6, ...Buffer.from("system"), OP.STACK_GLOBAL), []), "x.pth"), /refused global 'os\.system'.*STACK_GLOBAL/, "STACK_GLOBAL");
});

test("no prototype pollution: '__proto__', 'constructor' keys are just Map keys", () => {
  const root = dict([["__proto__", od([["polluted", 1]])], ["constructor", 1], ["w", od([["__proto__", tensorRef("0", [2, 2])]])]]);
  const v = decodePth(torchZip(root, s4), "t.pth") as PthDict;
  assert.is(({} as Record<string, unknown>).polluted, undefined);
  assert.is(Object.getPrototypeOf(v), PickleDict.prototype);
  assert.ok((v.get("__proto__") as Map<unknown, unknown>).get("polluted") === 1);
  assert.equal(sd(v.get("w") as PthValue).get("__proto__")!.shape, [2, 2]);
});

test("BUILD only sets a dict's attributes (a state dict's _metadata); on anything else it is refused", () => {
  const withMeta = raw(...new PickleBytes().od().op(OP.MARK).str("w").tensor().op(OP.SETITEMS).op(OP.EMPTY_DICT).str("_metadata").od().op(OP.SETITEM, OP.BUILD).bytes);
  const v = decodePth(torchZip(withMeta, s4), "t.pth") as PthDict;
  assert.ok(v.attributes.get("_metadata") instanceof PickleDict);
  assert.equal(sd(v).get("w")!.shape, [2, 2]);
  throwsFormatError(() => decodePth(torchZip(raw(OP.EMPTY_LIST, OP.EMPTY_DICT, OP.BUILD), []), "t.pth"), /BUILD on a list of 0: only dicts may have state set/, "BUILD on a list");
});

test("sizes are checked against storages before any allocation: a 2^40-element claim fails at once", () => {
  throwsFormatError(() => decodePth(torchZip(od([["w", tensorRef("0", [2 ** 20, 2 ** 20])]]), s4), "t.pth"), /tensor of size \[1048576,1048576\].*does not fit its storage '0' of 4 elements/, "tensor > storage");
  throwsFormatError(() => decodePth(torchZip(od([["w", tensorRef("0", [2, 2], [2, 1], 1)]]), s4), "t.pth"), /at offset 1 does not fit its storage '0' of 4 elements/, "offset past the end");
  throwsFormatError(() => decodePth(torchZip(od([["w", tensorRef("0", [8], [0])]]), s4), "t.pth"), /size \[8\], stride \[0\].*does not fit/, "a broadcast bigger than its storage");
  // The storage itself claims 2^40 elements: its entry has 16 bytes.
  const huge = raw(...new PickleBytes().od().op(OP.MARK).str("w").tensor("0", 2 ** 40).op(OP.SETITEMS).bytes);
  throwsFormatError(() => decodePth(torchZip(huge, s4), "t.pth"), /archive\/data\/0 holds 16 bytes, but its 1099511627776 float32 elements need 4398046511104/, "storage claim");
  const hugeLegacy = raw(...new PickleBytes().od().op(OP.MARK).str("w").tensor("0", 2 ** 40, true).op(OP.SETITEMS).bytes);
  throwsFormatError(() => decodePth(torchLegacy(hugeLegacy, s4), "t.pth"), /storage '0' at offset \d+ holds 4 elements, but the pickle says 1099511627776/, "legacy storage claim");
  throwsFormatError(() => decodePth(torchZip(od([["w", tensorRef("0", [2, -1])]]), s4), "t.pth"), /its size is a tuple of 2, not a tuple of at most 64 non-negative integers/, "negative size");
  throwsFormatError(() => decodePth(torchZip(od([["w", tensorRef("0", [2, 2], [1])]]), s4), "t.pth"), /size \[2,2\] and stride \[1\] differ in length/, "stride length");
});

test("zip damage: CRC mismatch, missing or resized storage entries, compressed or encrypted entries, TorchScript, big-endian", () => {
  const good = torchZip(one(), s4);
  const flipped = good.slice();
  flipped[flipped.indexOf(0x40, good.length / 3)] ^= 0x01; // inside the storage's bytes (4.0f = 00 00 80 40)
  throwsFormatError(() => decodePth(flipped, "t.pth"), /PyTorch file t\.pth: zip entry 'archive\/data\/0' fails its CRC-32 check/, "CRC");
  assert.equal(Array.from(sd(decodePth(torchZip(one(), s4, { crc: false }), "t.pth")).get("w")!.data), [1, 2, 3, 4], "CRC 0 = not computed (torch's compute_crc32=False)");
  throwsFormatError(() => decodePth(torchZip(one(), s4, { omit: ["0"] }), "t.pth"), /storage '0' has no entry archive\/data\/0/, "missing entry");
  throwsFormatError(() => decodePth(torchZip(one(), [{ key: "0", dtype: "float32", values: [1, 2, 3] }]), "t.pth"), /tensor of size \[2,2\].*storage '0' of 3 elements/, "short storage");
  throwsFormatError(() => decodePth(zipStored([["a/data.pkl", Uint8Array.of(0x80, 2, 0x4e, 0x2e)], ["a/data/0", new Uint8Array(12)]]).map((b, i, all) => (i === centralMethodAt(all) ? 8 : b)), "t.pth"), /zip entry 'a\/data\.pkl' is compressed \(method 8\).*save it again with torch\.save/, "compressed");
  throwsFormatError(() => decodePth(torchZip(one(), s4, { extra: { "constants.pkl": Uint8Array.of(0x80, 2, 0x29, 0x2e) } }), "t.pth"), /a TorchScript archive \(torch\.jit\.save\)/, "TorchScript");
  throwsFormatError(() => decodePth(zipStored([["a/data.pkl", Uint8Array.of(0x80, 2, 0x4e, 0x2e)], ["a/byteorder", new TextEncoder().encode("big")]]), "t.pth"), /big-endian/, "big-endian");
  throwsFormatError(() => decodePth(zipStored([["a/x.txt", new Uint8Array(3)]]), "t.pth"), /without a <folder>\/data\.pkl entry: not a PyTorch file/, "no data.pkl");
  throwsFormatError(() => decodePth(zipStored([["a/data.pkl", new Uint8Array(3)], ["b/data.pkl", new Uint8Array(3)]]), "t.pth"), /holds 2 <folder>\/data\.pkl entries/, "two data.pkl");
  throwsFormatError(() => decodePth(concat([good.subarray(0, 40), good.subarray(60)]), "t.pth"), /PyTorch file t\.pth: /, "bytes cut from the middle");
});

test("legacy damage: a whole model's 'module' persistent id, wrong protocol, trailing bytes, a storage missing from the list", () => {
  throwsFormatError(() => decodePth(torchLegacy(raw(OP.MARK, OP.SHORT_BINUNICODE, 6, ...Buffer.from("module"), OP.NONE, OP.TUPLE, OP.BINPERSID), []), "m.pth"), /whole model.*torch\.save\(model\.state_dict\(\)/, "module pid");
  const good = torchLegacy(one(), s4);
  throwsFormatError(() => decodePth(concat([good, new Uint8Array(3)]), "t.pth"), /3 bytes follow the last storage/, "trailing");
  const wrongProtocol = good.slice();
  wrongProtocol[18] = 0xea; // BININT2 1001 → 1002
  throwsFormatError(() => decodePth(wrongProtocol, "t.pth"), /legacy protocol version the number 1002, expected 1001/, "protocol");
  const bigEndian = torchLegacy(one(), s4);
  bigEndian[bigEndian.indexOf(0x88)] = 0x89; // little_endian True → False
  throwsFormatError(() => decodePth(bigEndian, "t.pth"), /big-endian/, "big-endian");
});

test("truncated at every length: zip and legacy files are ModelFormatErrors", () => {
  const root = od([["a", tensorRef("0", [2, 2])], ["b", tensorRef("1", [3])]]);
  const storages: Storage[] = [...s4, { key: "1", dtype: "float16", values: [1, 2, 3] }];
  for (const [name, file] of [["zip", torchZip(root, storages)], ["legacy", torchLegacy(root, storages)]] as const) {
    assert.is(everyPrefixRefused(file, (b) => decodePth(b, "t.pth"), name), file.length, name);
  }
});

// ---- the community files (../shared) ----------------------------------------------------------------

const PTH = haveShared("community .pth files") ? `${SHARED}data/community/pytorch/` : "";
const read = (name: string) => new Uint8Array(readFileSync(PTH + name));

test("community: 2x-AniScale.pth (zip) — params_ema chosen, 53 tensors, values as Python's pickle reads them", () => {
  if (!PTH) return;
  const v = decodePth(read("2x-AniScale.pth"), "2x-AniScale.pth");
  const m = pickStateDict(v, "2x-AniScale.pth");
  assert.is(m.size, 53);
  assert.equal([...m.keys()].slice(0, 3), ["body.0.weight", "body.0.bias", "body.1.weight"]);
  assert.equal(m.get("body.0.weight")!.shape, [64, 3, 3, 3]);
  // From an independent read (Python's pickle with stub globals + zipfile + struct) of params_ema.
  assert.equal(Array.from(m.get("body.0.weight")!.data.slice(0, 3)), [7.245903015136719, -1.7248212099075317, -5.855503559112549]);
  assert.equal(Array.from(m.get("body.1.weight")!.data.slice(0, 3)), [-0.23100072145462036, 0.9119879603385925, 0.9875428080558777]);
  assert.ok([...m.values()].every((t) => t.dtype === "float32" && t.data.every(Number.isFinite)));
});

test("community: 4x-NMKD-YandereNeo-Superlite.pth (legacy) — old ESRGAN keys, 72 tensors", () => {
  if (!PTH) return;
  const v = decodePth(read("4x-NMKD-YandereNeo-Superlite.pth"), "4x-NMKD-YandereNeo-Superlite.pth") as PthDict;
  const m = pickStateDict(v);
  assert.is(m.size, 72);
  assert.ok(v.attributes.get("_metadata") instanceof PickleDict, "the state dict's _metadata (set by BUILD)");
  assert.equal(m.get("model.0.weight")!.shape, [64, 3, 3, 3]);
  assert.equal(Array.from(m.get("model.0.weight")!.data.slice(0, 3)), [0.062115803360939026, 0.1553015410900116, -0.14485806226730347]);
  assert.equal(Array.from(m.get("model.1.sub.0.RDB1.conv1.0.bias")!.data.slice(0, 3)), [-0.01999829337000847, -0.034765228629112244, 0.019754420965909958]);
  assert.equal(Array.from(m.get("model.10.bias")!.data), [0.03711564093828201, 0.024546941742300987, 0.04209376871585846]);
  assert.is([...m.values()].reduce((n, t) => n + t.data.length, 0), 1590083);
});

test("community: 4x_WTP_descreenton.pth parses as a state dict (refusing its architecture is the family layer's job)", () => {
  if (!PTH) return;
  const m = pickStateDict(decodePth(read("4x_WTP_descreenton.pth"), "4x_WTP_descreenton.pth"));
  assert.is(m.size, 316);
  assert.equal(m.get("residual_layer.0.residual_layer.0.layer.0.fn.0.weight")!.shape, [64, 64, 1, 1]);
  assert.is([...m.values()].reduce((n, t) => n + t.data.length, 0), 805376);
});

// ---- helpers ---------------------------------------------------------------------------------------

function globalBytes(module: string, name: string): number[] {
  return [OP.GLOBAL, ...new TextEncoder().encode(`${module}\n${name}\n`)];
}
function argBytes(v: string): number[] {
  const b = new TextEncoder().encode(v);
  return [OP.SHORT_BINUNICODE, b.length, ...b];
}
/** The central directory's first method field: after the local entries, at signature + 10. */
function centralMethodAt(zip: Uint8Array): number {
  for (let i = 0; i < zip.length - 4; i++) if (zip[i] === 0x50 && zip[i + 1] === 0x4b && zip[i + 2] === 0x01 && zip[i + 3] === 0x02) return i + 10;
  return -1;
}

/** Opcode-level pieces of a torch state-dict pickle, for files the value writer cannot express. */
class PickleBytes {
  bytes: number[] = [];
  op(...b: number[]): this { this.bytes.push(...b); return this; }
  str(s: string): this { const b = new TextEncoder().encode(s); return this.op(OP.SHORT_BINUNICODE, b.length, ...b); }
  od(): this { return this.op(...globalBytes("collections", "OrderedDict"), OP.EMPTY_TUPLE, OP.REDUCE); }
  int(v: number): this {
    if (v < 2 ** 31) return this.op(OP.BININT, v & 255, (v >>> 8) & 255, (v >>> 16) & 255, v >>> 24);
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt(v), true);
    return this.op(OP.LONG1, 8, ...b);
  }
  /** A 2×2 float32 tensor on storage `key`, whose persistent id (zip or legacy) says it has `numel` elements. */
  tensor(key = "0", numel = 4, legacy = false): this {
    this.op(...globalBytes("torch._utils", "_rebuild_tensor_v2"), OP.MARK);
    this.op(OP.MARK).str("storage").op(...globalBytes("torch", "FloatStorage")).str(key).str("cpu").int(numel);
    if (legacy) this.op(OP.NONE); // no view
    this.op(OP.TUPLE, OP.BINPERSID);
    this.int(0).int(2).int(2).op(OP.TUPLE2).int(2).int(1).op(OP.TUPLE2, OP.NEWFALSE).od();
    return this.op(OP.TUPLE, OP.REDUCE);
  }
}

test.run();
