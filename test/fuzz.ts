// A seeded, bounded fuzzer for every reader of untrusted bytes: PNG and JPEG (decodeImage), .srnet
// (decodeNetwork), srgan-rust .rsr (decodeRsr), training checkpoints (decodeCheckpoint), the
// community network files (src/model/formats: PyTorch .pth zip and legacy, .safetensors, ncnn .param
// and .bin, waifu2x JSON), ONNX (the protobuf reader and the graph converter behind it), animated GIF,
// APNG and WebP (decodeAnimation, every frame) and the Matroska frame stream FFmpeg sends (readMkvFrames). Each case mutates a valid file (bit flips, truncation,
// byte runs, length and size fields set to extremes, JSON header values set to extremes; checksums
// repaired half the time so the parsers behind them are reached) and must either decode or throw a
// typed SrganError, within a time bound per case and a bound on the process's peak memory.
// Used by test/unit/fuzz.test.ts (short pass) and scripts/fuzz.ts (long pass).
import { SrganError } from "../src/errors.js";
import { decodeImage, encodeJpeg, encodePng } from "../src/image/codec.js";
import { crc32 } from "../src/model/crc32.js";
import { decodeNetwork, encodeNetwork } from "../src/model/formats/srnet.js";
import { decodeRsr, shuffleBytes } from "../src/model/formats/rsr.js";
import type { RsrHyper } from "../src/model/families/srgan-rust.js";
import { decodeCheckpoint, encodeCheckpoint } from "../src/train/checkpoint.js";
import { decodeNcnn } from "../src/model/formats/ncnn.js";
import { decodePth, pickStateDict } from "../src/model/formats/pytorch.js";
import { decodeSafetensors } from "../src/model/formats/safetensors.js";
import { decodeWaifu2xJson } from "../src/model/formats/waifu2x-json.js";
import { decodeAnimation, encodeAnimation } from "../src/image/animation.js";
import type { TimedFrame } from "../src/image/frame.js";
import { StreamReader } from "../src/video/stream-reader.js";
import { mkvFrame, mkvHeader, readMkvFrames } from "../src/video/mkv.js";
import { decodeOnnxNetwork } from "../src/model/formats/onnx-network.js";
import { encodeOnnx } from "../src/model/formats/onnx-export.js";
import { validateGraph } from "../src/model/graph.js";
import { builtinGraph } from "../src/model/builtin.js";
import { blackPng } from "./bombs.js";
import { globalNetwork, randomArray, randomImage, rng, shuffleNetwork } from "./helpers.js";
import { ncnnBlob, ncnnParam } from "./ncnn-writer.js";
import { dict, tensorRef, type PyValue } from "./pickle-writer.js";
import { concat, torchLegacy, torchZip, type Storage } from "./pth-writer.js";
import { bincode, payload, randomArrays, xzStore } from "./rsr-writer.js";
import { safetensors } from "./safetensors-writer.js";

