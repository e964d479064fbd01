// SPDX-License-Identifier: MIT
// WebCodecs ⇄ frames, for browsers: decoded VideoFrames (from a VideoDecoder, a MediaStreamTrackProcessor…)
// become TimedFrames for upscaleFrames, and upscaled frames become VideoFrames for a VideoEncoder or a
// canvas. Touches the WebCodecs globals only when called; where there are none it is ERR_UNSUPPORTED.
import { UnsupportedError } from "../errors.js";
import type { TimedFrame } from "../image/frame.js";

/** What we use of WebCodecs' VideoFrame (so a test can hand in its own). */
export interface VideoFrameLike {
  readonly displayWidth: number;
  readonly displayHeight: number;
  readonly timestamp: number;
  readonly duration: number | null;
  copyTo(destination: Uint8Array, options: { format: "RGBA"; rect?: { x: number; y: number; width: number; height: number } }): Promise<unknown>;
  close(): void;
}

/**
 * TimedFrames from WebCodecs VideoFrames (each converted to RGBA by the browser, then closed, so the
 * decoder's frame pool is never starved). Needs VideoFrame.copyTo with format 'RGBA' (pixel-format
 * conversion in copyTo), which current Chromium has.
 * @example
 * for await (const f of upscaleFrames(up, fromVideoFrames(decodedFrames))) encoder.encode(toVideoFrame(f));
 */
export async function* fromVideoFrames(frames: AsyncIterable<VideoFrameLike> | Iterable<VideoFrameLike>): AsyncGenerator<TimedFrame, void, undefined> {
  for await (const vf of frames) {
    try {
      const width = vf.displayWidth, height = vf.displayHeight;
      const bytes = new Uint8Array(width * height * 4);
      await vf.copyTo(bytes, { format: "RGBA", rect: { x: 0, y: 0, width, height } });
      yield { data: new Uint8ClampedArray(bytes.buffer), width, height, timestamp: vf.timestamp, duration: vf.duration ?? undefined };
    } finally {
      vf.close();
    }
  }
}

/**
 * A WebCodecs VideoFrame of a TimedFrame's pixels and timing (the caller closes it).
 * @throws UnsupportedError where the runtime has no VideoFrame (Node, older browsers).
 */
export function toVideoFrame(frame: TimedFrame): VideoFrame {
  const VideoFrameClass = (globalThis as { VideoFrame?: typeof VideoFrame }).VideoFrame;
  if (!VideoFrameClass) throw new UnsupportedError("this runtime has no WebCodecs VideoFrame; use the FFmpeg adapter in Node, or a browser with WebCodecs");
  return new VideoFrameClass(frame.data, {
    format: "RGBA", codedWidth: frame.width, codedHeight: frame.height,
    timestamp: frame.timestamp, ...(frame.duration !== undefined && { duration: frame.duration }),
  });
}
