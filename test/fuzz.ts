// A seeded, bounded fuzzer for every reader of untrusted bytes: PNG and JPEG (decodeImage), .srnet
// (decodeNetwork), srgan-rust .rsr (decodeRsr), training checkpoints (decodeCheckpoint), animated GIF,
// APNG and WebP (decodeAnimation, every frame) and the Matroska frame stream FFmpeg sends (readMkvFrames). Each case
// mutates a valid file (bit flips, truncation, byte runs, length and size fields set to extremes;
// checksums repaired half the time so the parsers behind them are reached) and must either decode or
// throw a typed SrganError, within a time bound per case and a bound on the process's peak memory.
// Used by test/unit/fuzz.test.ts (short pass) and scripts/fuzz.ts (long pass).
import { SrganError } from "../src/errors.js";
import { decodeImage, encodeJpeg, encodePng } from "../src/image/codec.js";
import { crc32 } from "../src/model/crc32.js";
import { decodeNetwork, encodeNetwork } from "../src/model/format.js";
import { decodeRsr, shuffleBytes, type RsrHyper } from "../src/model/rsr.js";
import { decodeCheckpoint, encodeCheckpoint } from "../src/train/checkpoint.js";
import { decodeAnimation, encodeAnimation } from "../src/image/animation.js";
import type { TimedFrame } from "../src/image/frame.js";
import { ByteReader } from "../src/video/byte-reader.js";
import { mkvFrame, mkvHeader, readMkvFrames } from "../src/video/mkv.js";
import { blackPng } from "./bombs.js";
import { randomImage, rng, shuffleNetwork } from "./helpers.js";
import { bincode, payload, randomArrays, xzStore } from "./rsr-writer.js";

type Rand = () => number;
const pick = <T>(rand: Rand, xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
const int = (rand: Rand, n: number) => Math.floor(rand() * n);

interface Reader {
  name: string;
  /** Valid files to start from. */
  seeds: Uint8Array[];
  read(bytes: Uint8Array): unknown;
  /** Fixes the checksums after a mutation, so the parser behind them sees it. */
  repair?(bytes: Uint8Array): Uint8Array;
  /** Offsets of length and size fields: [offset, byte width, little-endian]. */
  fields(bytes: Uint8Array): [number, 2 | 4 | 8, boolean][];
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

/** Rewrites one value in the JSON header to something hostile, keeping the file otherwise valid. */
function mutateJsonHeader(b: Uint8Array, rand: Rand): Uint8Array {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const len = dv.getUint32(12, true);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder().decode(b.subarray(16, 16 + len)));
  } catch {
    return b;
  }
  const slots: [Record<string, unknown> | unknown[], string | number][] = [];
  const walk = (v: unknown) => {
    if (v && typeof v === "object") for (const k of Object.keys(v)) { slots.push([v as Record<string, unknown>, Array.isArray(v) ? Number(k) : k]); walk((v as Record<string, unknown>)[k]); }
  };
  walk(header);
  if (slots.length === 0) return b;
  const [obj, key] = pick(rand, slots);
  (obj as Record<string | number, unknown>)[key] = pick(rand, [-1, 0, 1e308, -1e308, 2 ** 32, 2 ** 53, 1.5, null, "x", [], {}, true, [2 ** 31, 2 ** 31]]);
  const json = new TextEncoder().encode(JSON.stringify(header));
  const oldStart = Math.ceil((16 + len) / 4) * 4, newStart = Math.ceil((16 + json.length) / 4) * 4;
  const out = new Uint8Array(newStart + (b.length - oldStart));
  out.set(b.subarray(0, 16));
  new DataView(out.buffer).setUint32(12, json.length, true);
  out.set(json, 16);
  out.set(b.subarray(oldStart), newStart);
  return repairTrailingCrc(out);
}

const HYPER: RsrHyper = { factor: 2, width: 3, logDepth: 2, globalNodeFactor: 1 };

/** Decodes every frame: the header alone proves little. */
async function readAnimation(bytes: Uint8Array): Promise<void> {
  for await (const _ of decodeAnimation(bytes).frames);
}

async function readMkv(bytes: Uint8Array): Promise<void> {
  async function* once() { yield bytes; }
  for await (const _ of readMkvFrames(new ByteReader(once())));
}