type Rand = () => number;
const pick = <T>(rand: Rand, xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
const int = (rand: Rand, n: number) => Math.floor(rand() * n);

interface Reader {
  name: string;
  /** Valid files to start from (made on first use where making them is asynchronous). */
  seeds: Uint8Array[] | (() => Promise<Uint8Array[]>);
  read(bytes: Uint8Array): unknown;
  /** Fixes the checksums after a mutation, so the parser behind them sees it. */
  repair?(bytes: Uint8Array): Uint8Array;
  /** Offsets of length and size fields: [offset, byte width, little-endian]. */
  fields(bytes: Uint8Array): [number, 2 | 4 | 8, boolean][];
  /** Rewrites one value of the file's JSON header to something hostile (formats with one). */
  mutateHeader?(bytes: Uint8Array, rand: Rand): Uint8Array;
}

const EXTREMES = [0, 1, 2, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff];

/** PNG: every chunk's length, IHDR's width and height; CRCs recomputed chunk by chunk. */
function pngChunks(b: Uint8Array): number[] {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const at: number[] = [];
  for (let i = 8; i + 12 <= b.length && at.length < 64; i += 12 + dv.getUint32(i)) {
    at.push(i);
    if (dv.getUint32(i) > b.length) break;
  }
  return at;
}
function repairPng(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(b);
  const dv = new DataView(out.buffer);
  for (const i of pngChunks(out)) {
    const len = dv.getUint32(i);
    if (i + 12 + len <= out.length) dv.setUint32(i + 8 + len, crc32(out.subarray(i + 4, i + 8 + len)));
  }
  return out;
}

/** JPEG: every segment length before the scan, and the frame header's height and width. */
function jpegFields(b: Uint8Array): [number, 2, false][] {
  const f: [number, 2, false][] = [];
  for (let i = 2; i + 4 <= b.length && b[i] === 0xff && b[i + 1] !== 0xda;) {
    f.push([i + 2, 2, false]);
    if (b[i + 1] === 0xc0 || b[i + 1] === 0xc2) f.push([i + 5, 2, false], [i + 7, 2, false]);
    i += 2 + ((b[i + 2] << 8) | b[i + 3]);
  }
  return f;
}

/** .srnet and checkpoints: magic, u32 version, u32 header length, JSON, data, trailing CRC-32. */
function repairTrailingCrc(b: Uint8Array): Uint8Array {
  if (b.length < 4) return b;
  const out = new Uint8Array(b);
  new DataView(out.buffer).setUint32(out.length - 4, crc32(out.subarray(0, out.length - 4)), true);
  return out;
}

/** Sets one value anywhere in a parsed JSON document to something hostile; false if it has none. */
function mutateJson(doc: unknown, rand: Rand): boolean {
  const slots: [Record<string, unknown> | unknown[], string | number][] = [];
  const walk = (v: unknown) => {
    if (v && typeof v === "object") for (const k of Object.keys(v)) { slots.push([v as Record<string, unknown>, Array.isArray(v) ? Number(k) : k]); walk((v as Record<string, unknown>)[k]); }
  };
  walk(doc);
  if (slots.length === 0) return false;
  const [obj, key] = pick(rand, slots);
  (obj as Record<string | number, unknown>)[key] = pick(rand, [-1, 0, 1e308, -1e308, 2 ** 32, 2 ** 53, 1.5, null, "x", [], {}, true, [2 ** 31, 2 ** 31]]);
  return true;
}

/** .srnet and checkpoints: rewrites one value in the JSON header, keeping the file otherwise valid. */
function mutateJsonHeader(b: Uint8Array, rand: Rand): Uint8Array {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const len = dv.getUint32(12, true);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder().decode(b.subarray(16, 16 + len)));
  } catch {
    return b;
  }
  if (!mutateJson(header, rand)) return b;
  const json = new TextEncoder().encode(JSON.stringify(header));
  const oldStart = Math.ceil((16 + len) / 4) * 4, newStart = Math.ceil((16 + json.length) / 4) * 4;
  const out = new Uint8Array(newStart + (b.length - oldStart));
  out.set(b.subarray(0, 16));
  new DataView(out.buffer).setUint32(12, json.length, true);
  out.set(json, 16);
  out.set(b.subarray(oldStart), newStart);
  return repairTrailingCrc(out);
}

/** .safetensors: one header value set to an extreme (the u64 length rewritten to match). */
function mutateSafetensorsHeader(b: Uint8Array, rand: Rand): Uint8Array {
  const len = Number(new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(0, true));
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder().decode(b.subarray(8, 8 + len)));
  } catch {
    return b;
  }
  if (!mutateJson(header, rand)) return b;
  const json = new TextEncoder().encode(JSON.stringify(header));
  const size = new Uint8Array(8);
  new DataView(size.buffer).setBigUint64(0, BigInt(json.length), true);
  return concat([size, json, b.subarray(8 + len)]);
}

/** A whole JSON document (waifu2x networks): one value set to an extreme. */
function mutateJsonDocument(b: Uint8Array, rand: Rand): Uint8Array {
  const doc = JSON.parse(new TextDecoder().decode(b));
  return mutateJson(doc, rand) ? new TextEncoder().encode(JSON.stringify(doc)) : b;
}

