// SPDX-License-Identifier: MIT
// Raw RGBA frames with their timestamps in Matroska, the container FFmpeg reads from and writes to a
// pipe with per-frame timing (raw video on a pipe has none, so variable frame timing would be lost).
// Only what that needs: one uncompressed video track ('V_UNCOMPRESSED', colour space fourcc 'RGBA'),
// one frame per block. Written with a Segment of unknown size so it can stream; read element by
// element from a StreamReader, holding one frame at a time. Pure code: runs in any JS runtime.
import { ImageDecodeError } from "../errors.js";
import type { TimedFrame } from "../image/frame.js";
import type { StreamReader } from "./stream-reader.js";

const ID = {
  EBML: 0x1a45dfa3, Segment: 0x18538067, Info: 0x1549a966, TimestampScale: 0x2ad7b1, MuxingApp: 0x4d80, WritingApp: 0x5741,
  Tracks: 0x1654ae6b, TrackEntry: 0xae, TrackNumber: 0xd7, TrackUID: 0x73c5, TrackType: 0x83, FlagLacing: 0x9c,
  CodecID: 0x86, DefaultDuration: 0x23e383, Video: 0xe0, PixelWidth: 0xb0, PixelHeight: 0xba, ColourSpace: 0x2eb524,
  Cluster: 0x1f43b675, Timestamp: 0xe7, SimpleBlock: 0xa3, BlockGroup: 0xa0, Block: 0xa1, BlockDuration: 0x9b,
} as const;

/** Our Matroska ticks are microseconds (TimestampScale in ns), the unit of TimedFrame. */
const SCALE_NS = 1000;
const UNKNOWN_SIZE = -1;

function idBytes(id: number): number[] {
  const n = id >= 0x1000000 ? 4 : id >= 0x10000 ? 3 : id >= 0x100 ? 2 : 1;
  return Array.from({ length: n }, (_, i) => (id >>> (8 * (n - 1 - i))) & 0xff);
}

