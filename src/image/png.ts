// SPDX-License-Identifier: MIT
// PNG ⇄ RGBA8 on fast-png (pure JS, so it runs in Node, browsers and Deno). We walk and checksum the
// chunk structure ourselves before fast-png sees the file, so a damaged file is refused with the exact
// reason instead of decoding to zeros, and we do the colour conversion (any type, 1–16 bits, tRNS).
import { decode as fastPngDecode, encode as fastPngEncode } from "fast-png";
import { ImageDecodeError, ImageEncodeError } from "../errors.js";
import { crc32 } from "../model/crc32.js";

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export interface PngHeader {
  width: number;
  height: number;
  depth: number;
  /** 0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA. */
  colorType: number;
  interlaced: boolean;
}

/** Samples per pixel for each colour type; the indices double as the valid colour types. */
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const DEPTHS: Record<number, number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };

export function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && SIGNATURE.every((b, i) => bytes[i] === b);
}

const fail = (what: string) => new ImageDecodeError(`PNG ${what}`);
const damaged = "; the file is damaged or incomplete: export or download it again";

/** Reads and checks IHDR only (no allocation), so the caller can refuse absurd sizes first. */
export function readPngHeader(bytes: Uint8Array): PngHeader {
  if (!isPng(bytes)) throw fail("signature missing: this is not a PNG file");
  if (bytes.length < 33) throw fail(`is truncated: ${bytes.length} bytes is too short to hold the IHDR header${damaged}`);
  const dv = view(bytes);
  if (dv.getUint32(8) !== 13 || chunkType(bytes, 12) !== "IHDR") throw fail(`is corrupt: the first chunk must be a 13-byte IHDR${damaged}`);
  const width = dv.getUint32(16), height = dv.getUint32(20);
  const depth = bytes[24], colorType = bytes[25];
  if (width === 0 || height === 0) throw fail(`header declares an empty ${width}×${height} image${damaged}`);
  if (!(colorType in CHANNELS)) throw fail(`header has colour type ${colorType}, which does not exist (0, 2, 3, 4 or 6)${damaged}`);
  if (!DEPTHS[colorType].includes(depth)) throw fail(`header has bit depth ${depth}, invalid for colour type ${colorType} (allowed: ${DEPTHS[colorType].join(", ")})${damaged}`);
  if (bytes[26] !== 0 || bytes[27] !== 0) throw fail(`header names compression ${bytes[26]} / filter method ${bytes[27]}; only 0/0 exist${damaged}`);
  if (bytes[28] > 1) throw fail(`header names interlace method ${bytes[28]}; only 0 (none) and 1 (Adam7) exist${damaged}`);
  return { width, height, depth, colorType, interlaced: bytes[28] === 1 };
}

interface Chunk { type: string; start: number; length: number }

/** Checks every chunk's bounds and CRC and the chunk order rules that decoding relies on. */
function walkChunks(bytes: Uint8Array, h: PngHeader): Chunk[] {
  const dv = view(bytes);
  const chunks: Chunk[] = [];
  let at = 8;
  for (;;) {
    if (at + 12 > bytes.length) throw fail(`is truncated: the file ends at byte ${bytes.length} before the IEND chunk${damaged}`);
    const length = dv.getUint32(at);
    const type = chunkType(bytes, at + 4);
    if (!/^[A-Za-z]{4}$/.test(type)) throw fail(`is corrupt: no valid chunk type at byte ${at}${damaged}`);
    if (length > bytes.length - at - 12) {
      throw fail(`is truncated: chunk ${type} at byte ${at} declares ${length} bytes but only ${Math.max(0, bytes.length - at - 12)} follow${damaged}`);
    }
    const stored = dv.getUint32(at + 8 + length);
    if (crc32(bytes.subarray(at + 4, at + 8 + length)) !== stored) throw fail(`is corrupt: chunk ${type} at byte ${at} fails its CRC check${damaged}`);
    chunks.push({ type, start: at + 8, length });
    at += 12 + length;
    if (type === "IEND") break;
  }
  const idat = chunks.filter((c) => c.type === "IDAT");
  if (idat.length === 0) throw fail(`has no IDAT (pixel data) chunk${damaged}`);
  const first = chunks.indexOf(idat[0]);
  if (chunks.slice(first, first + idat.length).some((c) => c.type !== "IDAT")) throw fail(`is corrupt: its IDAT chunks are not consecutive${damaged}`);
  const plte = chunks.findIndex((c) => c.type === "PLTE");
  if (h.colorType === 3 && (plte < 0 || plte > first)) throw fail(`is a palette image without a PLTE chunk before its pixel data${damaged}`);
  return chunks;
}