/** Zip archives: the central directory's sizes and offsets, and the end records' counts and offsets. */
function zipFields(b: Uint8Array): [number, 2 | 4 | 8, boolean][] {
  const f: [number, 2 | 4 | 8, boolean][] = [];
  for (let i = 0; i + 4 <= b.length && f.length < 96; i++) {
    if (b[i] !== 0x50 || b[i + 1] !== 0x4b) continue;
    const sig = (b[i + 2] << 8) | b[i + 3];
    if (sig === 0x0102) f.push([i + 20, 4, true], [i + 24, 4, true], [i + 28, 2, true], [i + 42, 4, true]);
    else if (sig === 0x0606) f.push([i + 32, 8, true], [i + 40, 8, true], [i + 48, 8, true]);
    else if (sig === 0x0607) f.push([i + 8, 8, true]);
    else if (sig === 0x0506) f.push([i + 10, 2, true], [i + 12, 4, true], [i + 16, 4, true]);
  }
  return f;
}
/** Zip: every entry's CRC-32 set to 0 ("not computed"), so mutated entries reach the pickle reader. */
function zeroZipCrcs(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(b);
  for (let i = 0; i + 20 <= out.length; i++) if (out[i] === 0x50 && out[i + 1] === 0x4b && out[i + 2] === 1 && out[i + 3] === 2) out.fill(0, i + 16, i + 20);
  return out;
}
/** Pickles: the u32 after every BINUNICODE and BININT opcode byte, and a 64-bit count at every 8th offset of the tail. */
function pickleFields(b: Uint8Array): [number, 4 | 8, boolean][] {
  const f: [number, 4 | 8, boolean][] = [];
  for (let i = 0; i < b.length && f.length < 64; i++) if (b[i] === 0x58 || b[i] === 0x4a) f.push([i + 1, 4, true]);
  for (let i = Math.max(0, b.length - 256); i + 8 <= b.length; i += 8) f.push([i, 8, true]);
  return f;
}

/** Small community-format files: a state dict of a few float32 and float16 tensors, and ncnn and waifu2x networks. */
function networkFiles(rand: Rand) {
  const storages: Storage[] = [
    { key: "0", dtype: "float32", values: randomArray(2 * 3 * 9, rand) }, { key: "1", dtype: "float32", values: randomArray(2, rand) },
    { key: "2", dtype: "float16", values: randomArray(12, rand) },
  ];
  const stateDict = new Map<PyValue, PyValue>([["conv.weight", tensorRef("0", [2, 3, 3, 3])], ["conv.bias", tensorRef("1", [2])], ["fc.weight", tensorRef("2", [3, 4], [1, 3])]]);
  const root = dict([["params_ema", stateDict], ["iter", 3]]);
  const param = ncnnParam([
    { type: "Input", name: "in", inputs: [], outputs: ["x"], params: "0=8 1=8 2=3" },
    { type: "Convolution", name: "c1", inputs: ["x"], outputs: ["a"], params: "0=2 1=3 4=1 5=1 6=54 9=2 -23310=1,1.000000e-01" },
    { type: "PReLU", name: "p", inputs: ["a"], outputs: ["b"], params: "0=2" },
    { type: "Deconvolution", name: "d", inputs: ["b"], outputs: ["y"], params: "0=3 1=4 3=2 4=1 5=1 6=96" },
  ]);
  const bin = (storage: "fp16" | "fp32") => concat([ncnnBlob(randomArray(54, rand), storage), ncnnBlob(randomArray(2, rand), "untagged"), ncnnBlob(randomArray(2, rand), "untagged"),
    ncnnBlob(randomArray(96, rand), storage), ncnnBlob(randomArray(3, rand), "untagged")]);
  const conv = (nIn: number, nOut: number, extra = {}) => ({ class_name: "nn.SpatialConvolutionMM", kW: 3, kH: 3, dW: 1, dH: 1, padW: 0, padH: 0, nInputPlane: nIn, nOutputPlane: nOut,
    weight: Array.from({ length: nOut }, () => Array.from({ length: nIn }, () => Array.from({ length: 3 }, () => Array.from(randomArray(3, rand))))), bias: Array.from(randomArray(nOut, rand)), ...extra });
  const json = new TextEncoder().encode(JSON.stringify([conv(3, 4, { model_config: { arch_name: "vgg_7", scale_factor: 1, channels: 3, offset: 2 } }), conv(4, 3)]));
  return { pthZip: [torchZip(root, storages)], pthLegacy: [torchLegacy(root, storages)], param, bins: [bin("fp16"), bin("fp32")], json,
    safetensors: [safetensors([{ name: "a", dtype: "float32", shape: [2, 3], values: randomArray(6, rand) }, { name: "b", dtype: "float16", shape: [3], values: randomArray(3, rand) }, { name: "c", dtype: "bfloat16", shape: [2], values: [1, 2] }], { format: "pt" })] };
}

