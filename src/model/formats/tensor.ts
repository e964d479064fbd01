// SPDX-License-Identifier: MIT
// The tensor that the weight-file readers in this folder return (row-major, values as float32 whatever
// the file stored) and the little-endian element decoders they share. Nothing here knows a file format.
import { f16ToF32 } from "../float16.js";

/** How a file stored a tensor's elements (PyTorch's names). */
export type TensorDtype = "float32" | "float16" | "bfloat16" | "float64" | "int64" | "int32" | "int16" | "int8" | "uint8" | "bool";

/**
 * One decoded tensor. `data` is contiguous, row-major over `shape`, float32 whatever `dtype` was; two
 * tensors that viewed the same PyTorch storage contiguously may share one buffer, so copy before writing.
 * @example
 * const w = tensors.get("body.0.weight")!; // w.shape [64, 3, 3, 3], w.data.length 1728
 */
export interface Tensor {
  readonly shape: readonly number[];
  readonly dtype: TensorDtype;
  readonly data: Float32Array;
}

export const DTYPE_BYTES: Readonly<Record<TensorDtype, number>> = {
  float32: 4, float16: 2, bfloat16: 2, float64: 8, int64: 8, int32: 4, int16: 2, int8: 1, uint8: 1, bool: 1,
};

export function isTensor(v: unknown): v is Tensor {
  return typeof v === "object" && v !== null && (v as Tensor).data instanceof Float32Array &&
    Array.isArray((v as Tensor).shape) && typeof (v as Tensor).dtype === "string";
}

/** Product of `shape`, or -1 when a dimension is not a non-negative integer or the product passes 2^53. */
export function elementCount(shape: readonly unknown[]): number {
  let n = 1;
  for (const d of shape) {
    if (typeof d !== "number" || !Number.isInteger(d) || d < 0) return -1;
    n *= d;
    if (n > Number.MAX_SAFE_INTEGER) return -1;
  }
  return n;
}

/**
 * Decodes `count` little-endian elements of `dtype` at `bytes[offset…]` into a new Float32Array. The
 * caller has checked that the bytes are there. Integers must convert exactly (|v| ≤ 2^24 or a float32
 * value): otherwise this returns the index of the first that does not, for the caller's message.
 * (Typed arrays use the platform's byte order: little-endian on every platform this package runs on.)
 */
export function decodeElements(bytes: Uint8Array, offset: number, count: number, dtype: TensorDtype): Float32Array | { inexact: number } {
  const size = DTYPE_BYTES[dtype];
  const view = aligned(bytes, offset, count * size, size);
  switch (dtype) {
    case "float32": return new Float32Array(view.buffer, view.byteOffset, count).slice();
    case "float16": return f16ToF32(new Uint16Array(view.buffer, view.byteOffset, count));
    case "bfloat16": {
      const out = new Float32Array(count);
      const bits = new Uint32Array(out.buffer);
      const src = new Uint16Array(view.buffer, view.byteOffset, count);
      for (let i = 0; i < count; i++) bits[i] = src[i] << 16; // bfloat16 is the top half of a float32
      return out;
    }
    case "float64": return Float32Array.from(new Float64Array(view.buffer, view.byteOffset, count));
    case "int64": {
      const src = new BigInt64Array(view.buffer, view.byteOffset, count);
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) {
        const v = Number(src[i]);
        if (Math.fround(v) !== v || BigInt(v) !== src[i]) return { inexact: i };
        out[i] = v;
      }
      return out;
    }
    case "int32": return exactly(new Int32Array(view.buffer, view.byteOffset, count));
    case "int16": return Float32Array.from(new Int16Array(view.buffer, view.byteOffset, count));
    case "int8": return Float32Array.from(new Int8Array(view.buffer, view.byteOffset, count));
    case "uint8": return Float32Array.from(view.subarray(0, count));
    case "bool": return Float32Array.from(view.subarray(0, count), (b) => (b ? 1 : 0));
  }
}

function exactly(src: Int32Array): Float32Array | { inexact: number } {
  const out = Float32Array.from(src);
  for (let i = 0; i < src.length; i++) if (out[i] !== src[i]) return { inexact: i };
  return out;
}

/** `bytes[offset, offset + length)` at an address divisible by `align`: a view when it is, else a copy. */
function aligned(bytes: Uint8Array, offset: number, length: number, align: number): Uint8Array {
  const view = bytes.subarray(offset, offset + length);
  return view.byteOffset % align === 0 ? view : view.slice();
}