/** Decodes to RGBA8. The caller has checked the header's size against its limits. */
export function decodePngPixels(bytes: Uint8Array, h: PngHeader): { data: Uint8ClampedArray; width: number; height: number } {
  const chunks = walkChunks(bytes, h);
  const { width, height, depth, colorType } = h;
  const channels = CHANNELS[colorType];
  const { palette, colours, key } = readPaletteAndKey(bytes, chunks, h);
  let samples: Uint8Array | Uint16Array;
  if (h.interlaced && depth < 8) {
    // fast-png 8 sizes Adam7 rows as ≥ 1 byte per pixel, wrong below 8 bits: for these files we use it
    // only to inflate, and undo filters and interlacing ourselves.
    samples = adam7SubByte(inflateRaw(bytes, chunks, h), h);
  } else {
    let data: Uint8Array | Uint16Array;
    try {
      data = fastPngDecode(hideChunk(bytes, chunks, "tRNS"), { checkCrc: false }).data as Uint8Array | Uint16Array; // CRCs checked above
    } catch (cause) {
      throw new ImageDecodeError(`PNG pixel data cannot be decoded: ${(cause as Error).message}${damaged}`, { cause });
    }
    samples = depth < 8 ? unpackRows(data as Uint8Array, width, height, depth) : data;
    if (samples.length !== width * height * channels) throw fail(`pixel data decodes to ${samples.length} samples, expected ${width * height * channels}${damaged}`);
  }
  const out = new Uint8ClampedArray(width * height * 4);
  const n = width * height;
  if (colorType === 3) {
    for (let i = 0; i < n; i++) {
      const k = samples[i];
      if (k >= colours) throw fail(`pixel ${i % width},${Math.floor(i / width)} uses palette index ${k} but the palette has ${colours} colours${damaged}`);
      out[4 * i] = palette[4 * k]; out[4 * i + 1] = palette[4 * k + 1]; out[4 * i + 2] = palette[4 * k + 2]; out[4 * i + 3] = palette[4 * k + 3];
    }
    return { data: out, width, height };
  }
  const to8 = depth === 16 ? (v: number) => Math.floor((v * 255 + 32767) / 65535) : depth < 8 ? (v: number) => (v * 255) / ((1 << depth) - 1) : (v: number) => v;
  for (let i = 0, s = 0; i < n; i++, s += channels) {
    let r: number, g: number, b: number, a = 255;
    if (channels <= 2) {
      r = g = b = to8(samples[s]);
      if (channels === 2) a = to8(samples[s + 1]);
      else if (key && samples[s] === key[0]) a = 0;
    } else {
      r = to8(samples[s]); g = to8(samples[s + 1]); b = to8(samples[s + 2]);
      if (channels === 4) a = to8(samples[s + 3]);
      else if (key && samples[s] === key[0] && samples[s + 1] === key[1] && samples[s + 2] === key[2]) a = 0;
    }
    out[4 * i] = r; out[4 * i + 1] = g; out[4 * i + 2] = b; out[4 * i + 3] = a;
  }
  return { data: out, width, height };
}

/**
 * PLTE as RGBA entries (alpha from tRNS, else 255), and for grey / RGB the tRNS colour key: the one
 * colour, in the file's own bit depth, that is fully transparent.
 */
function readPaletteAndKey(bytes: Uint8Array, chunks: Chunk[], h: PngHeader) {
  const palette = new Uint8Array(256 * 4);
  let colours = 0;
  let key: number[] | undefined;
  const dv = view(bytes);
  const plte = chunks.find((c) => c.type === "PLTE");
  if (h.colorType === 3 && plte) {
    if (plte.length % 3 !== 0 || plte.length === 0 || plte.length > 768) throw fail(`PLTE chunk is ${plte.length} bytes; it must hold 1–256 RGB triples${damaged}`);
    colours = plte.length / 3;
    for (let i = 0; i < colours; i++) {
      palette.set(bytes.subarray(plte.start + 3 * i, plte.start + 3 * i + 3), 4 * i);
      palette[4 * i + 3] = 255;
    }
  }
  const trns = chunks.find((c) => c.type === "tRNS");
  if (trns) {
    const bad = (want: string) => fail(`tRNS chunk is ${trns.length} bytes; for colour type ${h.colorType} it must be ${want}${damaged}`);
    if (h.colorType === 3) {
      if (trns.length > colours) throw bad(`at most one byte per palette colour (${colours})`);
      for (let i = 0; i < trns.length; i++) palette[4 * i + 3] = bytes[trns.start + i];
    } else if (h.colorType === 0) {
      if (trns.length !== 2) throw bad("2");
      key = [dv.getUint16(trns.start)];
    } else if (h.colorType === 2) {
      if (trns.length !== 6) throw bad("6");
      key = [dv.getUint16(trns.start), dv.getUint16(trns.start + 2), dv.getUint16(trns.start + 4)];
    } else {
      throw fail(`has a tRNS chunk, which is not allowed with an alpha channel (colour type ${h.colorType})${damaged}`);
    }
  }
  return { palette, colours, key };
}