const HYPER: RsrHyper = { factor: 2, width: 3, logDepth: 2, globalNodeFactor: 1 };

/** Decodes every frame: the header alone proves little. */
async function readAnimation(bytes: Uint8Array): Promise<void> {
  for await (const _ of decodeAnimation(bytes).frames);
}

async function readMkv(bytes: Uint8Array): Promise<void> {
  async function* once() { yield bytes; }
  for await (const _ of readMkvFrames(new StreamReader(once())));
}

function readers(): Reader[] {
  const rand = rng(99);
  const translucent = randomImage(rand, 9, 7, false);
  const srnet = shuffleNetwork(rand, 4);
  const n = 6;
  const ckpt = encodeCheckpoint({
    step: 3, rngState: 12345, paramCount: n, elapsedMs: 10, options: { steps: 10, lr: 1e-3 }, history: [{ step: 1, loss: 0.5, lr: 1e-3 }],
    graph: { name: "t", scale: 2, input: "x", output: "y", nodes: [], weights: [{ name: "w", shape: [2, 3], offset: 0, length: n }] },
    params: Float32Array.from({ length: n }, (_, i) => i / 7), m: new Float32Array(n).fill(0.1), v: new Float32Array(n).fill(0.01),
  });
  const u32le = (at: number): [number, 4, boolean] => [at, 4, true];
  const net = networkFiles(rng(100)); // its own stream: the older readers' seeds stay as they were
  const ncnnBin = (b: Uint8Array) => decodeNcnn({ param: net.param, bin: b }, { param: "fuzz.param", bin: "fuzz.bin" });
  const anim = rng(101); // its own stream too
  const clip: TimedFrame[] = [0, 1, 2].map((k) => ({ ...randomImage(anim, 7, 5, k !== 1), timestamp: k * 40_000 }));
  const animations = async (format: "gif" | "apng" | "webp") => [await encodeAnimation(format, clip), await encodeAnimation(format, clip.slice(0, 2), { loopCount: 2 })];
  const riffFields = (b: Uint8Array) => Array.from({ length: Math.min(64, Math.floor(b.length / 4)) }, (_, i) => u32le(4 * i));
  return [
    {
      name: "png",
      seeds: [encodePng(randomImage(rand, 13, 11)), encodePng(translucent), blackPng(33, 5)],
      read: (b) => decodeImage(b),
      repair: repairPng,
      fields: (b) => [...pngChunks(b).map((i): [number, 4, boolean] => [i, 4, false]), [16, 4, false], [20, 4, false]],
    },
    {
      name: "jpeg",
      seeds: [encodeJpeg(randomImage(rand, 16, 12), 80), encodeJpeg(translucent, 30)],
      read: (b) => decodeImage(b),
      fields: jpegFields,
    },
    {
      name: "srnet",
      seeds: [encodeNetwork(srnet), encodeNetwork(srnet, { dtype: "f16" })],
      read: (b) => decodeNetwork(b),
      repair: repairTrailingCrc,
      fields: () => [u32le(8), u32le(12)],
      mutateHeader: mutateJsonHeader,
    },
    {
      name: "rsr",
      // The payload is mutated too (then wrapped in a valid xz stream), so the bincode parser is reached.
      seeds: [xzStore(payload(HYPER, randomArrays(HYPER, rand), "new")), xzStore(payload(HYPER, randomArrays(HYPER, rand), "old"))],
      read: (b) => decodeRsr(b, "fuzz.rsr"),
      fields: (b) => Array.from({ length: Math.floor(b.length / 4) }, (_, i) => u32le(4 * i)),
    },
    {
      name: "checkpoint",
      seeds: [ckpt],
      read: (b) => decodeCheckpoint(b),
      repair: repairTrailingCrc,
      fields: () => [u32le(8), u32le(12)],
      mutateHeader: mutateJsonHeader,
    },
    {
      name: "pth-zip",
      seeds: net.pthZip,
      read: (b) => pickStateDict(decodePth(b, "fuzz.pth"), "fuzz.pth"),
      repair: zeroZipCrcs,
      fields: zipFields,
    },
    {
      name: "pth-legacy",
      seeds: net.pthLegacy,
      read: (b) => pickStateDict(decodePth(b, "fuzz.pth"), "fuzz.pth"),
      fields: pickleFields,
    },
    {
      name: "safetensors",
      seeds: net.safetensors,
      read: (b) => decodeSafetensors(b, "fuzz.safetensors"),
      fields: () => [[0, 8, true]],
      mutateHeader: mutateSafetensorsHeader,
    },
    {
      name: "ncnn-bin",
      seeds: net.bins,
      read: ncnnBin,
      fields: () => [u32le(0), u32le(4 + 108 + 16), u32le(4 + 216 + 16)], // the weight blobs' storage tags (fp16 seed: 0, 128; fp32: 0, 236)
    },
    {
      name: "ncnn-param",
      seeds: [new TextEncoder().encode(net.param)],
      read: (b) => decodeNcnn({ param: b, bin: net.bins[0] }, { param: "fuzz.param", bin: "fuzz.bin" }),
      fields: () => [],
    },
    {
      name: "waifu2x-json",
      seeds: [net.json],
      read: (b) => decodeWaifu2xJson(b, "fuzz.json"),
      fields: () => [],
      mutateHeader: mutateJsonDocument,
    },
    { name: "gif", seeds: () => animations("gif"), read: readAnimation, fields: (b) => [[6, 2, true], [8, 2, true], ...riffFields(b).map(([at]): [number, 2, boolean] => [at, 2, true])] },
    { name: "apng", seeds: () => animations("apng"), read: readAnimation, repair: repairPng, fields: (b) => [...pngChunks(b).map((i): [number, 4, boolean] => [i, 4, false]), ...pngChunks(b).map((i): [number, 4, boolean] => [i + 12, 4, false])] },
    { name: "webp", seeds: () => animations("webp"), read: readAnimation, fields: riffFields },
    { name: "mkv", seeds: [concat([mkvHeader(7, 5), ...clip.flatMap((f) => mkvFrame(f))])], read: readMkv, fields: (b) => Array.from({ length: Math.min(64, b.length - 8) }, (_, i): [number, 8, boolean] => [i, 8, false]) },
    {
      name: "onnx",
      // Our export of a small network, of one with global means and a spline, and of bicubic (its mirror pad and size arithmetic).
      seeds: [shuffleNetwork(rng(101), 4), globalNetwork(rng(102)), builtinGraph("bicubic", 2)!].map((g) => encodeOnnx(validateGraph(g))),
      read: (b) => decodeOnnxNetwork(b, "fuzz.onnx"),
      fields: () => [],
    },
  ];
}

