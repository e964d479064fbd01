// SPDX-License-Identifier: MIT
// APNG ⇄ frames on our PNG code: each frame's data is wrapped as a standalone PNG and decoded by
// decodePngPixels (every colour type and depth), then drawn on the canvas with the frame's blend and
// dispose operations (fast-png's own APNG compositing gets those wrong, so it is not used). Encoding
// writes every frame as the whole canvas in RGBA, replacing the one before.
import { ImageDecodeError, ImageEncodeError } from "../errors.js";
import { crc32 } from "../model/crc32.js";
import type { AnimationInfo, TimedFrame } from "./frame.js";
import { decodePngPixels, deflateRgba, isPng, pngChunk, readPngHeader } from "./png.js";

interface Chunk { type: string; data: Uint8Array }

const fail = (what: string) => new ImageDecodeError(`APNG ${what}; the file is damaged or incomplete`);

/** The chunks of a PNG file, bounds and CRCs checked, up to IEND. */
function chunks(bytes: Uint8Array): Chunk[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Chunk[] = [];
  for (let at = 8; ;) {
    if (at + 12 > bytes.length) throw fail(`is truncated: it ends at byte ${bytes.length} before the IEND chunk`);
    const length = dv.getUint32(at);
    if (length > bytes.length - at - 12) throw fail(`is truncated: a chunk at byte ${at} declares ${length} bytes`);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    if (crc32(bytes.subarray(at + 4, at + 8 + length)) !== dv.getUint32(at + 8 + length)) throw fail(`is corrupt: chunk ${type} at byte ${at} fails its CRC check`);
    out.push({ type, data: bytes.subarray(at + 8, at + 8 + length) });
    at += 12 + length;
    if (type === "IEND") return out;
  }
}

/** Whether a PNG file is animated: an acTL chunk before the first IDAT (a cheap walk of chunk headers). */
export function isApng(bytes: Uint8Array): boolean {
  if (!isPng(bytes)) return false;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 8; at + 8 <= bytes.length; at += 12 + dv.getUint32(at)) {
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    if (type === "acTL") return true;
    if (type === "IDAT" || type === "IEND") return false;
  }
  return false;
}

export function readApngInfo(bytes: Uint8Array): AnimationInfo {
  const h = readPngHeader(bytes);
  const actl = chunks(bytes).find((c) => c.type === "acTL");
  if (!actl || actl.data.length !== 8) throw fail("has no valid acTL chunk");
  const dv = new DataView(actl.data.buffer, actl.data.byteOffset, 8);
  const frames = dv.getUint32(0);
  if (frames === 0) throw fail("declares 0 frames");
  return { format: "apng", width: h.width, height: h.height, frames, loopCount: dv.getUint32(4) };
}

interface FrameControl { width: number; height: number; x: number; y: number; durationUs: number; dispose: number; blend: number }

function readFctl(data: Uint8Array, canvasW: number, canvasH: number): FrameControl {
  if (data.length !== 26) throw fail("has an fcTL chunk of the wrong size");
  const dv = new DataView(data.buffer, data.byteOffset, 26);
  const fc = { width: dv.getUint32(4), height: dv.getUint32(8), x: dv.getUint32(12), y: dv.getUint32(16), dispose: data[24], blend: data[25] };
  const num = dv.getUint16(20), den = dv.getUint16(22) || 100;
  if (fc.width === 0 || fc.height === 0 || fc.x + fc.width > canvasW || fc.y + fc.height > canvasH) throw fail(`has a ${fc.width}×${fc.height} frame at (${fc.x}, ${fc.y}) outside its ${canvasW}×${canvasH} canvas`);
  if (fc.dispose > 2 || fc.blend > 1) throw fail(`has a frame with dispose op ${fc.dispose} / blend op ${fc.blend} (0–2 / 0–1 exist)`);
  return { ...fc, durationUs: Math.max(10_000, Math.round((num / den) * 1e6)) };
}

export async function* decodeApng(bytes: Uint8Array, info: AnimationInfo): AsyncGenerator<TimedFrame, void, undefined> {
  const all = chunks(bytes);
  const ihdr = all[0].data;
  const shared = all.filter((c) => c.type === "PLTE" || c.type === "tRNS");
  const { width, height } = info;
  let canvas = new Uint8ClampedArray(width * height * 4);
  let timestamp = 0, decoded = 0;
  for (let i = 0; i < all.length; i++) {
    if (all[i].type !== "fcTL") continue;
    const fc = readFctl(all[i].data, width, height);
    const parts: Uint8Array[] = [];
    for (let j = i + 1; j < all.length && all[j].type !== "fcTL" && all[j].type !== "IEND"; j++) {
      if (all[j].type === "IDAT") parts.push(all[j].data);
      else if (all[j].type === "fdAT") parts.push(all[j].data.subarray(4)); // after its sequence number
    }
    if (parts.length === 0) throw fail(`frame ${decoded} has no pixel data`);
    const pixels = decodeFramePixels(ihdr, shared, fc, parts);
    const saved = fc.dispose === 2 && decoded > 0 ? canvas.slice() : undefined;
    draw(canvas, width, pixels, fc);
    yield { data: canvas.slice(), width, height, timestamp, duration: fc.durationUs };
    timestamp += fc.durationUs;
    decoded++;
    if (fc.dispose === 1 || (fc.dispose === 2 && !saved)) clearRect(canvas, width, fc);
    else if (saved) canvas = saved;
  }
  if (decoded !== info.frames) throw fail(`declares ${info.frames} frames but holds ${decoded}`);
}