/** One sample per pixel from rows packed MSB-first at 1, 2 or 4 bits (grey or palette, one channel). */
function unpackRows(packed: Uint8Array, width: number, height: number, depth: number): Uint8Array {
  const stride = Math.ceil((width * depth) / 8);
  if (packed.length < stride * height) throw fail(`pixel data is ${packed.length} bytes, expected ${stride * height}${damaged}`);
  const out = new Uint8Array(width * height);
  unpackInto(out, packed, width, height, depth, (x, y) => y * width + x);
  return out;
}

function unpackInto(out: Uint8Array, packed: Uint8Array, w: number, h: number, depth: number, index: (x: number, y: number) => number): void {
  const stride = Math.ceil((w * depth) / 8);
  const mask = (1 << depth) - 1;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const bit = x * depth;
      out[index(x, y)] = (packed[y * stride + (bit >> 3)] >> (8 - depth - (bit & 7))) & mask;
    }
  }
}

const ADAM7 = [
  [0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2],
] as const; // x0, y0, dx, dy

function adam7Passes(width: number, height: number) {
  return ADAM7.map(([x0, y0, dx, dy]) => ({ x0, y0, dx, dy, w: Math.ceil((width - x0) / dx), h: Math.ceil((height - y0) / dy) }))
    .map((p) => ({ ...p, w: Math.max(0, p.w), h: Math.max(0, p.h) }));
}

/** Sub-byte images have one channel, so a filter unit is one byte and a row is ⌈w·depth/8⌉ bytes. */
function adam7SubByte(raw: Uint8Array, h: PngHeader): Uint8Array {
  const { width, height, depth } = h;
  const out = new Uint8Array(width * height);
  let at = 0;
  for (const p of adam7Passes(width, height)) {
    if (p.w === 0 || p.h === 0) continue;
    const stride = Math.ceil((p.w * depth) / 8);
    const plain = new Uint8Array(stride * p.h);
    let prev = new Uint8Array(stride);
    for (let y = 0; y < p.h; y++, at += stride + 1) {
      if (at + stride + 1 > raw.length) throw fail(`pixel data ends early (interlaced pass data is short)${damaged}`);
      const row = plain.subarray(y * stride, (y + 1) * stride);
      unfilterRow(raw[at], raw.subarray(at + 1, at + 1 + stride), prev, row);
      prev = row;
    }
    unpackInto(out, plain, p.w, p.h, depth, (x, y) => (p.y0 + y * p.dy) * width + p.x0 + x * p.dx);
  }
  return out;
}

/** Undoes one row's PNG filter with a filter unit of one byte. */
function unfilterRow(type: number, line: Uint8Array, prev: Uint8Array, out: Uint8Array): void {
  for (let i = 0; i < line.length; i++) {
    const a = i > 0 ? out[i - 1] : 0, b = prev[i], c = i > 0 ? prev[i - 1] : 0;
    let pred: number;
    switch (type) {
      case 0: pred = 0; break;
      case 1: pred = a; break;
      case 2: pred = b; break;
      case 3: pred = (a + b) >> 1; break;
      case 4: {
        const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
        pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
        break;
      }
      default: throw fail(`row uses filter type ${type}; only 0–4 exist${damaged}`);
    }
    out[i] = (line[i] + pred) & 0xff;
  }
}

/**
 * The inflated IDAT stream, byte for byte. fast-png has no public inflate, so we hand it a one-row
 * 8-bit grey PNG whose zlib stream is the original with a stored deflate block holding one 0 byte
 * spliced in front (RFC 1951 blocks concatenate on byte boundaries): fast-png reads that 0 as the
 * row's filter type "None" and returns the original stream untouched.
 */
function inflateRaw(bytes: Uint8Array, chunks: Chunk[], h: PngHeader): Uint8Array {
  let total = 0;
  for (const p of adam7Passes(h.width, h.height)) if (p.w > 0 && p.h > 0) total += p.h * (1 + Math.ceil((p.w * h.depth) / 8));
  const idat = chunks.filter((c) => c.type === "IDAT");
  const zlen = idat.reduce((s, c) => s + c.length, 0);
  if (zlen < 6) throw fail(`pixel data is ${zlen} bytes, too short for a zlib stream${damaged}`);
  const stream = new Uint8Array(zlen);
  let at = 0;
  for (const c of idat) {
    stream.set(bytes.subarray(c.start, c.start + c.length), at);
    at += c.length;
  }
  const z = new Uint8Array(zlen + 6);
  z.set(stream.subarray(0, 2)); // zlib header
  z.set([0x00, 0x01, 0x00, 0xfe, 0xff, 0x00], 2); // BFINAL 0, stored; LEN 1, NLEN; the byte 0
  z.set(stream.subarray(2), 8); // the original deflate blocks and Adler-32
  // A leading zero byte leaves Adler-32's A sum alone and adds 1 to its B sum.
  const adler = view(z);
  adler.setUint16(z.length - 4, (adler.getUint16(z.length - 4) + 1) % 65521);
  try {
    return fastPngDecode(concat(pngParts(total, 1, 0, [z]))).data as Uint8Array;
  } catch (cause) {
    throw new ImageDecodeError(`PNG pixel data cannot be inflated: ${(cause as Error).message}${damaged}`, { cause });
  }
}

