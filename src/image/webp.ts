// SPDX-License-Identifier: MIT
// WebP (still and animated) ⇄ frames. The RIFF container (VP8X, ANIM, ANMF chunks) is read and written
// here; each frame's bitstream is decoded and encoded by libwebp compiled to WebAssembly (@jsquash/webp,
// Squoosh's build; its decoder reads stills only, so every animation frame is handed to it as the
// still image it would be). Debian 12's FFmpeg 5.1 cannot decode animated WebP at all.
import { ImageDecodeError, ImageEncodeError } from "../errors.js";
import { isNode } from "../platform/features.js";
import { readUrl } from "../platform/assets.js";
import type { AnimationInfo, TimedFrame } from "./frame.js";

interface Chunk { type: string; data: Uint8Array }

const fail = (what: string) => new ImageDecodeError(`WebP ${what}; the file is damaged or incomplete`);

export const isWebp = (b: Uint8Array) => b.length >= 12 && ascii(b, 0) === "RIFF" && ascii(b, 8) === "WEBP";
const ascii = (b: Uint8Array, at: number) => String.fromCharCode(b[at], b[at + 1], b[at + 2], b[at + 3]);
const u24 = (b: Uint8Array, at: number) => b[at] | (b[at + 1] << 8) | (b[at + 2] << 16);

/** The chunks in `bytes` from `at` on, bounds checked (sizes are padded to even). */
function chunks(bytes: Uint8Array, at = 12, end = bytes.length): Chunk[] {
  const out: Chunk[] = [];
  while (at + 8 <= end) {
    const size = (bytes[at + 4] | (bytes[at + 5] << 8) | (bytes[at + 6] << 16) | (bytes[at + 7] << 24)) >>> 0;
    if (size > end - at - 8) throw fail(`is truncated: chunk ${ascii(bytes, at)} at byte ${at} declares ${size} bytes, ${end - at - 8} follow`);
    out.push({ type: ascii(bytes, at), data: bytes.subarray(at + 8, at + 8 + size) });
    at += 8 + size + (size & 1);
  }
  return out;
}

function fileChunks(bytes: Uint8Array): Chunk[] {
  const riffEnd = 8 + ((bytes[4] | (bytes[5] << 8) | (bytes[6] << 16) | (bytes[7] << 24)) >>> 0);
  if (riffEnd > bytes.length) throw fail(`is truncated: it declares ${riffEnd} bytes, the file has ${bytes.length}`);
  const list = chunks(bytes, 12, riffEnd);
  if (list.length === 0) throw fail("holds no image chunk");
  return list;
}

/** Width and height of a still bitstream chunk (VP8 or VP8L). */
function bitstreamSize(c: Chunk): { width: number; height: number } {
  const d = c.data;
  if (c.type === "VP8L" && d.length >= 5 && d[0] === 0x2f) {
    const bits = d[1] | (d[2] << 8) | (d[3] << 16) | (d[4] << 24);
    return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  }
  if (c.type === "VP8 " && d.length >= 10 && d[3] === 0x9d && d[4] === 0x01 && d[5] === 0x2a) {
    return { width: (d[6] | (d[7] << 8)) & 0x3fff, height: (d[8] | (d[9] << 8)) & 0x3fff };
  }
  throw fail(`has an unreadable ${c.type.trim()} bitstream header`);
}

export function readWebpInfo(bytes: Uint8Array): AnimationInfo {
  const list = fileChunks(bytes);
  const first = list[0];
  if (first.type !== "VP8X") return { format: "webp", ...bitstreamSize(first), frames: 1, loopCount: 0 };
  if (first.data.length < 10) throw fail("has a VP8X chunk that is too short");
  const width = u24(first.data, 4) + 1, height = u24(first.data, 7) + 1;
  if (!(first.data[0] & 0x02)) return { format: "webp", width, height, frames: 1, loopCount: 0 };
  const anim = list.find((c) => c.type === "ANIM");
  if (!anim || anim.data.length < 6) throw fail("is animated but has no ANIM chunk");
  const frames = list.filter((c) => c.type === "ANMF").length;
  if (frames === 0) throw fail("is animated but has no frames");
  return { format: "webp", width, height, frames, loopCount: anim.data[4] | (anim.data[5] << 8) };
}

interface Placed { x: number; y: number; width: number; height: number; durationUs: number; blend: boolean; disposeToBackground: boolean; still: Uint8Array }

