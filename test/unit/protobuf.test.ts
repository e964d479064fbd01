// SPDX-License-Identifier: MIT
// The protobuf codec (src/model/formats/protobuf.ts) against wire bytes written out by hand from the
// protobuf encoding rules, and round trips of random messages. ONNX files made by other tools
// (PyTorch's exporter, read in onnx.test.ts) and ONNX Runtime reading our exports
// (integration/onnx-networks.test.ts) check it against independent implementations.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { decodeMessage, encodeMessage, schema } from "../../src/model/formats/protobuf.js";
import { rng } from "../helpers.js";

const test = suite("protobuf");

const Inner = schema([[1, "n", "int64"], [2, "s", "string"]]);
const Outer = schema([
  [1, "id", "int64"], [2, "name", "string"], [3, "raw", "bytes"], [4, "xs", "int64", "repeated"],
  [5, "fs", "float", "repeated"], [6, "d", "double"], [7, "inner", () => Inner], [8, "items", () => Inner, "repeated"],
  [9, "tags", "string", "repeated"], [10, "f", "float"],
]);
interface InnerT { n?: number; s?: string }
interface OuterT { id?: number; name?: string; raw?: Uint8Array; xs?: number[]; fs?: number[]; d?: number; inner?: InnerT; items?: InnerT[]; tags?: string[]; f?: number }

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(" ");

test("encodes as the wire format says: varints, zigzag-free int64 negatives in 10 bytes, packed numbers, nested lengths", () => {
  assert.is(hex(encodeMessage({ id: 150 }, Outer)), "08 96 01");
  assert.is(hex(encodeMessage({ id: -1 }, Outer)), "08 ff ff ff ff ff ff ff ff ff 01");
  assert.is(hex(encodeMessage({ name: "hé" }, Outer)), "12 03 68 c3 a9");
  assert.is(hex(encodeMessage({ xs: [3, 270, -2] }, Outer)), "22 0d 03 8e 02 fe ff ff ff ff ff ff ff ff 01");
  assert.is(hex(encodeMessage({ fs: [1] }, Outer)), "2a 04 00 00 80 3f");
  assert.is(hex(encodeMessage({ inner: { n: 1 }, tags: ["a", ""] }, Outer)), "3a 02 08 01 4a 01 61 4a 00");
  assert.is(hex(encodeMessage({ xs: [], items: [], name: undefined }, Outer)), "");
  assert.is(hex(encodeMessage({ id: 2 ** 53 - 1 }, Outer)), "08 ff ff ff ff ff ff ff 0f");
});

test("decodes packed and unpacked repeated numbers, skips unknown fields of every wire type, views bytes in place", () => {
  // xs unpacked (two single fields) and packed; an unknown varint (field 15), fixed64 (16), length (17), fixed32 (18).
  const bytes = Uint8Array.from([0x20, 0x05, 0x78, 0x01, 0x20, 0x07, 0x81, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 0x22, 0x02, 0x01, 0x02,
    0x8a, 0x01, 0x01, 0x00, 0x95, 0x01, 1, 2, 3, 4, 0x1a, 0x02, 0xaa, 0xbb]);
  const m = decodeMessage<OuterT>(bytes, Outer);
  assert.equal(m.xs, [5, 7, 1, 2]);
  assert.equal(m.items, [], "a repeated field absent from the bytes is an empty array");
  assert.is(m.id, undefined);
  assert.is(m.raw!.buffer, bytes.buffer, "bytes fields are views of the input");
  assert.equal(Array.from(m.raw!), [0xaa, 0xbb]);
});

test("random messages survive a round trip", () => {
  const r = rng(5);
  const int = () => Math.round((r() - 0.5) * 2 ** (1 + Math.floor(r() * 53)));
  const str = () => String.fromCharCode(...Array.from({ length: Math.floor(r() * 6) }, () => 32 + Math.floor(r() * 0x2000)));
  const inner = (): InnerT => ({ n: int(), s: str() });
  for (let i = 0; i < 300; i++) {
    const m: OuterT = {
      id: int(), name: str(), raw: Uint8Array.from({ length: Math.floor(r() * 9) }, () => Math.floor(r() * 256)),
      xs: Array.from({ length: Math.floor(r() * 5) }, int), fs: Array.from({ length: Math.floor(r() * 4) }, () => Math.fround(r() * 1e6 - 5e5)),
      d: r() * 1e300, inner: inner(), items: Array.from({ length: Math.floor(r() * 3) }, inner), tags: Array.from({ length: Math.floor(r() * 3) }, str), f: Math.fround(-r()),
    };
    const back = decodeMessage<OuterT>(encodeMessage(m, Outer), Outer);
    assert.equal({ ...back, raw: Array.from(back.raw!) }, { ...m, raw: Array.from(m.raw!) }, `message ${i}`);
  }
});

test("malformed bytes throw, saying where: truncations, a length past the end, a wrong wire type, groups, an 11-byte varint", () => {
  const throws = (bytes: number[], message: RegExp) => assert.throws(() => decodeMessage(Uint8Array.from(bytes), Outer), message);
  throws([0x08], /varint runs past the end at byte 1/);
  throws([0x12, 0x05, 0x61], /needs 5 bytes but 1 remain/);
  throws([0x3a, 0x03, 0x08, 0x01], /needs 3 bytes but 2 remain/);
  throws([0x3a, 0x01, 0x08, 0x01], /varint runs past the end/);
  throws([0x0a, 0x00], /field 'id' has wire type 2, expected 0/);
  throws([0x3d, 0, 0, 0, 0], /field 'inner' has wire type 5, expected 2/);
  throws([0x7b], /wire type 3 \(groups are not supported\)/);
  throws([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], /longer than 10 bytes/);
  throws([0x00], /field number 0/);
  const whole = encodeMessage({ id: 3, name: "abc", inner: { n: 4 }, xs: [1, 2] }, Outer);
  for (let n = 1; n < whole.length; n++) {
    try {
      decodeMessage(whole.subarray(0, n), Outer);
    } catch (e) {
      assert.match((e as Error).message, / at byte \d+$/);
      continue;
    }
    // A cut between two fields leaves a shorter message, which protobuf cannot tell from a whole one.
    assert.ok([2, 7, 11].includes(n), `cut at ${n} decoded`);
  }
});

test.run();