/** A frame's data decoded as the standalone PNG it would be with the file's header at the frame's size. */
function decodeFramePixels(ihdr: Uint8Array, shared: Chunk[], fc: FrameControl, parts: Uint8Array[]): Uint8ClampedArray {
  const header = new Uint8Array(ihdr); // a copy (slice() of a Node Buffer would be a view)
  const dv = new DataView(header.buffer);
  dv.setUint32(0, fc.width);
  dv.setUint32(4, fc.height);
  const file = concat([
    Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), ...pngChunk("IHDR", header),
    ...shared.flatMap((c) => pngChunk(c.type, c.data)), ...parts.flatMap((p) => pngChunk("IDAT", p)), ...pngChunk("IEND", new Uint8Array(0)),
  ]);
  return decodePngPixels(file, readPngHeader(file)).data;
}

/** Draws a frame's pixels at its place: replacing (blend 0) or alpha-composited over (blend 1). */
function draw(canvas: Uint8ClampedArray, width: number, src: Uint8ClampedArray, fc: FrameControl): void {
  for (let y = 0; y < fc.height; y++) {
    for (let x = 0; x < fc.width; x++) {
      const s = (y * fc.width + x) * 4, d = ((fc.y + y) * width + fc.x + x) * 4;
      const sa = src[s + 3];
      if (fc.blend === 0 || sa === 255) { canvas.set(src.subarray(s, s + 4), d); continue; }
      if (sa === 0) continue;
      const da = canvas[d + 3] * (255 - sa) / 255, a = sa + da;
      for (let c = 0; c < 3; c++) canvas[d + c] = Math.round((src[s + c] * sa + canvas[d + c] * da) / a);
      canvas[d + 3] = Math.round(a);
    }
  }
}

function clearRect(canvas: Uint8ClampedArray, width: number, fc: FrameControl): void {
  for (let y = fc.y; y < fc.y + fc.height; y++) canvas.fill(0, (y * width + fc.x) * 4, (y * width + fc.x + fc.width) * 4);
}

/** APNG with every frame the whole canvas in RGBA (blend: source, dispose: none); one frame is a plain PNG. */
export async function encodeApng(frames: AsyncIterable<TimedFrame & { duration: number }>, loopCount: number): Promise<Uint8Array> {
  const encoded: Array<{ zlib: Uint8Array; durationUs: number }> = [];
  let width = 0, height = 0;
  for await (const f of frames) {
    ({ width, height } = f);
    encoded.push({ zlib: deflateRgba(f.data, f.width, f.height), durationUs: f.duration });
  }
  if (encoded.length === 0) throw new ImageEncodeError("no frames to encode");
  const ihdr = new Uint8Array(13);
  new DataView(ihdr.buffer).setUint32(0, width);
  new DataView(ihdr.buffer).setUint32(4, height);
  ihdr[8] = 8;
  ihdr[9] = 6;
  const parts = [Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), ...pngChunk("IHDR", ihdr)];
  const animated = encoded.length > 1;
  if (animated) parts.push(...pngChunk("acTL", u32s(encoded.length, loopCount)));
  let seq = 0;
  encoded.forEach(({ zlib, durationUs }, i) => {
    if (animated) {
      const fctl = new Uint8Array(26);
      const dv = new DataView(fctl.buffer);
      [seq++, width, height, 0, 0].forEach((v, k) => dv.setUint32(4 * k, v));
      const [num, den] = delay(durationUs);
      dv.setUint16(20, num);
      dv.setUint16(22, den); // dispose 0 (none), blend 0 (source)
      parts.push(...pngChunk("fcTL", fctl));
    }
    parts.push(...(i === 0 ? pngChunk("IDAT", zlib) : pngChunk("fdAT", concat([u32s(seq++), zlib]))));
  });
  parts.push(...pngChunk("IEND", new Uint8Array(0)));
  return concat(parts);
}

/** A duration as APNG's delay fraction: milliseconds where they fit 16 bits, else centiseconds. */
function delay(us: number): [number, number] {
  const ms = Math.round(us / 1000);
  return ms <= 65535 ? [ms, 1000] : [Math.min(65535, Math.round(us / 10_000)), 100];
}

function u32s(...values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  values.forEach((v, i) => new DataView(out.buffer).setUint32(4 * i, v));
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}
