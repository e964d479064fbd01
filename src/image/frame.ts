// SPDX-License-Identifier: MIT
// The unit of every moving picture in this package: one RGBA8 frame and when it shows. Animated image
// codecs produce and take these, and so do the video adapters (FFmpeg, WebCodecs) and upscaleFrames.
// Plain types only, so the codecs and animation.ts (which dispatches to them) share them without a cycle.
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

export type AnimationFormat = "gif" | "apng" | "webp";

export interface AnimationInfo {
  format: AnimationFormat;
  width: number;
  height: number;
  /** Frames in the file. */
  frames: number;
  /** How many times the animation plays; 0 forever. */
  loopCount: number;
}
