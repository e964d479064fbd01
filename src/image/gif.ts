// SPDX-License-Identifier: MIT
// GIF ⇄ frames. Decoding is omggif's (a small, dependency-free reader used for a decade); we keep the
// canvas and apply each frame's disposal as browsers do. Encoding is gifenc's (a fast pure-JS encoder
// with a PnnQuant palette quantiser): a palette per frame, 1-bit transparency where the frame has any.
import omggif from "omggif";
import * as gifencModule from "gifenc";
import { ImageDecodeError, ImageEncodeError } from "../errors.js";
import type { AnimationInfo, TimedFrame } from "./frame.js";

interface GifFrameInfo { x: number; y: number; width: number; height: number; delay: number; disposal: number; transparent_index: number | null }
interface GifReaderLike {
  width: number; height: number;
  numFrames(): number; loopCount(): number | null; frameInfo(i: number): GifFrameInfo;
  decodeAndBlitFrameRGBA(i: number, pixels: Uint8ClampedArray): void;
}
type Palette = number[][];
interface GifEncoderLike {
  writeFrame(index: Uint8Array, width: number, height: number, opts: { palette: Palette; delay: number; repeat: number; transparent: boolean; transparentIndex: number; dispose: number }): void;
  finish(): void;
  bytes(): Uint8Array;
}
interface Gifenc {
  GIFEncoder(): GifEncoderLike;
  quantize(rgba: Uint8ClampedArray, maxColors: number, options: { format: string; oneBitAlpha?: boolean | number }): Palette;
  applyPalette(rgba: Uint8ClampedArray, palette: Palette, format: string): Uint8Array;
}
// gifenc is CommonJS to Node (named exports under `default`) and ESM to bundlers (named exports).
const gifenc = ((gifencModule as unknown as Partial<Gifenc>).quantize ? gifencModule : (gifencModule as unknown as { default: Gifenc }).default) as Gifenc;
const GifReader = (omggif as unknown as { GifReader: new (bytes: Uint8Array) => GifReaderLike }).GifReader;

export const isGif = (b: Uint8Array) => b.length >= 6 && b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x38 && (b[4] === 0x37 || b[4] === 0x39) && b[5] === 0x61;

/** Browsers show frames with a delay under 2 centiseconds for 10 (the files expect it); so do we. */
const delayUs = (cs: number) => (cs < 2 ? 10 : cs) * 10_000;

function open(bytes: Uint8Array): GifReaderLike {
  try {
    return new GifReader(bytes);
  } catch (cause) {
    throw new ImageDecodeError(`GIF cannot be read: ${(cause as Error).message}; the file is damaged or incomplete`, { cause });
  }
}

export function readGifInfo(bytes: Uint8Array): AnimationInfo {
  const r = open(bytes);
  if (r.numFrames() === 0) throw new ImageDecodeError("GIF has no frames; the file is damaged or incomplete");
  if (r.width === 0 || r.height === 0) throw new ImageDecodeError(`GIF declares an empty ${r.width}×${r.height} canvas`);
  // omggif sizes its buffers by each frame's own rectangle: one beyond the canvas must not reach it.
  for (let i = 0; i < r.numFrames(); i++) {
    const f = r.frameInfo(i);
    if (f.x + f.width > r.width || f.y + f.height > r.height) {
      throw new ImageDecodeError(`GIF frame ${i} (${f.width}×${f.height} at ${f.x}, ${f.y}) lies outside its ${r.width}×${r.height} canvas; the file is damaged`);
    }
  }
  const loop = r.loopCount();
  // NETSCAPE2.0's count is of repeats after the first play (0 forever); without it a GIF plays once.
  return { format: "gif", width: r.width, height: r.height, frames: r.numFrames(), loopCount: loop === null ? 1 : loop === 0 ? 0 : loop + 1 };
}

export async function* decodeGif(bytes: Uint8Array, info: AnimationInfo): AsyncGenerator<TimedFrame, void, undefined> {
  const r = open(bytes);
  const { width, height } = info;
  let canvas = new Uint8ClampedArray(width * height * 4);
  let timestamp = 0;
  for (let i = 0; i < info.frames; i++) {
    const f = r.frameInfo(i);
    const saved = f.disposal === 3 ? canvas.slice() : undefined;
    blit(r, i, canvas);
    const duration = delayUs(f.delay);
    yield { data: canvas.slice(), width, height, timestamp, duration };
    timestamp += duration;
    if (f.disposal === 2) clearRect(canvas, width, f); // "restore to background": browsers clear to transparent
    else if (saved) canvas = saved;
  }
}

/**
 * Draws frame i. omggif reports a frame whose pixel data ends early only with console.log (it then
 * leaves the rest of the frame undrawn): caught here, for the call alone, and refused as damage.
 */
function blit(r: GifReaderLike, i: number, canvas: Uint8ClampedArray): void {
  const log = console.log;
  let warning = "";
  console.log = (...args: unknown[]) => { warning ||= args.join(" "); };
  try {
    r.decodeAndBlitFrameRGBA(i, canvas);
  } catch (cause) {
    throw new ImageDecodeError(`GIF frame ${i} cannot be decoded: ${(cause as Error).message}; the file is damaged or incomplete`, { cause });
  } finally {
    console.log = log;
  }
  if (/shorter/.test(warning)) throw new ImageDecodeError(`GIF frame ${i} has less pixel data than its size needs; the file is damaged or incomplete`);
}

function clearRect(canvas: Uint8ClampedArray, width: number, f: GifFrameInfo): void {
  for (let y = f.y; y < f.y + f.height; y++) canvas.fill(0, (y * width + f.x) * 4, (y * width + f.x + f.width) * 4);
}

export async function encodeGif(frames: AsyncIterable<TimedFrame & { duration: number }>, loopCount: number): Promise<Uint8Array> {
  const gif = gifenc.GIFEncoder();
  for await (const frame of frames) {
    const alpha = hasTransparency(frame.data);
    const format = alpha ? "rgba4444" : "rgb565";
    const palette = gifenc.quantize(frame.data, 256, { format, oneBitAlpha: alpha });
    const index = gifenc.applyPalette(frame.data, palette, format);
    const transparentIndex = alpha ? palette.findIndex((c) => c[3] === 0) : -1;
    gif.writeFrame(index, frame.width, frame.height, {
      palette, delay: frame.duration / 1000, repeat: loopCount === 0 ? 0 : loopCount === 1 ? -1 : loopCount - 1,
      transparent: transparentIndex >= 0, transparentIndex: Math.max(0, transparentIndex),
      // Every frame is the whole canvas: clear it after each, so the next one's holes show nothing of this one.
      dispose: 2,
    });
  }
  gif.finish();
  const bytes = gif.bytes();
  if (bytes.length < 14) throw new ImageEncodeError("GIF encoder produced no image");
  return bytes;
}

/** GIF alpha is one bit: a pixel is a hole when its alpha is under half. */
function hasTransparency(data: Uint8ClampedArray): boolean {
  for (let i = 3; i < data.length; i += 4) if (data[i] < 128) return true;
  return false;
}
