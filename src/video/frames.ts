// SPDX-License-Identifier: MIT
// The frame-stream API: an iterable of frames in, upscaled frames out, in order, through one upscaler
// (each frame on all its threads). The next input frame is asked for as soon as the current one starts,
// so a decoder that works on its own (FFmpeg, WebCodecs) decodes it meanwhile; exact repeats of recent
// frames are upscaled once. Memory stays at a few frames whatever the stream's length: the one being
// upscaled, the one being decoded, the one the consumer holds, and the repeat cache.
import { shown, throwIfAborted } from "../errors.js";
import type { TimedFrame } from "../image/frame.js";
import { checkRgbaImage, type RgbaImage } from "../image/rgba.js";
import { frameHash, RepeatCache } from "./repeats.js";

export type { TimedFrame } from "../image/frame.js";

/** What upscaleFrames needs of an upscaler: createUpscaler()'s result has it. */
export interface FrameUpscaler {
  upscale(image: RgbaImage, options?: { signal?: AbortSignal }): Promise<{ data: Uint8ClampedArray; width: number; height: number }>;
}

export interface FrameProgress {
  /** Frames upscaled (or taken from the repeat cache) so far. */
  framesDone: number;
  /** The stream's length when known (options.framesTotal), else undefined. */
  framesTotal?: number;
  /** Of framesDone, how many were exact repeats, not upscaled again. */
  repeats: number;
  /** Frames per second since the first frame was asked for. */
  framesPerSecond: number;
  /** Estimated seconds to the end, when framesTotal is known. */
  secondsLeft?: number;
}

export interface UpscaleFramesOptions {
  /** Stops the stream within one frame's tile; the iteration then throws AbortError (ERR_ABORTED). */
  signal?: AbortSignal;
  /** Called after each frame. */
  onProgress?: (progress: FrameProgress) => void;
  /** The number of frames, when the caller knows it (for the progress' time left). */
  framesTotal?: number;
  /**
   * How many recent distinct frames are remembered with their results, so exact repeats are not
   * upscaled again (default 2, which catches held frames and A-B alternations; 0 turns it off). Each
   * costs one input and one output frame of memory.
   */
  repeatCache?: number;
}

/**
 * Upscales a stream of frames in order. Frames keep their timestamp and duration; repeats share the
 * first one's output pixels, so treat yielded frames as read-only.
 * @throws AbortError when options.signal fires; the source's errors as they come.
 * @example
 * const up = await createUpscaler({ model: "natural-fast" });
 * for await (const frame of upscaleFrames(up, decodeAnimation(gifBytes).frames)) encoder.add(frame);
 * await up.dispose();
 */
export async function* upscaleFrames(upscaler: FrameUpscaler, frames: AsyncIterable<TimedFrame> | Iterable<TimedFrame>, options: UpscaleFramesOptions = {}): AsyncGenerator<TimedFrame, void, undefined> {
  const { signal, onProgress, framesTotal, repeatCache = 2 } = checkOptions(upscaler, frames, options);
  const cache = new RepeatCache<{ data: Uint8ClampedArray; width: number; height: number }>(repeatCache);
  const source = Symbol.asyncIterator in frames ? frames[Symbol.asyncIterator]() : (frames as Iterable<TimedFrame>)[Symbol.iterator]();
  const start = performance.now();
  let framesDone = 0, repeats = 0;
  let pending = Promise.resolve(source.next());
  try {
    for (;;) {
      throwIfAborted(signal);
      const next = await pending;
      if (next.done) return;
      pending = Promise.resolve(source.next()); // the next frame decodes while this one is upscaled
      pending.catch(() => {}); // awaited on the next turn; if the consumer stops first, not unhandled
      const frame = next.value;
      checkFrame(frame, framesDone);
      const key = repeatCache > 0 ? frameHash(frame) : "";
      let out = repeatCache > 0 ? cache.find(frame, key) : undefined;
      if (out) repeats++;
      else {
        out = await upscaler.upscale(frame, { signal });
        cache.store(frame, key, out);
      }
      framesDone++;
      if (onProgress) {
        const framesPerSecond = framesDone / Math.max(1e-3, (performance.now() - start) / 1000);
        onProgress({ framesDone, framesTotal, repeats, framesPerSecond, secondsLeft: framesTotal !== undefined ? Math.max(0, framesTotal - framesDone) / framesPerSecond : undefined });
      }
      yield { data: out.data, width: out.width, height: out.height, timestamp: frame.timestamp, duration: frame.duration };
    }
  } finally {
    await source.return?.();
  }
}

function checkOptions(upscaler: FrameUpscaler, frames: unknown, o: UpscaleFramesOptions): UpscaleFramesOptions {
  if (typeof upscaler?.upscale !== "function") throw new TypeError(`upscaleFrames(upscaler, frames): upscaler must have an upscale() method, got ${shown(upscaler)}`);
  const iterable = frames !== null && typeof frames === "object" && (Symbol.asyncIterator in frames || Symbol.iterator in frames);
  if (!iterable) throw new TypeError(`upscaleFrames(upscaler, frames): frames must be an iterable or async iterable of frames, got ${shown(frames)}`);
  if (o === null || typeof o !== "object") throw new TypeError(`upscaleFrames(upscaler, frames, options): options must be an object, got ${shown(o)}`);
  if (o.onProgress !== undefined && typeof o.onProgress !== "function") throw new TypeError(`options.onProgress must be a function, got ${shown(o.onProgress)}`);
  if (o.framesTotal !== undefined && !(Number.isInteger(o.framesTotal) && o.framesTotal >= 0)) throw new RangeError(`options.framesTotal must be a non-negative integer, got ${shown(o.framesTotal)}`);
  if (o.repeatCache !== undefined && !(Number.isInteger(o.repeatCache) && o.repeatCache >= 0 && o.repeatCache <= 64)) throw new RangeError(`options.repeatCache must be an integer in [0, 64], got ${shown(o.repeatCache)}`);
  return o;
}

function checkFrame(frame: TimedFrame, index: number): void {
  checkRgbaImage(frame, `frame ${index}: `);
  if (typeof frame.timestamp !== "number" || !Number.isFinite(frame.timestamp)) throw new TypeError(`frame ${index}: timestamp must be a finite number of microseconds, got ${shown(frame.timestamp)}`);
  if (frame.duration !== undefined && !(typeof frame.duration === "number" && frame.duration >= 0)) throw new TypeError(`frame ${index}: duration must be a non-negative number of microseconds, got ${shown(frame.duration)}`);
}