function sizeBytes(size: number): number[] {
  if (size === UNKNOWN_SIZE) return [0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
  let len = 1;
  while (size >= 2 ** (7 * len) - 1) len++;
  const out = new Array<number>(len);
  let v = size;
  for (let i = len - 1; i >= 0; i--) { out[i] = v % 256; v = Math.floor(v / 256); }
  out[0] |= 0x80 >> (len - 1);
  return out;
}

const head = (id: number, size: number) => Uint8Array.from([...idBytes(id), ...sizeBytes(size)]);
const total = (parts: Uint8Array[]) => parts.reduce((n, p) => n + p.length, 0);
const master = (id: number, parts: Uint8Array[]) => [head(id, total(parts)), ...parts];

function uint(id: number, value: number): Uint8Array {
  const bytes: number[] = [];
  for (let v = value; bytes.length === 0 || v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  return Uint8Array.from([...idBytes(id), ...sizeBytes(bytes.length), ...bytes]);
}

function text(id: number, value: string): Uint8Array {
  const bytes = new TextEncoder().encode(value);
  return Uint8Array.from([...idBytes(id), ...sizeBytes(bytes.length), ...bytes]);
}

/** The start of a Matroska stream of raw RGBA frames of one size: EBML header, Segment, Info, Tracks. */
export function mkvHeader(width: number, height: number): Uint8Array {
  const parts = [
    ...master(ID.EBML, [uint(0x4286, 1), uint(0x42f7, 1), uint(0x42f2, 4), uint(0x42f3, 8), text(0x4282, "matroska"), uint(0x4287, 4), uint(0x4285, 2)]),
    head(ID.Segment, UNKNOWN_SIZE),
    ...master(ID.Info, [uint(ID.TimestampScale, SCALE_NS), text(ID.MuxingApp, "srgan-wasm"), text(ID.WritingApp, "srgan-wasm")]),
    ...master(ID.Tracks, master(ID.TrackEntry, [
      uint(ID.TrackNumber, 1), uint(ID.TrackUID, 1), uint(ID.TrackType, 1), uint(ID.FlagLacing, 0), text(ID.CodecID, "V_UNCOMPRESSED"),
      ...master(ID.Video, [uint(ID.PixelWidth, width), uint(ID.PixelHeight, height), Uint8Array.from([...idBytes(ID.ColourSpace), 0x84, 0x52, 0x47, 0x42, 0x41])]),
    ])),
  ];
  const out = new Uint8Array(total(parts));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

/**
 * One frame as a Cluster (its timestamp) holding one BlockGroup (the pixels and, when known, the
 * duration), as byte ranges that concatenate to it; the pixels are not copied.
 */
export function mkvFrame(frame: TimedFrame): Uint8Array[] {
  const pixels = new Uint8Array(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength);
  const blockHead = Uint8Array.from([0x81, 0, 0, 0]); // track 1, relative timestamp 0, no flags
  const group = [
    head(ID.Block, blockHead.length + pixels.length), blockHead, pixels,
    ...(frame.duration !== undefined ? [uint(ID.BlockDuration, Math.max(0, Math.round(frame.duration)))] : []),
  ];
  const cluster = [uint(ID.Timestamp, Math.max(0, Math.round(frame.timestamp))), ...master(ID.BlockGroup, group)];
  return master(ID.Cluster, cluster);
}

// Reading. Masters we descend into: their children are read in line, so their sizes (possibly
// unknown, as FFmpeg writes a Segment to a pipe) need not be tracked. A BlockGroup is read whole,
// since its Block's duration comes after the Block.
const DESCEND = new Set<number>([ID.Segment, ID.Tracks, ID.TrackEntry, ID.Video, ID.Info, ID.Cluster]);

const broken = (what: string, at: number) => new ImageDecodeError(`the video decoder's frame stream is ${what} at byte ${at}`);

async function readVint(r: StreamReader, keepMarker: boolean): Promise<{ value: number; length: number } | undefined> {
  const first = await r.read(1);
  if (first.length === 0) return undefined;
  let len = 1;
  while (len <= 8 && !(first[0] & (0x80 >> (len - 1)))) len++;
  if (len > 8) throw broken("corrupt (an element length with no marker bit)", r.position - 1);
  const rest = await r.read(len - 1);
  if (rest.length < len - 1) throw broken("truncated", r.position);
  let value = keepMarker ? first[0] : first[0] & (0xff >> len);
  let allOnes = value === 0xff >> len;
  for (const b of rest) { value = value * 256 + b; allOnes &&= b === 0xff; }
  return { value: !keepMarker && allOnes ? UNKNOWN_SIZE : value, length: len };
}

async function readUint(r: StreamReader, size: number): Promise<number> {
  const b = await r.read(size);
  if (b.length < size) throw broken("truncated", r.position);
  return b.reduce((v, x) => v * 256 + x, 0);
}

interface Track { width: number; height: number; codec: string; fourcc: string; defaultDurationNs?: number }

/**
 * The frames of a Matroska stream of raw RGBA video, one at a time, each in its own new buffer.
 * @throws ImageDecodeError when the stream is not that (another codec or pixel format, a block of the
 *   wrong size) or ends inside an element.
 */
export async function* readMkvFrames(r: StreamReader): AsyncGenerator<TimedFrame> {
  let scaleNs = 1_000_000; // Matroska's default: milliseconds
  const track: Track = { width: 0, height: 0, codec: "", fourcc: "" };
  let clusterTs = 0;
  for (;;) {
    const start = r.position;
    const id = await readVint(r, true);
    if (!id) return;
    const size = await readVint(r, false);
    if (!size) throw broken("truncated", r.position);
    if (DESCEND.has(id.value)) continue;
    if (size.value === UNKNOWN_SIZE) throw broken(`unreadable (element 0x${id.value.toString(16)} of unknown size)`, start);
    switch (id.value) {
      case ID.TimestampScale: scaleNs = await readUint(r, size.value); break;
      case ID.PixelWidth: track.width = await readUint(r, size.value); break;
      case ID.PixelHeight: track.height = await readUint(r, size.value); break;
      case ID.DefaultDuration: track.defaultDurationNs = await readUint(r, size.value); break;
      case ID.CodecID: track.codec = new TextDecoder().decode(await r.read(size.value)); break;
      case ID.ColourSpace: track.fourcc = String.fromCharCode(...await r.read(size.value)); break;
      case ID.Timestamp: clusterTs = await readUint(r, size.value); break;
      case ID.SimpleBlock: {
        const frame = await readBlock(r, size.value, track, clusterTs, scaleNs);
        if (track.defaultDurationNs) frame.duration = track.defaultDurationNs / 1000;
        yield frame;
        break;
      }
      case ID.BlockGroup: {
        const end = r.position + size.value;
        let frame: TimedFrame | undefined;
        let durationTicks: number | undefined;
        while (r.position < end) {
          const child = await readVint(r, true);
          const childSize = await readVint(r, false);
          if (!child || !childSize || childSize.value === UNKNOWN_SIZE) throw broken("truncated", r.position);
          if (child.value === ID.Block) frame = await readBlock(r, childSize.value, track, clusterTs, scaleNs);
          else if (child.value === ID.BlockDuration) durationTicks = await readUint(r, childSize.value);
          else if (await r.skip(childSize.value) < childSize.value) throw broken("truncated", r.position);
        }
        if (frame) {
          frame.duration = durationTicks !== undefined ? (durationTicks * scaleNs) / 1000 : track.defaultDurationNs && track.defaultDurationNs / 1000;
          yield frame;
        }
        break;
      }
      default:
        if (await r.skip(size.value) < size.value) throw broken("truncated", r.position);
    }
  }
}

async function readBlock(r: StreamReader, size: number, track: Track, clusterTs: number, scaleNs: number): Promise<TimedFrame> {
  if (track.codec !== "V_UNCOMPRESSED" || track.fourcc !== "RGBA" || !track.width || !track.height) {
    throw broken(`not raw RGBA video (codec '${track.codec}', pixel format '${track.fourcc}', ${track.width}×${track.height})`, r.position);
  }
  const trackNo = await readVint(r, false);
  if (!trackNo) throw broken("truncated", r.position);
  const meta = await r.read(3);
  if (meta.length < 3) throw broken("truncated", r.position);
  const relative = (meta[0] << 24 >> 16) | meta[1]; // signed 16-bit
  if (meta[2] & 0x06) throw broken("unreadable (laced blocks)", r.position);
  const bytes = size - trackNo.length - 3;
  const expected = track.width * track.height * 4;
  if (bytes !== expected) throw broken(`corrupt (a ${bytes}-byte frame where ${track.width}×${track.height} RGBA is ${expected})`, r.position);
  const pixels = await r.read(bytes);
  if (pixels.length < bytes) throw broken("truncated", r.position);
  const data = new Uint8ClampedArray(pixels.buffer, pixels.byteOffset, pixels.length);
  return { data, width: track.width, height: track.height, timestamp: ((clusterTs + relative) * scaleNs) / 1000 };
}