/** The frames as placed on the canvas, each with its bitstream wrapped as a standalone still WebP. */
function placedFrames(bytes: Uint8Array, info: AnimationInfo): Placed[] {
  const list = fileChunks(bytes);
  const frames = list.filter((c) => c.type === "ANMF");
  if (frames.length === 0) { // a still: the file itself, whose bitstream must be the size the header said
    const image = list.find((c) => c.type === "VP8 " || c.type === "VP8L");
    if (!image) throw fail("holds no VP8/VP8L bitstream");
    const own = bitstreamSize(image);
    if (own.width !== info.width || own.height !== info.height) throw fail(`holds a ${own.width}×${own.height} bitstream in a ${info.width}×${info.height} image`);
    return [{ x: 0, y: 0, width: info.width, height: info.height, durationUs: 100_000, blend: false, disposeToBackground: false, still: bytes }];
  }
  return frames.map(({ data }, i) => {
    if (data.length < 16) throw fail(`frame ${i} is too short`);
    const f = { x: 2 * u24(data, 0), y: 2 * u24(data, 3), width: u24(data, 6) + 1, height: u24(data, 9) + 1 };
    if (f.x + f.width > info.width || f.y + f.height > info.height) throw fail(`frame ${i} (${f.width}×${f.height} at ${f.x}, ${f.y}) lies outside the ${info.width}×${info.height} canvas`);
    const sub = chunks(data, 16);
    const alph = sub.find((c) => c.type === "ALPH"), image = sub.find((c) => c.type === "VP8 " || c.type === "VP8L");
    if (!image) throw fail(`frame ${i} has no VP8/VP8L bitstream`);
    // libwebp allocates by the bitstream's own size: refuse one that disagrees with the checked frame size.
    const own = bitstreamSize(image);
    if (own.width !== f.width || own.height !== f.height) throw fail(`frame ${i} holds a ${own.width}×${own.height} bitstream where its frame is ${f.width}×${f.height}`);
    const vp8x = new Uint8Array(10);
    vp8x[0] = 0x10; // alpha
    vp8x.set([(f.width - 1) & 0xff, ((f.width - 1) >> 8) & 0xff, (f.width - 1) >> 16, (f.height - 1) & 0xff, ((f.height - 1) >> 8) & 0xff, (f.height - 1) >> 16], 4);
    const still = riff(alph && image.type === "VP8 " ? [{ type: "VP8X", data: vp8x }, alph, image] : [image]);
    return { ...f, durationUs: Math.max(10_000, u24(data, 12) * 1000), blend: !(data[15] & 0x02), disposeToBackground: Boolean(data[15] & 0x01), still };
  });
}

export async function* decodeWebp(bytes: Uint8Array, info: AnimationInfo): AsyncGenerator<TimedFrame, void, undefined> {
  const frames = placedFrames(bytes, info);
  const codec = await webpDecoder();
  const { width, height } = info;
  const canvas = new Uint8ClampedArray(width * height * 4);
  let timestamp = 0;
  for (const [i, f] of frames.entries()) {
    let pixels: { data: Uint8ClampedArray; width: number; height: number } | null;
    try {
      pixels = codec.decode(f.still);
    } catch (cause) {
      throw new ImageDecodeError(`WebP frame ${i} cannot be decoded: ${(cause as Error).message}; the file is damaged or incomplete`, { cause });
    }
    if (!pixels || pixels.width !== f.width || pixels.height !== f.height) throw fail(`frame ${i} cannot be decoded`);
    draw(canvas, width, pixels.data, f);
    yield { data: canvas.slice(), width, height, timestamp, duration: f.durationUs };
    timestamp += f.durationUs;
    if (f.disposeToBackground) for (let y = f.y; y < f.y + f.height; y++) canvas.fill(0, (y * width + f.x) * 4, (y * width + f.x + f.width) * 4);
  }
}

function draw(canvas: Uint8ClampedArray, width: number, src: Uint8ClampedArray, f: Placed): void {
  for (let y = 0; y < f.height; y++) {
    for (let x = 0; x < f.width; x++) {
      const s = (y * f.width + x) * 4, d = ((f.y + y) * width + f.x + x) * 4;
      const sa = src[s + 3];
      if (!f.blend || sa === 255) { canvas.set(src.subarray(s, s + 4), d); continue; }
      if (sa === 0) continue;
      const da = canvas[d + 3] * (255 - sa) / 255, a = sa + da;
      for (let c = 0; c < 3; c++) canvas[d + c] = Math.round((src[s + c] * sa + canvas[d + c] * da) / a);
      canvas[d + 3] = Math.round(a);
    }
  }
}

/** Animated WebP of whole-canvas frames (no blending, no disposal); one frame is a still WebP. */
export async function encodeWebp(frames: AsyncIterable<TimedFrame & { duration: number }>, loopCount: number, quality?: number): Promise<Uint8Array> {
  const codec = await webpEncoder();
  const options = { ...ENCODE_DEFAULTS, ...(quality === undefined ? { lossless: 1, quality: 75, exact: 1 } : { quality }) };
  const anmf: Chunk[] = [];
  let width = 0, height = 0, alpha = false, single: Uint8Array | undefined;
  for await (const f of frames) {
    ({ width, height } = f);
    const still = codec.encode(f.data, f.width, f.height, options);
    if (!still) throw new ImageEncodeError(`libwebp could not encode a ${f.width}×${f.height} frame`);
    single = anmf.length === 0 ? still : undefined;
    const parts = fileChunks(still).filter((c) => c.type === "ALPH" || c.type === "VP8 " || c.type === "VP8L");
    alpha ||= parts.some((c) => c.type === "ALPH") || hasAlpha(f.data);
    const head = new Uint8Array(16);
    head.set([0, 0, 0, 0, 0, 0, ...le24(f.width - 1), ...le24(f.height - 1), ...le24(Math.min(0xffffff, Math.round(f.duration / 1000))), 0x02]); // no blending, no disposal
    anmf.push({ type: "ANMF", data: concat([head, riffBody(parts)]) });
  }
  if (anmf.length === 0) throw new ImageEncodeError("no frames to encode");
  if (single) return single;
  const vp8x = new Uint8Array(10);
  vp8x[0] = 0x02 | (alpha ? 0x10 : 0);
  vp8x.set([...le24(width - 1), ...le24(height - 1)], 4);
  const anim = Uint8Array.from([0, 0, 0, 0, loopCount & 0xff, loopCount >> 8]); // background: transparent
  return riff([{ type: "VP8X", data: vp8x }, { type: "ANIM", data: anim }, ...anmf]);
}