/**
 * A copy with one chunk type renamed to an unknown ancillary type, which fast-png skips. We read
 * tRNS ourselves, and fast-png 8 wrongly rejects a valid RGB tRNS in images of fewer than 3 pixels.
 */
function hideChunk(bytes: Uint8Array, chunks: Chunk[], type: string): Uint8Array {
  const found = chunks.filter((c) => c.type === type);
  if (found.length === 0) return bytes;
  const copy = new Uint8Array(bytes); // a copy even for a Node Buffer, whose slice() is a view
  for (const c of found) copy[c.start - 1] ^= 0x20; // flip the case of the last letter: "tRNS" → "tRNs"
  return copy;
}

/**
 * A non-interlaced 8-bit PNG file from its zlib stream (one IDAT chunk per part), as byte ranges that
 * concatenate to the file; the stream's parts are not copied.
 */
export function pngParts(width: number, height: number, colorType: number, idat: Uint8Array[]): Uint8Array[] {
  return [...pngStart(width, height, colorType), ...idat.flatMap((d) => pngChunk("IDAT", d)), ...pngChunk("IEND", new Uint8Array(0))];
}

/** The signature and IHDR of a non-interlaced 8-bit PNG. */
export function pngStart(width: number, height: number, colorType: number): Uint8Array[] {
  const ihdr = new Uint8Array(13);
  new DataView(ihdr.buffer).setUint32(0, width);
  new DataView(ihdr.buffer).setUint32(4, height);
  ihdr[8] = 8; // depth 8; compression, filter method, interlace 0
  ihdr[9] = colorType;
  return [Uint8Array.from(SIGNATURE), ...pngChunk("IHDR", ihdr)];
}

/** One chunk as [length and type, data, CRC]: the data is not copied. */
export function pngChunk(type: string, data: Uint8Array): Uint8Array[] {
  const head = new Uint8Array(8), tail = new Uint8Array(4);
  new DataView(head.buffer).setUint32(0, data.length);
  for (let i = 0; i < 4; i++) head[4 + i] = type.charCodeAt(i);
  new DataView(tail.buffer).setUint32(0, crc32(data, crc32(head.subarray(4))));
  return [head, data, tail];
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

/** Whether every pixel's alpha is 255 (then PNG is written as RGB, a quarter smaller). */
export function isOpaque(data: Uint8Array | Uint8ClampedArray): boolean {
  for (let i = 3; i < data.length; i += 4) if (data[i] !== 255) return false;
  return true;
}

function chunkType(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]);
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * RGBA8 → PNG: 8-bit RGB when every pixel is opaque (a quarter smaller), RGBA otherwise.
 */
export function encodePngPixels(data: Uint8Array | Uint8ClampedArray, width: number, height: number): Uint8Array {
  const opaque = isOpaque(data);
  let pixels: Uint8Array;
  if (opaque) {
    pixels = new Uint8Array(width * height * 3);
    for (let i = 0, j = 0; i < pixels.length; i += 3, j += 4) {
      pixels[i] = data[j]; pixels[i + 1] = data[j + 1]; pixels[i + 2] = data[j + 2];
    }
  } else {
    pixels = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }
  try {
    return fastPngEncode({ width, height, data: pixels, depth: 8, channels: opaque ? 3 : 4 }, { zlib: { level: 6 } });
  } catch (cause) {
    throw new ImageEncodeError(`cannot encode a ${width}×${height} PNG: ${(cause as Error).message}`, { cause });
  }
}

/**
 * The zlib stream (what IDAT chunks hold) of these pixels as 8-bit RGBA, whatever their opacity: APNG
 * frames must all share the IHDR's colour type.
 */
export function deflateRgba(data: Uint8Array | Uint8ClampedArray, width: number, height: number): Uint8Array {
  const pixels = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const png = fastPngEncode({ width, height, data: pixels, depth: 8, channels: 4 }, { zlib: { level: 6 } });
  const dv = view(png);
  const parts: Uint8Array[] = [];
  for (let at = 8; at + 12 <= png.length; at += 12 + dv.getUint32(at)) {
    if (chunkType(png, at + 4) === "IDAT") parts.push(png.subarray(at + 8, at + 8 + dv.getUint32(at)));
  }
  return concat(parts);
}
