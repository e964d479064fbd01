// SPDX-License-Identifier: MIT
// Training checkpoints: everything a run needs to continue exactly where it stopped — the network
// structure, the flat parameters, Adam's moments, the step, the data generator's state and the
// options — in one checksummed file. Layout (little-endian):
//
//   0  "SRCKPT\0\0"  8-byte magic        12  u32 header length H
//   8  u32 version (1)                    16  H bytes UTF-8 JSON header (CheckpointHeader)
//   …  zero padding to a multiple of 4, then params, m, v (paramCount f32 each), then u32 CRC-32 of all before.
import { ModelFormatError } from "../errors.js";
import { crc32 } from "../model/crc32.js";
import type { Graph, GraphNode, Weight } from "../model/graph.js";
import { foldGraph } from "./reparam.js";

const MAGIC = [0x53, 0x52, 0x43, 0x4b, 0x50, 0x54, 0, 0]; // "SRCKPT\0\0"
export const CHECKPOINT_VERSION = 1;

/** The graph without weight data; weights are slices of the flat parameter vector. */
export interface GraphStructure {
  name: string;
  scale: number;
  channels?: number;
  input: string;
  output: string;
  nodes: GraphNode[];
  meta?: Record<string, unknown>;
  weights: { name: string; shape: number[]; offset: number; length: number }[];
}

export interface HistoryEntry { step: number; loss: number; lr: number; valPsnr?: number }

export interface CheckpointHeader {
  /** Steps completed. */
  step: number;
  /** Rng state after the last completed step's draws. */
  rngState: number;
  paramCount: number;
  graph: GraphStructure;
  /** The resolved training options the run was started with (JSON values only). */
  options: Record<string, unknown>;
  /** Training time so far (excluding data loading), ms. */
  elapsedMs: number;
  history: HistoryEntry[];
}

export interface Checkpoint extends CheckpointHeader {
  params: Float32Array;
  m: Float32Array;
  v: Float32Array;
}

export function isCheckpoint(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && MAGIC.every((b, i) => bytes[i] === b);
}

export function encodeCheckpoint(c: Checkpoint): Uint8Array {
  const n = c.paramCount;
  for (const [name, a] of [["params", c.params], ["m", c.m], ["v", c.v]] as const) {
    if (a.length !== n) throw new RangeError(`checkpoint ${name} has ${a.length} values, paramCount is ${n}`);
  }
  const { params, m, v, ...header } = c;
  const json = new TextEncoder().encode(JSON.stringify(header));
  const dataStart = Math.ceil((16 + json.length) / 4) * 4;
  const out = new Uint8Array(dataStart + 12 * n + 4);
  const dv = new DataView(out.buffer);
  out.set(MAGIC, 0);
  dv.setUint32(8, CHECKPOINT_VERSION, true);
  dv.setUint32(12, json.length, true);
  out.set(json, 16);
  // Float32Array bytes are platform order; every engine this runs on (wasm included) is little-endian.
  [params, m, v].forEach((a, i) => out.set(new Uint8Array(a.buffer, a.byteOffset, 4 * n), dataStart + 4 * n * i));
  dv.setUint32(out.length - 4, crc32(out.subarray(0, out.length - 4)), true);
  return out;
}

export function decodeCheckpoint(bytes: Uint8Array): Checkpoint {
  if (!isCheckpoint(bytes)) throw new ModelFormatError("not a training checkpoint (bad magic); checkpoints are written by train() / `srgan train --checkpoint`");
  if (bytes.length < 20) throw new ModelFormatError(`checkpoint is ${bytes.length} bytes: truncated`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // Checksum first: a damaged version field must read as damage, not as another version.
  const stored = dv.getUint32(bytes.length - 4, true), actual = crc32(bytes.subarray(0, bytes.length - 4));
  if (stored !== actual) throw new ModelFormatError(`checkpoint checksum mismatch (stored ${stored.toString(16)}, computed ${actual.toString(16)}): the file is corrupt or truncated`);
  const version = dv.getUint32(8, true);
  if (version !== CHECKPOINT_VERSION) throw new ModelFormatError(`checkpoint version ${version} is not supported (this package reads ${CHECKPOINT_VERSION})`);
  const headerLen = dv.getUint32(12, true);
  if (16 + headerLen > bytes.length - 4) throw new ModelFormatError(`checkpoint header length ${headerLen} runs past the end of the file`);
  let header: CheckpointHeader;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(16, 16 + headerLen)));
  } catch (cause) {
    throw new ModelFormatError(`checkpoint header is not valid JSON: ${(cause as Error).message}`, { cause });
  }
  const n = header?.paramCount;
  if (!Number.isInteger(n) || n < 1 || !header.graph || !Array.isArray(header.graph.weights)) throw new ModelFormatError("checkpoint header lacks paramCount or graph");
  const dataStart = Math.ceil((16 + headerLen) / 4) * 4;
  if (dataStart + 12 * n + 4 !== bytes.length) throw new ModelFormatError(`checkpoint holds ${bytes.length - dataStart - 4} data bytes, expected ${12 * n} for ${n} parameters`);
  const slice = (i: number) => new Float32Array(bytes.slice(dataStart + 4 * n * i, dataStart + 4 * n * (i + 1)).buffer);
  for (const w of header.graph.weights) {
    if (!w || typeof w !== "object") throw new ModelFormatError("checkpoint header has a weight entry that is not an object");
    if (!Number.isInteger(w.offset) || !Number.isInteger(w.length) || w.length < 0 || w.offset < 0 || w.offset + w.length > n) throw new ModelFormatError(`checkpoint weight '${w.name}' lies outside the parameter vector`);
  }
  return { ...header, params: slice(0), m: slice(1), v: slice(2) };
}

/** The network as it is trained: with its `--reparam` branches, if any (what a resumed run continues). */
export function checkpointTrainingGraph(c: Checkpoint): Graph {
  const weights: Record<string, Weight> = {};
  for (const w of c.graph.weights) weights[w.name] = { shape: w.shape, data: c.params.slice(w.offset, w.offset + w.length) };
  const { name, scale, channels, input, output, nodes, meta } = c.graph;
  return { name, scale, channels, input, output, nodes, meta, weights };
}

/**
 * The network as it runs (`srgan convert CKPT OUT.srnet` writes it): branches folded into their kernels,
 * because inference reads only the kernels and would silently drop what the branches add.
 */
export function checkpointGraph(c: Checkpoint): Graph {
  return foldGraph(checkpointTrainingGraph(c));
}
