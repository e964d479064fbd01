// SPDX-License-Identifier: MIT
// Video files in and out through FFmpeg (the "srgan-wasm/video" entry, Node only): frames decoded to raw RGBA in Matroska on one pipe, and
// upscaled frames encoded from Matroska on another, each frame with its timestamp. The pipes carry
// backpressure both ways, so FFmpeg decodes only as fast as frames are taken and memory stays at a few
// frames. Node only (child processes); the browser and Deno entries never import it.
import { once } from "node:events";
import { rm } from "node:fs/promises";
import { setTimeout as delay } from "node:timers/promises";
import { ImageDecodeError, ImageEncodeError, throwIfAborted } from "../errors.js";
import type { TimedFrame } from "../image/frame.js";
import { partialName, writeAtomic } from "../platform/files.js";
import { StreamReader } from "./stream-reader.js";
import { decodeArgs, encodeArgs, rotateArgs, type EncodeSettings } from "./ffmpeg-args.js";
import { startFfmpeg, type FfmpegProcess, type FfmpegTools } from "./ffmpeg-tools.js";
import { mkvFrame, mkvHeader, readMkvFrames } from "./mkv.js";
import type { VideoInfo } from "./probe.js";

export { findFfmpeg, type FfmpegTools } from "./ffmpeg-tools.js";
export { probeVideo, type VideoInfo } from "./probe.js";
export { chooseCodec, CODECS, VIDEO_EXTENSIONS, type EncodeSettings, type Muxer } from "./ffmpeg-args.js";

export interface ReadVideoOptions {
  /** Turn frames upright as a player would (for outputs that cannot store a rotation). Default false. */
  upright?: boolean;
  signal?: AbortSignal;
}

/**
 * The frames of the video stream of `path` (probed by probeVideo), decoded by FFmpeg one at a time.
 * Anything FFmpeg reports while decoding (a truncated or damaged stream) stops the stream.
 * @throws ImageDecodeError for a file FFmpeg cannot decode or with no frame; AbortError on abort.
 */
export async function* readVideoFrames(tools: FfmpegTools, path: string, info: VideoInfo, options: ReadVideoOptions = {}): AsyncGenerator<TimedFrame, void, undefined> {
  const { signal, upright = false } = options;
  throwIfAborted(signal);
  const run = startFfmpeg(tools.ffmpeg, decodeArgs(info, path, upright), { stdin: false, stdout: true });
  const onAbort = () => run.kill();
  signal?.addEventListener("abort", onAbort, { once: true });
  const reader = new StreamReader(run.child.stdout![Symbol.asyncIterator]());
  let count = 0;
  const failure = (cause?: unknown) => new ImageDecodeError(`FFmpeg cannot decode '${path}'${count ? ` past frame ${count}` : ""}: ${run.lastWords()}; the file is damaged or incomplete`, { cause });
  try {
    try {
      for await (const frame of readMkvFrames(reader)) {
        if (run.hasErrors()) throw failure();
        count++;
        yield frame;
      }
    } catch (e) {
      throwIfAborted(signal);
      // The stream broke off: when FFmpeg failed, its own words say why (give it a moment to exit).
      const code = await Promise.race([run.exited, delay(2000).then(() => 0)]);
      throw run.hasErrors() || code !== 0 ? failure(e) : e;
    }
    const code = await run.exited;
    throwIfAborted(signal);
    if (code !== 0 || run.hasErrors()) throw failure();
    if (count === 0) throw new ImageDecodeError(`'${path}' has a video stream with no frames in it; give a file with at least one frame`);
  } finally {
    signal?.removeEventListener("abort", onAbort);
    run.kill();
    await reader.close().catch(() => {});
  }
}

export interface WriteVideoResult {
  frames: number;
  /** Input streams the container could not hold, in words (empty when everything was kept). */
  dropped: string[];
}

