// The .srnet format: lossless round trip, float16 storage, and a typed error for every kind of damage.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { encodeNetwork, decodeNetwork } from "../../src/model/formats/srnet.js";
import { crc32 } from "../../src/model/crc32.js";
import { f16ToF32, f32ToF16 } from "../../src/model/float16.js";
import { ModelFormatError } from "../../src/errors.js";
import { createUpscaler } from "../../src/index.js";
import { rng, shuffleNetwork, randomImage } from "../helpers.js";

const test = suite("srnet format");
const rand = rng(99);
const net = shuffleNetwork(rand, 10);

function expectFormatError(bytes: Uint8Array, pattern: RegExp): void {
  try {
    decodeNetwork(bytes);
    assert.unreachable("decoded a damaged file");
  } catch (e) {
    assert.instance(e, ModelFormatError);
    assert.is((e as ModelFormatError).code, "ERR_MODEL_FORMAT");
    assert.match((e as Error).message, pattern);
  }
}

/** Rewrites the header JSON and fixes up length and checksum, to reach the checks behind the CRC. */
function withHeader(bytes: Uint8Array, edit: (h: Record<string, any>) => void): Uint8Array {
  const dv = new DataView(bytes.buffer, bytes.byteOffset);
  const len = dv.getUint32(12, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + len)));
  const oldData = bytes.subarray(Math.ceil((16 + len) / 4) * 4, bytes.length - 4);
  edit(header);
  const json = new TextEncoder().encode(JSON.stringify(header));
  const start = Math.ceil((16 + json.length) / 4) * 4;
  const out = new Uint8Array(start + oldData.length + 4);
  out.set(bytes.subarray(0, 12));
  new DataView(out.buffer).setUint32(12, json.length, true);
  out.set(json, 16);
  out.set(oldData, start);
  new DataView(out.buffer).setUint32(out.length - 4, crc32(out.subarray(0, out.length - 4)), true);
  return out;
}

test("round trip is lossless and runs to the same pixels", async () => {
  const bytes = encodeNetwork(net);
  const back = decodeNetwork(bytes);
  assert.equal(Object.keys(back.weights).sort(), Object.keys(net.weights).sort());
  for (const [k, w] of Object.entries(net.weights)) assert.equal(Array.from(back.weights[k].data), Array.from(w.data), k);
  const img = randomImage(rand, 11, 7);
  const a = await createUpscaler({ model: net, threads: 0 });
  const b = await createUpscaler({ model: bytes, threads: 0 });
  assert.equal(Array.from((await a.upscale(img)).data), Array.from((await b.upscale(img)).data));
  await a.dispose(); await b.dispose();
});

test("decodes from a Node Buffer that is a view into a larger pool", () => {
  const bytes = encodeNetwork(net);
  const pool = Buffer.alloc(bytes.length + 64, 0xff);
  pool.set(bytes, 32);
  const back = decodeNetwork(pool.subarray(32, 32 + bytes.length));
  assert.equal(Array.from(back.weights.k0.data), Array.from(net.weights.k0.data));
});

test("float16 storage halves the weights and stays within half precision", () => {
  const f32 = encodeNetwork(net), f16 = encodeNetwork(net, { dtype: "f16" });
  assert.ok(f16.length < f32.length * 0.6);
  const back = decodeNetwork(f16);
  for (const [k, w] of Object.entries(net.weights)) {
    w.data.forEach((v, i) => assert.ok(Math.abs(back.weights[k].data[i] - v) <= Math.abs(v) * 2 ** -11 + 2 ** -24, `${k}[${i}]`));
  }
});

test("float16 conversion: exact cases, rounding to even, subnormals, overflow", () => {
  const v = Float32Array.of(0, -0, 1, -2, 65504, 65520, 1e-8, 2 ** -24, 2 ** -14, 1 + 2 ** -11, 1 + 3 * 2 ** -11, Infinity, NaN);
  const r = f16ToF32(f32ToF16(v));
  assert.equal(Array.from(r.slice(0, 6)), [0, -0, 1, -2, 65504, Infinity]);
  assert.is(r[6], 0);
  assert.is(r[7], 2 ** -24);
  assert.is(r[8], 2 ** -14);
  assert.is(r[9], 1, "ties go to even");
  assert.is(r[10], 1 + 2 * 2 ** -10, "ties go to even (up)");
  assert.is(r[11], Infinity);
  assert.ok(Number.isNaN(r[12]));
});

test("truncation anywhere is caught", () => {
  const bytes = encodeNetwork(net);
  for (const cut of [0, 7, 19, 40, bytes.length >> 1, bytes.length - 5, bytes.length - 1]) {
    expectFormatError(bytes.subarray(0, cut), /short|truncated|checksum|magic/);
  }
});

test("a flipped bit anywhere is caught by the checksum", () => {
  const bytes = encodeNetwork(net);
  for (const at of [9, 20, 100, bytes.length >> 1, bytes.length - 10]) {
    const bad = bytes.slice();
    bad[at] ^= 0x10;
    expectFormatError(bad, /checksum|version|magic/);
  }
});

test("inconsistent headers name what is wrong", () => {
  const bytes = encodeNetwork(net);
  expectFormatError(withHeader(bytes, (h) => { h.tensors[0].shape = [5, 5]; }), /bytes for shape/);
  expectFormatError(withHeader(bytes, (h) => { h.tensors[1].offset = 1 << 24; }), /outside the file/);
  expectFormatError(withHeader(bytes, (h) => { h.tensors[0].dtype = "f64"; }), /dtype/);
  expectFormatError(withHeader(bytes, (h) => { h.nodes[0].op = "Conv3D"; }), /unknown op 'Conv3D'/);
  expectFormatError(withHeader(bytes, (h) => { h.nodes[1].attrs.cout = 47; }), /kernel0 has shape/);
  expectFormatError(withHeader(bytes, (h) => { h.nodes[2].inputs = ["nope"]; }), /'nope' is not produced/);
  expectFormatError(withHeader(bytes, (h) => { h.scale = 2; }), /4× with 3 channels|at 2×/);
  const v2 = bytes.slice(); new DataView(v2.buffer).setUint32(8, 2, true);
  new DataView(v2.buffer).setUint32(v2.length - 4, crc32(v2.subarray(0, v2.length - 4)), true);
  expectFormatError(v2, /version 2/);
});

test.run();
