// SPDX-License-Identifier: MIT
// The .srnet network file: self-describing, little-endian, checksummed. Layout (docs/model-format.md):
//
//   0   "SRNET\0\0\0"                8-byte magic
//   8   u32 format version (1)
//   12  u32 header length H
//   16  H bytes UTF-8 JSON header   { name, scale, channels, input, output, nodes, meta,
//                                     tensors: [{ name, shape, dtype: "f32" | "f16", offset, bytes }] }
//   …   zero padding to a multiple of 4
//   D   tensor data (offsets in the header are relative to D)
//   end u32 CRC-32 (IEEE) of every byte before it
//
// Reading checks every field and every byte count before touching data; any inconsistency is a
// ModelFormatError that names the field.
import { ModelFormatError } from "../../errors.js";
import { validateGraph, type Graph, type GraphNode, type ValidatedGraph, type Weight } from "../graph.js";
import { crc32 } from "../crc32.js";
import { f16ToF32, f32ToF16 } from "../float16.js";

const MAGIC = [0x53, 0x52, 0x4e, 0x45, 0x54, 0, 0, 0]; // "SRNET\0\0\0"
export const FORMAT_VERSION = 1;

export type WeightDType = "f32" | "f16";

interface TensorEntry { name: string; shape: number[]; dtype: WeightDType; offset: number; bytes: number }
interface Header {
  name: string; scale: number; channels?: number; input: string; output: string;
  nodes: GraphNode[]; meta?: Record<string, unknown>; tensors: TensorEntry[];
  /** The border the network sees and the size grid it needs (Graph.inputPad, Graph.align); absent: none. */
  inputPad?: Graph["inputPad"]; align?: number;
}

export function isSrnet(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && MAGIC.every((b, i) => bytes[i] === b);
}

export function encodeNetwork(g: Graph, opts: { dtype?: WeightDType } = {}): Uint8Array {
  const dtype = opts.dtype ?? "f32";
  const tensors: TensorEntry[] = [];
  const blobs: Uint8Array[] = [];
  let offset = 0;
  for (const [name, w] of Object.entries(g.weights)) {
    const data = dtype === "f16" ? new Uint8Array(f32ToF16(w.data).buffer) : new Uint8Array(w.data.slice().buffer);
    const bytes = data.length;
    tensors.push({ name, shape: w.shape, dtype, offset, bytes });
    const padded = new Uint8Array(Math.ceil(bytes / 4) * 4);
    padded.set(data);
    blobs.push(padded);
    offset += padded.length;
  }
  const header: Header = { name: g.name, scale: g.scale, channels: g.channels, input: g.input, output: g.output, nodes: g.nodes, meta: g.meta, tensors, inputPad: g.inputPad, align: g.align };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const dataStart = Math.ceil((16 + json.length) / 4) * 4;
  const out = new Uint8Array(dataStart + offset + 4);
  const dv = new DataView(out.buffer);
  out.set(MAGIC, 0);
  dv.setUint32(8, FORMAT_VERSION, true);
  dv.setUint32(12, json.length, true);
  out.set(json, 16);
  let at = dataStart;
  for (const b of blobs) { out.set(b, at); at += b.length; }
  dv.setUint32(at, crc32(out.subarray(0, at)), true);
  return out;
}

export function decodeNetwork(bytes: Uint8Array): ValidatedGraph {
  if (bytes.length < 20) throw new ModelFormatError(`network file is ${bytes.length} bytes: too short to be a .srnet file (truncated?)`);
  if (!isSrnet(bytes)) throw new ModelFormatError("not a .srnet network file (bad magic)");
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // Checksum first: a damaged version field must read as damage, not as a newer format.
  const stored = dv.getUint32(bytes.length - 4, true);
  const actual = crc32(bytes.subarray(0, bytes.length - 4));
  if (stored !== actual) throw new ModelFormatError(`network file checksum mismatch (stored ${hex(stored)}, computed ${hex(actual)}): the file is corrupt or truncated; download or convert it again`);
  const version = dv.getUint32(8, true);
  if (version !== FORMAT_VERSION) throw new ModelFormatError(`network file format version ${version} is not supported (this package reads version ${FORMAT_VERSION}); upgrade srgan-wasm`);
  const headerLen = dv.getUint32(12, true);
  if (16 + headerLen > bytes.length - 4) throw new ModelFormatError(`header length ${headerLen} runs past the end of the file`);
  let header: Header;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(16, 16 + headerLen)));
  } catch (cause) {
    throw new ModelFormatError(`network header is not valid JSON: ${(cause as Error).message}`, { cause });
  }
  if (!header || !Array.isArray(header.tensors) || !Array.isArray(header.nodes)) throw new ModelFormatError("network header lacks 'tensors' or 'nodes'");
  const dataStart = Math.ceil((16 + headerLen) / 4) * 4;
  const dataEnd = bytes.length - 4;
  const weights: Record<string, Weight> = {};
  for (const t of header.tensors) {
    const where = `tensor '${t?.name}'`;
    if (typeof t?.name !== "string" || !Array.isArray(t.shape) || t.shape.some((d) => !Number.isInteger(d) || d < 1)) throw new ModelFormatError(`${where}: bad name or shape`);
    if (t.dtype !== "f32" && t.dtype !== "f16") throw new ModelFormatError(`${where}: dtype must be f32 or f16, got ${String(t.dtype)}`);
    const n = t.shape.reduce((a, b) => a * b, 1);
    const want = n * (t.dtype === "f16" ? 2 : 4);
    if (t.bytes !== want) throw new ModelFormatError(`${where}: ${t.bytes} bytes for shape [${t.shape}] ${t.dtype}, expected ${want}`);
    if (!Number.isInteger(t.offset) || t.offset < 0 || t.offset % 4 !== 0 || dataStart + t.offset + want > dataEnd) {
      throw new ModelFormatError(`${where}: data at offset ${t.offset} (+${want} bytes) lies outside the file`);
    }
    if (weights[t.name]) throw new ModelFormatError(`${where} appears twice`);
    // A copy (new Uint8Array(view)), never .slice(): on a Node Buffer slice() is a view into a shared pool.
    const raw = new Uint8Array(bytes.subarray(dataStart + t.offset, dataStart + t.offset + want));
    const data = t.dtype === "f16" ? f16ToF32(new Uint16Array(raw.buffer)) : new Float32Array(raw.buffer);
    for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) throw new ModelFormatError(`${where}: value ${i} is ${data[i]}`);
    weights[t.name] = { shape: t.shape, data };
  }
  const { name, scale, channels, input, output, nodes, meta, inputPad, align } = header;
  return validateGraph({ name: String(name), scale, channels, input, output, nodes, meta, weights, inputPad, align });
}

const hex = (n: number) => `0x${n.toString(16).padStart(8, "0")}`;