function mutate(r: Reader, seed: Uint8Array, rand: Rand): { bytes: Uint8Array; how: string } {
  let b: Uint8Array = new Uint8Array(seed); // a copy, even of a Node Buffer (whose slice() is a view)
  const kind = int(rand, r.mutateHeader ? 5 : 4);
  let how: string;
  if (kind === 0) {
    const flips = 1 + int(rand, 8);
    for (let i = 0; i < flips; i++) b[int(rand, b.length)] ^= 1 << int(rand, 8);
    how = `${flips} bit flips`;
  } else if (kind === 1) {
    b = b.subarray(0, int(rand, b.length));
    how = `truncated to ${b.length}`;
  } else if (kind === 2) {
    const at = int(rand, b.length), n = 1 + int(rand, 8), v = pick(rand, [0, 0xff]);
    b.fill(v, at, at + n);
    how = `${n} bytes at ${at} set to ${v}`;
  } else if (kind === 3) {
    const fields = r.fields(b);
    const [at, width, le] = fields.length ? pick(rand, fields) : [int(rand, Math.max(1, b.length - 4)), 4 as const, false];
    const v = pick(rand, EXTREMES);
    if (at + width <= b.length) {
      const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
      if (width === 2) dv.setUint16(at, v & 0xffff, le);
      else if (width === 4) dv.setUint32(at, v >>> 0, le);
      else dv.setBigUint64(at, BigInt(v), le);
    }
    how = `field at ${at} (${width} bytes) set to ${v}`;
  } else {
    b = r.mutateHeader!(b, rand);
    return { bytes: b, how: "a JSON header value set to an extreme" };
  }
  if (r.repair && rand() < 0.5) {
    b = r.repair(b);
    how += ", checksums repaired";
  }
  return { bytes: b, how };
}

