// SPDX-License-Identifier: MIT
// `.safetensors` files to plain data: a u64 header length N, N bytes of JSON (name → { dtype, shape,
// data_offsets: [begin, end) relative to the data }, plus an optional `__metadata__` of strings), then
// the data. Every offset and size is checked against the header and the file before anything is
// decoded, and, as the reference implementation requires, the tensors tile the data with no gap.
import { ModelFormatError } from "../../errors.js";
import { decodeElements, DTYPE_BYTES, elementCount, type Tensor, type TensorDtype } from "./tensor.js";

export interface SafetensorsFile {
  /** In the header's order. */
  readonly tensors: Map<string, Tensor>;
  /** The header's `__metadata__` (string → string), empty when absent. */
  readonly metadata: Map<string, string>;
}

/** The reference implementation's limit on the header (safetensors' MAX_HEADER_SIZE). */
const MAX_HEADER_BYTES = 100_000_000;

const DTYPES: Record<string, TensorDtype> = {
  F32: "float32", F16: "float16", BF16: "bfloat16", F64: "float64",
  I64: "int64", I32: "int32", I16: "int16", I8: "int8", U8: "uint8", BOOL: "bool",
};

/** True when the file starts with a plausible header length followed by '{'. */
export function sniff(bytes: Uint8Array): boolean {
  if (bytes.length < 10 || bytes[8] !== 0x7b) return false;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, 8);
  return dv.getUint32(4, true) === 0 && dv.getUint32(0, true) <= MAX_HEADER_BYTES;
}

/**
 * Decodes a .safetensors file: every tensor as float32 (F32, F16, BF16, F64; integer and bool tensors
 * too, when float32 holds their values exactly), and the metadata.
 * @example
 * const { tensors } = decodeSafetensors(await readFile("x.safetensors"), "x.safetensors");
 * tensors.get("body.0.weight")!.shape; // [64, 3, 3, 3]
 */
export function decodeSafetensors(bytes: Uint8Array, label = "bytes"): SafetensorsFile {
  const fail = (what: string) => new ModelFormatError(`safetensors file ${label}: ${what}`);
  if (bytes.length < 8) throw fail(`${bytes.length} bytes: too short for the 8-byte header length (truncated)`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerBytes = dv.getUint32(0, true) + dv.getUint32(4, true) * 4294967296;
  if (headerBytes > MAX_HEADER_BYTES) throw fail(`the header claims ${headerBytes} bytes, over the format's limit of ${MAX_HEADER_BYTES} (corrupt, or not a safetensors file)`);
  if (8 + headerBytes > bytes.length) throw fail(`the ${headerBytes}-byte header runs past the end of the ${bytes.length}-byte file (truncated)`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + headerBytes)));
  } catch (cause) {
    throw new ModelFormatError(`safetensors file ${label}: the header is not valid UTF-8 JSON: ${(cause as Error).message}`, { cause });
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) throw fail("the header is not a JSON object");

  const dataStart = 8 + headerBytes, dataBytes = bytes.length - dataStart;
  const metadata = new Map<string, string>();
  const entries: { name: string; dtype: TensorDtype; shape: number[]; begin: number; end: number }[] = [];
  // Object.entries of a JSON.parse result: own keys only, so a "__proto__" key is just a name here.
  for (const [name, info] of Object.entries(header)) {
    if (name === "__metadata__") {
      if (typeof info !== "object" || info === null || Array.isArray(info)) throw fail("__metadata__ is not an object");
      for (const [k, v] of Object.entries(info)) {
        if (typeof v !== "string") throw fail(`__metadata__ '${k}' is not a string`);
        metadata.set(k, v);
      }
      continue;
    }
    const where = `tensor '${name}'`;
    if (typeof info !== "object" || info === null) throw fail(`${where} is not an object`);
    const { dtype, shape, data_offsets: offsets } = info as Record<string, unknown>;
    const type = typeof dtype === "string" && Object.hasOwn(DTYPES, dtype) ? DTYPES[dtype] : undefined;
    if (!type) throw fail(`${where} has dtype ${JSON.stringify(dtype)}; this reader takes ${Object.keys(DTYPES).join(", ")}`);
    if (!Array.isArray(shape) || shape.length > 64) throw fail(`${where} has shape ${JSON.stringify(shape)}, not a list of dimensions`);
    const numel = elementCount(shape);
    if (numel < 0) throw fail(`${where} has shape ${JSON.stringify(shape)}: dimensions must be non-negative integers, with fewer than 2^53 elements in all`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      throw fail(`${where} has data_offsets ${JSON.stringify(offsets)}, not [begin, end]`);
    }
    const [begin, end] = offsets as number[];
    if (begin > end || end > dataBytes) throw fail(`${where} has data_offsets [${begin}, ${end}] outside the ${dataBytes} bytes of data (truncated or corrupt)`);
    if (end - begin !== numel * DTYPE_BYTES[type]) throw fail(`${where} has ${end - begin} bytes, but shape [${shape}] of ${dtype} needs ${numel * DTYPE_BYTES[type]}`);
    entries.push({ name, dtype: type, shape: shape as number[], begin, end });
  }
  // No gaps and no overlaps: sorted by offset, each tensor starts where the previous one ended.
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expected = 0;
  for (const e of sorted) {
    if (e.begin !== expected) throw fail(`tensor '${e.name}' starts at data offset ${e.begin}, expected ${expected}: the tensors overlap or leave a gap (corrupt)`);
    expected = e.end;
  }
  if (expected !== dataBytes) throw fail(`the tensors cover ${expected} of the ${dataBytes} data bytes (truncated, or bytes appended)`);

  const tensors = new Map<string, Tensor>();
  for (const e of entries) {
    const data = decodeElements(bytes, dataStart + e.begin, (e.end - e.begin) / DTYPE_BYTES[e.dtype], e.dtype);
    if (!(data instanceof Float32Array)) throw fail(`tensor '${e.name}' element ${data.inexact} is an integer that float32 cannot hold exactly`);
    tensors.set(e.name, { shape: Object.freeze([...e.shape]), dtype: e.dtype, data });
  }
  return { tensors, metadata };
}
