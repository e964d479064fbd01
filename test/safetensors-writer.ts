// The test-side .safetensors writer: a u64 header length, the JSON header, then the tensors' bytes.
import type { TensorDtype } from "../src/model/formats/tensor.js";
import { concat, storageBytes } from "./pth-writer.js";

const NAMES: Record<TensorDtype, string> = {
  float32: "F32", float16: "F16", bfloat16: "BF16", float64: "F64", int64: "I64", int32: "I32", int16: "I16", int8: "I8", uint8: "U8", bool: "BOOL",
};

export interface StTensor { name: string; dtype: TensorDtype; shape: number[]; values: ArrayLike<number> }

/** A .safetensors file; `edit` may rewrite the header object before it is written. */
export function safetensors(tensors: StTensor[], metadata?: Record<string, string>, edit?: (header: Record<string, unknown>) => void): Uint8Array {
  const header: Record<string, unknown> = Object.create(null); // so that a "__proto__" name is written as a key
  if (metadata) header.__metadata__ = metadata;
  const blobs: Uint8Array[] = [];
  let offset = 0;
  for (const t of tensors) {
    const bytes = storageBytes({ key: t.name, dtype: t.dtype, values: t.values });
    header[t.name] = { dtype: NAMES[t.dtype], shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    blobs.push(bytes);
    offset += bytes.length;
  }
  edit?.(header);
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = new Uint8Array(Math.ceil(json.length / 8) * 8).fill(0x20); // the reference pads with spaces to 8
  padded.set(json);
  const len = new Uint8Array(8);
  new DataView(len.buffer).setBigUint64(0, BigInt(padded.length), true);
  return concat([len, padded, ...blobs]);
}