const le24 = (v: number) => [v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff];

function hasAlpha(data: Uint8ClampedArray): boolean {
  for (let i = 3; i < data.length; i += 4) if (data[i] !== 255) return true;
  return false;
}

function riffBody(list: Chunk[]): Uint8Array {
  return concat(list.flatMap((c) => {
    const head = new Uint8Array(8);
    head.set([...c.type].map((ch) => ch.charCodeAt(0)));
    new DataView(head.buffer).setUint32(4, c.data.length, true);
    return c.data.length & 1 ? [head, c.data, new Uint8Array(1)] : [head, c.data];
  }));
}

function riff(list: Chunk[]): Uint8Array {
  const body = riffBody(list);
  const head = new Uint8Array(12);
  head.set([0x52, 0x49, 0x46, 0x46, 0, 0, 0, 0, 0x57, 0x45, 0x42, 0x50]);
  new DataView(head.buffer).setUint32(4, body.length + 4, true);
  return concat([head, body]);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

// libwebp's settings (struct WebPConfig, as @jsquash/webp's meta.js lists them), our choices on top.
const ENCODE_DEFAULTS = {
  quality: 90, target_size: 0, target_PSNR: 0, method: 4, sns_strength: 50, filter_strength: 60, filter_sharpness: 0,
  filter_type: 1, partitions: 0, segments: 4, pass: 1, show_compressed: 0, preprocessing: 0, autofilter: 0, partition_limit: 0,
  alpha_compression: 1, alpha_filtering: 1, alpha_quality: 100, lossless: 0, exact: 0, image_hint: 0, emulate_jpeg_size: 0,
  thread_level: 0, low_memory: 0, near_lossless: 100, use_delta_palette: 0, use_sharp_yuv: 0,
};

interface WebpDecoder { decode(data: Uint8Array): { data: Uint8ClampedArray; width: number; height: number } | null }
interface WebpEncoder { encode(data: Uint8Array | Uint8ClampedArray, width: number, height: number, options: typeof ENCODE_DEFAULTS): Uint8Array | null }
type Factory<T> = (options: { noInitialRun: boolean; wasmBinary?: Uint8Array }) => Promise<T>;

let decoder: Promise<WebpDecoder> | undefined, encoder: Promise<WebpEncoder> | undefined;

/**
 * libwebp's Emscripten module. In browsers and Deno its glue finds the .wasm beside itself (bundlers see
 * the URL); Node's fetch() cannot read file: URLs, so there we read the file and hand over its bytes.
 * Outside browsers the glue defines a global ImageData for its results, which would make Node look like
 * a browser to other code: the decoder takes its reference to it on its first decode, so we decode a
 * 2×2 image once and then remove the global we did not have.
 */
async function load<T>(glue: Promise<{ default: Factory<T> }>, wasm: string, warmUp?: (module: T) => void): Promise<T> {
  const { default: factory } = await glue;
  const wasmBinary = isNode() ? await readUrl(new URL(import.meta.resolve(wasm))) : undefined;
  const hadImageData = "ImageData" in globalThis;
  try {
    const module = await factory({ noInitialRun: true, ...(wasmBinary && { wasmBinary }) });
    warmUp?.(module);
    return module;
  } finally {
    if (!hadImageData) delete (globalThis as { ImageData?: unknown }).ImageData;
  }
}

/** A 2×2 lossless WebP (made by FFmpeg's libwebp), for the decoder's first decode. */
const TINY_WEBP = Uint8Array.from("524946461c000000574542505650384c0f0000002f014000000710f58ffe0722a2ff0100".match(/../g)!, (h) => parseInt(h, 16));

const webpDecoder = () => (decoder ??= load<WebpDecoder>(import("@jsquash/webp/codec/dec/webp_dec.js") as Promise<{ default: Factory<WebpDecoder> }>,
  "@jsquash/webp/codec/dec/webp_dec.wasm", (m) => m.decode(TINY_WEBP)));
const webpEncoder = () => (encoder ??= load<WebpEncoder>(import("@jsquash/webp/codec/enc/webp_enc_simd.js") as Promise<{ default: Factory<WebpEncoder> }>, "@jsquash/webp/codec/enc/webp_enc_simd.wasm"));