const concatParts = (parts: Uint8Array[]) => { const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0)); let at = 0; for (const p of parts) { out.set(p, at); at += p.length; } return out; };

async function readers(): Promise<Reader[]> {
  const rand = rng(99);
  const translucent = randomImage(rand, 9, 7, false);
  const net = shuffleNetwork(rand, 4);
  const n = 6;
  const ckpt = encodeCheckpoint({
    step: 3, rngState: 12345, paramCount: n, elapsedMs: 10, options: { steps: 10, lr: 1e-3 }, history: [{ step: 1, loss: 0.5, lr: 1e-3 }],
    graph: { name: "t", scale: 2, input: "x", output: "y", nodes: [], weights: [{ name: "w", shape: [2, 3], offset: 0, length: n }] },
    params: Float32Array.from({ length: n }, (_, i) => i / 7), m: new Float32Array(n).fill(0.1), v: new Float32Array(n).fill(0.01),
  });
  const u32le = (at: number): [number, 4, boolean] => [at, 4, true];
  const clip: TimedFrame[] = [0, 1, 2].map((k) => ({ ...randomImage(rand, 7, 5, k !== 1), timestamp: k * 40_000 }));
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
      seeds: [encodeNetwork(net), encodeNetwork(net, { dtype: "f16" })],
      read: (b) => decodeNetwork(b),
      repair: repairTrailingCrc,
      fields: () => [u32le(8), u32le(12)],
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
    },
    { name: "gif", seeds: await animations("gif"), read: readAnimation, fields: (b) => [[6, 2, true], [8, 2, true], ...riffFields(b).map(([at]): [number, 2, boolean] => [at, 2, true])] },
    { name: "apng", seeds: await animations("apng"), read: readAnimation, repair: repairPng, fields: (b) => [...pngChunks(b).map((i): [number, 4, boolean] => [i, 4, false]), ...pngChunks(b).map((i): [number, 4, boolean] => [i + 12, 4, false])] },
    { name: "webp", seeds: await animations("webp"), read: readAnimation, fields: riffFields },
    { name: "mkv", seeds: [concatParts([mkvHeader(7, 5), ...clip.flatMap((f) => mkvFrame(f))])], read: readMkv, fields: (b) => Array.from({ length: Math.min(64, b.length - 8) }, (_, i): [number, 8, boolean] => [i, 8, false]) },
  ];
}

function mutate(r: Reader, seed: Uint8Array, rand: Rand): { bytes: Uint8Array; how: string } {
  let b: Uint8Array = new Uint8Array(seed); // a copy, even of a Node Buffer (whose slice() is a view)
  const kind = int(rand, r.name === "srnet" || r.name === "checkpoint" ? 5 : 4);
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
    b = mutateJsonHeader(b, rand);
    return { bytes: b, how: "a JSON header value set to an extreme" };
  }
  if (r.repair && rand() < 0.5) {
    b = r.repair(b);
    how += ", checksums repaired";
  }
  return { bytes: b, how };
}

export interface FuzzFailure { reader: string; caseIndex: number; how: string; problem: string; bytes: Uint8Array }
export interface FuzzResult { cases: number; decoded: number; refused: number; failures: FuzzFailure[]; slowestMs: number; peakRssGrowthMiB: number }

/**
 * Runs `casesPerReader` mutated cases for each reader from `seed`. A failure is an error that is not
 * an SrganError, a case slower than `maxMsPerCase`, or peak RSS growing past `maxRssGrowthMiB`.
 */
export async function fuzz(opts: { seed: number; casesPerReader: number; maxMsPerCase: number; maxRssGrowthMiB: number; only?: string; onCase?: (done: number) => void }): Promise<FuzzResult> {
  const result: FuzzResult = { cases: 0, decoded: 0, refused: 0, failures: [], slowestMs: 0, peakRssGrowthMiB: 0 };
  const rssStart = process.resourceUsage().maxRSS / 1024;
  for (const r of await readers()) {
    if (opts.only && r.name !== opts.only) continue;
    const rand = rng(opts.seed ^ crc32(new TextEncoder().encode(r.name)));
    for (let i = 0; i < opts.casesPerReader; i++) {
      const base = pick(rand, r.seeds);
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