/** Every reader's name, for `fuzz({ only })`. */
export const readerNames = (): string[] => readers().map((r) => r.name);

export interface FuzzFailure { reader: string; caseIndex: number; how: string; problem: string; bytes: Uint8Array }
export interface FuzzResult { cases: number; decoded: number; refused: number; failures: FuzzFailure[]; slowestMs: number; peakRssGrowthMiB: number }

/**
 * Runs `casesPerReader` mutated cases for each reader from `seed`. A failure is an error that is not
 * an SrganError, a case slower than `maxMsPerCase`, or peak RSS growing past `maxRssGrowthMiB`.
 */
export async function fuzz(opts: { seed: number; casesPerReader: number; maxMsPerCase: number; maxRssGrowthMiB: number; only?: string; onCase?: (done: number) => void }): Promise<FuzzResult> {
  const result: FuzzResult = { cases: 0, decoded: 0, refused: 0, failures: [], slowestMs: 0, peakRssGrowthMiB: 0 };
  const rssStart = process.resourceUsage().maxRSS / 1024;
  for (const r of readers()) {
    if (opts.only && r.name !== opts.only) continue;
    const rand = rng(opts.seed ^ crc32(new TextEncoder().encode(r.name)));
    const seeds = typeof r.seeds === "function" ? await r.seeds() : r.seeds;
    for (let i = 0; i < opts.casesPerReader; i++) {
      const base = pick(rand, seeds);
      const { bytes, how } = r.name === "rsr" && rand() < 0.5 ? mutateRsrPayload(rand) : mutate(r, base, rand);
      const fail = (problem: string) => result.failures.push({ reader: r.name, caseIndex: i, how, problem, bytes });
      const t0 = performance.now();
      try {
        await r.read(bytes);
        result.decoded++;
      } catch (e) {
        if (e instanceof SrganError) result.refused++;
        else fail(`threw ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
      }
      const ms = performance.now() - t0;
      result.slowestMs = Math.max(result.slowestMs, ms);
      if (ms > opts.maxMsPerCase) fail(`took ${ms.toFixed(0)} ms`);
      const growth = process.resourceUsage().maxRSS / 1024 - rssStart;
      result.peakRssGrowthMiB = Math.max(result.peakRssGrowthMiB, growth);
      if (growth > opts.maxRssGrowthMiB) { fail(`peak RSS grew by ${growth.toFixed(0)} MiB`); return result; }
      result.cases++;
      opts.onCase?.(result.cases);
    }
  }
  return result;
}

/** The .rsr parser behind the xz layer: a mutated payload in a valid xz stream. */
function mutateRsrPayload(rand: Rand): { bytes: Uint8Array; how: string } {
  const plain = bincode(HYPER, randomArrays(HYPER, rand), rand() < 0.5 ? "new" : "old");
  // The descriptor's u32 hyper-parameters and u64 counts and dims sit in the first few dozen bytes.
  const fields = (b: Uint8Array) => Array.from({ length: Math.min(24, b.length >> 2) }, (_, i): [number, 4 | 8, boolean] => [4 * i, i % 3 === 2 ? 8 : 4, true]);
  const { bytes, how } = mutate({ name: "payload", seeds: [], read: () => undefined, fields }, plain, rand);
  return { bytes: xzStore(shuffleBytes(bytes)), how: `payload: ${how}` };
}
