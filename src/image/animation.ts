// SPDX-License-Identifier: MIT
// Animated images (GIF, APNG, animated WebP) ⇄ streams of TimedFrames, in any JS runtime: which
// format a file is, what its header says, its frames one at a time (each the whole canvas, disposal
// and blending done), and writing frames back with their timing and loop count. The formats' own
// code is in gif.ts, apng.ts and webp.ts.
import { ImageDecodeError, ImageEncodeError, ImageTooLargeError } from "../errors.js";
import { DEFAULT_MAX_PIXELS, MAX_IMAGE_PIXELS, MAX_IMAGE_SIDE } from "./codec.js";
import type { AnimationFormat, AnimationInfo, TimedFrame } from "./frame.js";

export type { AnimationFormat, AnimationInfo } from "./frame.js";
import { decodeGif, encodeGif, isGif, readGifInfo } from "./gif.js";
import { decodeApng, encodeApng, isApng, readApngInfo } from "./apng.js";
import { decodeWebp, encodeWebp, isWebp, readWebpInfo } from "./webp.js";

export interface AnimationEncodeOptions {
  /** How many times it plays; 0 forever (default). */
  loopCount?: number;
  /** WebP only: lossy at this quality 1–100; lossless when left out. */
  quality?: number;
}

/** A decoded animation: its header, and its frames as they are decoded (each a new buffer). */
export interface DecodedAnimation {
  info: AnimationInfo;
  frames: AsyncGenerator<TimedFrame, void, undefined>;
}

/**
 * The animation format of a file: any GIF or WebP (a still one is one frame), and a PNG with an acTL
 * chunk (APNG); undefined otherwise (still PNGs and JPEGs go through decodeImage).
 */
export function detectAnimation(bytes: Uint8Array): AnimationFormat | undefined {
  if (isGif(bytes)) return "gif";
  if (isWebp(bytes)) return "webp";
  if (isApng(bytes)) return "apng";
  return undefined;
}

/** The output format an animation file name asks for (.gif, .png/.apng, .webp), or undefined. */
export function animationFormatFromName(path: string): AnimationFormat | undefined {
  const ext = /\.([a-z0-9]+)$/i.exec(path)?.[1]?.toLowerCase();
  return ext === "gif" ? "gif" : ext === "png" || ext === "apng" ? "apng" : ext === "webp" ? "webp" : undefined;
}

/**
 * Reads the header only and checks the canvas against the limits decodeImage applies.
 * @throws ImageTooLargeError, ImageDecodeError for a file that is not an animation we read.
 */
export function readAnimationInfo(bytes: Uint8Array, options: { maxPixels?: number } = {}): AnimationInfo {
  const format = detectAnimation(bytes);
  if (!format) throw new ImageDecodeError("the file is not a GIF, APNG or WebP image");
  const info = format === "gif" ? readGifInfo(bytes) : format === "apng" ? readApngInfo(bytes) : readWebpInfo(bytes);
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (!(Number.isInteger(maxPixels) && maxPixels >= 1 && maxPixels <= MAX_IMAGE_PIXELS)) throw new RangeError(`options.maxPixels must be an integer in [1, ${MAX_IMAGE_PIXELS}], got ${String(maxPixels)}`);
  if (info.width > MAX_IMAGE_SIDE || info.height > MAX_IMAGE_SIDE || info.width * info.height > maxPixels) {
    throw new ImageTooLargeError(info.width, info.height, `${maxPixels} pixels`);
  }
  return info;
}

/**
 * Decodes an animated (or still) GIF, APNG or WebP: the header now, the frames as they are asked for.
 * Each frame is the whole canvas, as a viewer shows it at that time.
 * @example
 * const { info, frames } = decodeAnimation(bytes);
 * for await (const f of frames) console.log(f.timestamp, f.duration); // µs
 */
export function decodeAnimation(bytes: Uint8Array, options: { maxPixels?: number } = {}): DecodedAnimation {
  const info = readAnimationInfo(bytes, options);
  const frames = info.format === "gif" ? decodeGif(bytes, info) : info.format === "apng" ? decodeApng(bytes, info) : decodeWebp(bytes, info);
  return { info, frames };
}

/**
 * Encodes frames (all of one size) as an animation; each frame's duration is its own, else the gap to
 * the next frame's timestamp (the last one repeats the gap before it).
 * @throws ImageEncodeError when there are no frames or their sizes differ.
 */
export async function encodeAnimation(format: AnimationFormat, frames: AsyncIterable<TimedFrame> | Iterable<TimedFrame>, options: AnimationEncodeOptions = {}): Promise<Uint8Array> {
  const { loopCount = 0, quality } = options;
  if (!(Number.isInteger(loopCount) && loopCount >= 0 && loopCount <= 65535)) throw new RangeError(`options.loopCount must be an integer in [0, 65535], got ${String(loopCount)}`);
  if (quality !== undefined && !(Number.isInteger(quality) && quality >= 1 && quality <= 100)) throw new RangeError(`options.quality must be an integer in [1, 100], got ${String(quality)}`);
  const timed = withDurations(frames);
  if (format === "gif") return encodeGif(timed, loopCount);
  if (format === "apng") return encodeApng(timed, loopCount);
  if (format === "webp") return encodeWebp(timed, loopCount, quality);
  throw new ImageEncodeError(`unknown animation format '${String(format)}'; use gif, apng or webp`);
}

/** Frames with their durations settled (µs), one frame held back to learn the next timestamp. */
async function* withDurations(frames: AsyncIterable<TimedFrame> | Iterable<TimedFrame>): AsyncGenerator<TimedFrame & { duration: number }> {
  let held: TimedFrame | undefined;
  let gap = 100_000;
  for await (const frame of frames) {
    if (held) {
      if (frame.width !== held.width || frame.height !== held.height) {
        throw new ImageEncodeError(`frame sizes differ (${held.width}×${held.height}, then ${frame.width}×${frame.height}); an animation's frames must all be one size`);
      }
      if (frame.timestamp > held.timestamp) gap = frame.timestamp - held.timestamp;
      yield { ...held, duration: held.duration ?? gap };
    }
    held = frame;
  }
  if (!held) throw new ImageEncodeError("no frames to encode");
  yield { ...held, duration: held.duration ?? gap };
}
