// SPDX-License-Identifier: MIT
// The unit of every moving picture in this package: one RGBA8 frame and when it shows. Animated image
// codecs produce and take these, and so do the video adapters (FFmpeg, WebCodecs) and upscaleFrames.
import type { RgbaImage } from "./rgba.js";

/**
 * One frame: RGBA8 pixels, its presentation time and how long it shows, in microseconds (as
 * WebCodecs' VideoFrame counts them).
 */
export interface TimedFrame extends RgbaImage {
  data: Uint8ClampedArray;
  /** Presentation time from the start of the stream, µs. */
  timestamp: number;
  /** How long the frame shows, µs; undefined when the source does not say (then the next frame's timestamp decides). */
  duration?: number;
}
