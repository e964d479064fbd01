// .safetensors reader (src/model/formats/safetensors.ts): every dtype and the metadata round-trip;
// every offset, size and the no-gap rule is checked; damaged files are ModelFormatErrors.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { decodeSafetensors, sniff } from "../../src/model/formats/safetensors.js";
import type { TensorDtype } from "../../src/model/formats/tensor.js";
import { assertBitIdentical } from "../helpers.js";
import { everyPrefixRefused, throwsFormatError } from "../format-helpers.js";
import { safetensors, type StTensor } from "../safetensors-writer.js";
import { concat } from "../pth-writer.js";

const test = suite("formats/safetensors");

const VALUES: Record<TensorDtype, number[]> = {
  float32: [0.5, -1.25, 1e-30, 7], float16: [0.5, -1.25, 2 ** -24, 65504], bfloat16: [0.5, -1.25, 2 ** 100, -0], float64: [0.5, 3, -2, 2 ** -40],
  int64: [0, -1, 2 ** 24, 9], int32: [1, -2, 3, -(2 ** 24)], int16: [1, -2, 32767, -32768], int8: [1, -2, 127, -128], uint8: [0, 255, 3, 4], bool: [1, 0, 0, 1],
};
const ALL: StTensor[] = (Object.keys(VALUES) as TensorDtype[]).map((dtype) => ({ name: `t.${dtype}`, dtype, shape: [2, 2], values: VALUES[dtype] }));
const small = () => safetensors([{ name: "a", dtype: "float32", shape: [2, 3], values: [1, 2, 3, 4, 5, 6] }, { name: "b", dtype: "float16", shape: [3], values: [1, 2, 3] }], { format: "pt" });

test("sniff: a safetensors header yes; zip, pickle, text no", () => {
  assert.ok(sniff(small()));
  for (const b of [Uint8Array.of(0x50, 0x4b, 3, 4, 0, 0, 0, 0, 0, 0), Uint8Array.of(0x80, 2, 0x8a, 10), new TextEncoder().encode("7767517\n1 1\n"), new Uint8Array(3)]) assert.not.ok(sniff(b));
});

test("every dtype round-trips (F32, F16, BF16, F64 and the integer types exactly), in header order, with __metadata__", () => {
  const { tensors, metadata } = decodeSafetensors(safetensors(ALL, { format: "pt", note: "ünï" }), "t.safetensors");
  assert.equal([...tensors.keys()], ALL.map((t) => t.name));
  for (const t of ALL) {
    const got = tensors.get(t.name)!;
    assert.equal([got.shape, got.dtype], [[2, 2], t.dtype], t.dtype);
    assertBitIdentical(got.data, Float32Array.from(t.values), t.dtype);
  }
  assert.equal([...metadata], [["format", "pt"], ["note", "ünï"]]);
});

test("scalars, empty tensors and a file with no tensors", () => {
  const { tensors } = decodeSafetensors(safetensors([{ name: "s", dtype: "float32", shape: [], values: [3] }, { name: "e", dtype: "float32", shape: [0, 5], values: [] }]), "t");
  assert.equal([tensors.get("s")!.shape, Array.from(tensors.get("s")!.data), tensors.get("e")!.data.length], [[], [3], 0]);
  assert.is(decodeSafetensors(safetensors([]), "t").tensors.size, 0);
});

test("a '__proto__' tensor name is just a name", () => {
  const { tensors } = decodeSafetensors(safetensors([{ name: "__proto__", dtype: "float32", shape: [1], values: [1] }]), "t");
  assert.equal(tensors.get("__proto__")!.shape, [1]);
  assert.is(({} as Record<string, unknown>).shape, undefined);
});

test("header damage: sizes, offsets, gaps, overlaps, dtypes, shapes, JSON, metadata", () => {
  const two = (edit: (h: Record<string, any>) => void) => safetensors([{ name: "a", dtype: "float32", shape: [2], values: [1, 2] }, { name: "b", dtype: "float32", shape: [1], values: [3] }], undefined, edit);
  const cases: [Uint8Array, RegExp][] = [
    [two((h) => { h.a.data_offsets = [0, 4]; }), /tensor 'a' has 4 bytes, but shape \[2\] of F32 needs 8/],
    [two((h) => { h.b.data_offsets = [8, 16]; }), /tensor 'b' has data_offsets \[8, 16\] outside the 12 bytes of data/],
    [two((h) => { h.b.data_offsets = [4, 8]; h.b.shape = [1]; }), /tensor 'b' starts at data offset 4, expected 8: the tensors overlap or leave a gap/],
    [two((h) => { h.b.data_offsets = [0, 4]; }), /starts at data offset 0, expected 8|overlap/],
    [two((h) => { h.a.dtype = "F8_E4M3"; }), /tensor 'a' has dtype "F8_E4M3"; this reader takes F32, F16, BF16, F64/],
    [two((h) => { h.a.dtype = "toString"; }), /has dtype "toString"/],
    [two((h) => { h.a.shape = [2, -1]; }), /shape \[2,-1\]: dimensions must be non-negative integers/],
    [two((h) => { h.a.shape = [2 ** 20, 2 ** 20]; }), /has 8 bytes, but shape \[1048576,1048576\] of F32 needs 4398046511104/],
    [two((h) => { h.a.shape = [2 ** 40, 2 ** 40]; }), /shape \[1099511627776,1099511627776\]: dimensions must be non-negative integers, with fewer than 2\^53 elements/],
    [two((h) => { h.a.data_offsets = [0, 2 ** 60]; }), /data_offsets \[0,1152921504606847000\], not \[begin, end\]/],
    [two((h) => { h.a.data_offsets = "0,8"; }), /not \[begin, end\]/],
    [two((h) => { h.__metadata__ = { n: 1 }; }), /__metadata__ 'n' is not a string/],
    [two((h) => { h.a = 5; }), /tensor 'a' is not an object/],
  ];
  for (const [file, re] of cases) throwsFormatError(() => decodeSafetensors(file, "m.safetensors"), new RegExp(`^safetensors file m\\.safetensors: .*${re.source}`), re.source);
  const file = small();
  const dv = new DataView(file.buffer);
  const huge = file.slice(); new DataView(huge.buffer).setBigUint64(0, 2n ** 40n, true);
  throwsFormatError(() => decodeSafetensors(huge, "m"), /the header claims 1099511627776 bytes, over the format's limit/, "huge header length");
  const long = file.slice(); new DataView(long.buffer).setBigUint64(0, BigInt(file.length), true);
  throwsFormatError(() => decodeSafetensors(long, "m"), /header runs past the end of the \d+-byte file \(truncated\)/, "header past the end");
  const notJson = file.slice(); notJson[8 + 3] = 0xff;
  throwsFormatError(() => decodeSafetensors(notJson, "m"), /the header is not valid UTF-8 JSON/, "bad JSON");
  const arr = concat([Uint8Array.of(2, 0, 0, 0, 0, 0, 0, 0), new TextEncoder().encode("[]")]);
  throwsFormatError(() => decodeSafetensors(arr, "m"), /the header is not a JSON object/, "a list header");
  throwsFormatError(() => decodeSafetensors(concat([file, new Uint8Array(4)]), "m"), /the tensors cover 30 of the 34 data bytes \(truncated, or bytes appended\)/, "appended bytes");
  assert.is(dv.getUint32(4, true), 0);
});

test("truncated at every length: a ModelFormatError each time", () => {
  const file = small();
  assert.is(everyPrefixRefused(file, (b) => decodeSafetensors(b, "t"), "safetensors"), file.length);
});

test.run();