/**
 * Encodes `frames` into `output` with FFmpeg, carrying over `source`'s audio, subtitles, metadata,
 * timing and colour tags, and its rotation where the container holds one (mp4, mov). The file appears
 * only when complete: it is written to a hidden temp file beside it, which a failure or abort removes.
 * @throws ImageEncodeError when FFmpeg fails; the frames' own errors (AbortError…) pass through.
 */
export async function writeVideo(tools: FfmpegTools, output: string, frames: AsyncIterable<TimedFrame>, settings: EncodeSettings, source?: { info: VideoInfo; path: string }): Promise<WriteVideoResult> {
  const result: WriteVideoResult = { frames: 0, dropped: [] };
  const rotation = source && (settings.muxer === "mp4" || settings.muxer === "mov") ? source.info.video.rotation : 0;
  await writeAtomic(output, async (tmp) => {
    const encoded = rotation ? `${partialName(tmp)}` : tmp;
    try {
      const command = encodeArgs(encoded, settings, source);
      result.dropped = command.dropped;
      result.frames = await encode(tools, command.args, frames, output);
      if (rotation) await runToEnd(tools, rotateArgs(encoded, tmp, settings.muxer, rotation), output);
    } finally {
      if (rotation) await rm(encoded, { force: true }).catch(() => {});
    }
  });
  return result;
}

async function encode(tools: FfmpegTools, args: string[], frames: AsyncIterable<TimedFrame>, output: string): Promise<number> {
  let run: FfmpegProcess | undefined;
  let count = 0, width = 0, height = 0;
  const died = () => new ImageEncodeError(`FFmpeg failed writing '${output}': ${run!.lastWords()}`);
  // A frame's bytes drain into FFmpeg while the next one is upscaled (pulled from `frames`); the drain
  // is awaited before the next write, so at most one frame waits in the pipe.
  let sent: Promise<void> = Promise.resolve();
  try {
    for await (const frame of frames) {
      await sent;
      if (!run) {
        ({ width, height } = frame);
        run = startFfmpeg(tools.ffmpeg, args, { stdin: true, stdout: false });
        run.child.stdin!.on("error", () => {}); // EPIPE when FFmpeg quits: its exit code and words tell why
        await send(run, [mkvHeader(width, height)], died);
      }
      if (frame.width !== width || frame.height !== height) {
        throw new ImageEncodeError(`frame ${count} is ${frame.width}×${frame.height} where the video is ${width}×${height}; a video's frames must all be one size`);
      }
      sent = send(run, mkvFrame(frame), died);
      sent.catch(() => {}); // awaited before the next write or after the last frame
      count++;
    }
    await sent;
    if (!run) throw new ImageEncodeError(`no frames to write to '${output}'`);
    run.child.stdin!.end();
    if ((await run.exited) !== 0) throw died();
    return count;
  } catch (e) {
    run?.kill();
    throw e;
  }
}

/** Writes parts to FFmpeg's stdin, waiting while its pipe is full; fails when FFmpeg has quit. */
async function send(run: FfmpegProcess, parts: Uint8Array[], died: () => Error): Promise<void> {
  const stdin = run.child.stdin!;
  for (const part of parts) {
    if (stdin.write(part)) continue;
    const quit = run.exited.then(() => "quit" as const);
    const drained = once(stdin, "drain").then(() => "drain" as const, () => "quit" as const); // 'error' (EPIPE): FFmpeg quit
    if ((await Promise.race([drained, quit])) === "quit") {
      // The write can fail (EPIPE) before FFmpeg's last stderr lines are read: wait for it to close, briefly.
      await Promise.race([run.exited, delay(2000, undefined, { ref: false })]);
      throw died();
    }
  }
}

async function runToEnd(tools: FfmpegTools, args: string[], output: string): Promise<void> {
  const run = startFfmpeg(tools.ffmpeg, args, { stdin: false, stdout: false });
  if ((await run.exited) !== 0) throw new ImageEncodeError(`FFmpeg failed writing '${output}': ${run.lastWords()}`);
}
