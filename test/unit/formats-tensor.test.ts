// The element decoders the readers share (src/model/formats/tensor.ts, src/model/float16.ts): every
// half converts exactly, any byte alignment works, and integers float32 cannot hold are reported.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { f16ToF32 } from "../../src/model/float16.js";
import { decodeElements, elementCount } from "../../src/model/formats/tensor.js";

const test = suite("formats/tensor");

test("f16ToF32: all 65 536 halves equal IEEE 754's definition (±0, subnormals, normals, ±inf, NaN)", () => {
  const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
  const got = f16ToF32(all);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1, exp = (h >> 10) & 31, mant = h & 1023;
    const want = exp === 31 ? (mant ? NaN : sign * Infinity) : exp === 0 ? sign * mant * 2 ** -24 : sign * (1 + mant / 1024) * 2 ** (exp - 15);
    if (!Object.is(got[h], want)) assert.unreachable(`half 0x${h.toString(16)}: got ${got[h]}, expected ${want}`);
  }
});

test("decodeElements reads at any byte offset (a copy where the view would be misaligned)", () => {
  const values = [1.5, -2, 3.25];
  for (const [dtype, bytes] of [["float32", new Uint8Array(Float32Array.from(values).buffer)], ["float64", new Uint8Array(Float64Array.from(values).buffer)]] as const) {
    for (let shift = 0; shift < 8; shift++) {
      const b = new Uint8Array(bytes.length + 9);
      b.set(bytes, shift + 1);
      const out = decodeElements(b.subarray(1), shift, 3, dtype);
      assert.equal(Array.from(out as Float32Array), values, `${dtype} at ${shift}`);
    }
  }
});

test("integers float32 cannot hold exactly are reported, not rounded", () => {
  const i64 = new Uint8Array(BigInt64Array.of(5n, 2n ** 24n + 1n).buffer);
  assert.equal(decodeElements(i64, 0, 2, "int64"), { inexact: 1 });
  assert.equal(decodeElements(new Uint8Array(BigInt64Array.of(2n ** 60n + 1n).buffer), 0, 1, "int64"), { inexact: 0 });
  assert.equal(Array.from(decodeElements(new Uint8Array(BigInt64Array.of(-(2n ** 30n)).buffer), 0, 1, "int64") as Float32Array), [-(2 ** 30)]);
  assert.equal(decodeElements(new Uint8Array(Int32Array.of(3, 2 ** 24 + 1).buffer), 0, 2, "int32"), { inexact: 1 });
});

test("elementCount: products of non-negative integers below 2^53, else -1", () => {
  assert.equal([elementCount([]), elementCount([2, 3]), elementCount([0, 7]), elementCount([2, -1]), elementCount([1.5]), elementCount(["2"]), elementCount([2 ** 30, 2 ** 30])], [1, 6, 0, -1, -1, -1, -1]);
});

test.run();
