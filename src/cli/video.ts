// SPDX-License-Identifier: MIT
// `srgan video IN OUT`: a video or an animated image through one upscaler, frame by frame. Sources:
// FFmpeg for video files, our codecs for GIF, APNG and WebP; sinks the same by OUT's extension. Memory
// stays at a few frames; Ctrl-C removes the partial output. `srgan upscale` sends animated inputs here.
import { open, stat } from "node:fs/promises";
import { basename } from "node:path";
import { createUpscaler } from "../api/upscaler.js";
import type { UpscalerOptions } from "../api/options.js";
import { ImageEncodeError, UsageError } from "../errors.js";
import { animationFormatFromName, decodeAnimation, detectAnimation, encodeAnimation, type DecodedAnimation } from "../image/animation.js";
import { AUTO_MODEL, autoModel } from "../model/builtin.js";
import { readBytes, writeBytesAtomic } from "../platform/files.js";
import { chooseCodec, CODECS, hasAlpha, VIDEO_EXTENSIONS, type Muxer } from "../video/ffmpeg-args.js";
import { findFfmpeg, probeVideo, readVideoFrames, writeVideo, type FfmpegTools, type VideoInfo } from "../video/ffmpeg.js";
import { upscaleFrames, type FrameProgress } from "../video/frames.js";
import { intFlag, parse, upscalerOptions, UPSCALER_FLAGS, UPSCALER_HELP, type Command, type Context } from "./args.js";
import { checkWritable, formatBytes, prefixPath, refuseSameFile, seconds } from "./io.js";
import { progressBar } from "./progress.js";

export const command: Command = {
  help: `Usage: srgan video IN OUT [options]

Upscales every frame of the video or animated image IN and writes OUT. Video files are read and
written by FFmpeg (Debian's 'ffmpeg' package); GIF, APNG and WebP animations by this package. OUT's
extension picks the format: .mp4 .m4v .mov .mkv .webm (video), .gif .png/.apng .webp (animation).
Audio, subtitles, chapters, metadata, frame timing (also variable), rotation and colour tags are
kept; exact repeats of recent frames are upscaled once. Memory stays at a few frames.

Options:
${UPSCALER_HELP}
      --codec NAME        video codec: h264, hevc, vp9, av1, ffv1 (lossless, .mkv), png (lossless,
                          .mkv/.mov) (default: the input's when OUT's container takes it, else h264,
                          vp9 for .webm)
      --crf Q             quality of lossy codecs, lower is better (default: h264 18, hevc 20,
                          vp9/av1 30)
  -q, --quality Q         WebP output: lossy at quality 1–100 (default: lossless)
      --ffmpeg PATH       the ffmpeg program (default: ffmpeg on PATH; ffprobe is looked for beside it)
      --overwrite         allow OUT to be IN itself
  -h, --help              show this help

Example:
  srgan video clip.mp4 clip-4x.mp4 --model natural-fast --crf 20`,

  async run(argv, ctx) {
    const { values, args: [input, output] } = parse("video", argv, {
      ...UPSCALER_FLAGS,
      codec: { type: "string" },
      crf: { type: "string" },
      quality: { type: "string", short: "q" },
      ffmpeg: { type: "string" },
      overwrite: { type: "boolean" },
    }, ["IN", "OUT"]);
    await upscaleMovingPicture({
      command: "video", input, output, upscaler: upscalerOptions("video", values), overwrite: values.overwrite,
      codec: values.codec, crf: intFlag("video", "crf", values.crf, 0, 63), quality: intFlag("video", "quality", values.quality, 1, 100), ffmpegPath: values.ffmpeg,
    }, ctx);
  },
};

export interface MovingPictureJob {
  command: string;
  input: string;
  output: string;
  upscaler: UpscalerOptions;
  overwrite?: boolean;
  codec?: string;
  crf?: number;
  quality?: number;
  ffmpegPath?: string;
  /** The input's bytes when the caller read them already (upscale). */
  bytes?: Uint8Array;
}

/** Whether a file's first bytes make it an animation (GIF, APNG, WebP) that `upscale` sends here. */
export const isAnimation = (bytes: Uint8Array): boolean => detectAnimation(bytes) !== undefined;

/** Decodes, upscales and encodes a video or animation, as `srgan video` does. */
export async function upscaleMovingPicture(job: MovingPictureJob, ctx: Context): Promise<void> {
  const { input, output } = job;
  const animationOut = animationFormatFromName(output);
  const muxer: Muxer | undefined = VIDEO_EXTENSIONS[/\.([a-z0-9]+)$/i.exec(output)?.[1]?.toLowerCase() ?? ""];
  if (!animationOut && !muxer) throw new ImageEncodeError(`cannot tell the output format from '${output}': use .mp4, .m4v, .mov, .mkv, .webm, .gif, .png, .apng or .webp`);
  if (job.codec !== undefined && !muxer) throw new UsageError(`${job.command}: --codec applies to video outputs (.mp4, .mov, .mkv, .webm), not '${output}'`);
  if (job.crf !== undefined && !muxer) throw new UsageError(`${job.command}: --crf applies to video outputs (.mp4, .mov, .mkv, .webm), not '${output}'`);
  if (job.quality !== undefined && animationOut !== "webp") throw new UsageError(`${job.command}: --quality with an animation applies to .webp outputs only`);
  await refuseSameFile(job.command, input, output, job.overwrite);
  await checkWritable(output);

  // The source: our decoders for animations, FFmpeg for the rest. FFmpeg is looked for only when needed.
  const head = job.bytes ?? await readHead(input);
  let tools: FfmpegTools | undefined;
  const needTools = async () => (tools ??= await findFfmpeg(job.ffmpegPath));
  let animation: DecodedAnimation | undefined, video: VideoInfo | undefined;
  const animationIn = detectAnimation(head) !== undefined;
  if (!animationIn || muxer) await needTools();
  try {
    if (animationIn) animation = decodeAnimation(job.bytes ?? await readBytes(input));
    else video = await probeVideo(await needTools(), input);
  } catch (e) {
    throw prefixPath(e, input);
  }
  const width = animation?.info.width ?? video!.video.width, height = animation?.info.height ?? video!.video.height;
  const framesTotal = animation?.info.frames ?? video!.video.frames;
  const codec = muxer ? chooseCodec(muxer, job.codec, video?.video.codec) : undefined;
  const crfRange = codec ? CODECS[codec].crf : undefined;
  if (job.crf !== undefined && !crfRange) throw new UsageError(`${job.command}: --crf applies to lossy codecs; ${codec} is lossless`);
  if (job.crf !== undefined && job.crf > crfRange!.max) throw new UsageError(`${job.command}: --crf for ${codec} must be an integer in [0, ${crfRange!.max}], got ${job.crf}`);
  const upright = !(muxer === "mp4" || muxer === "mov"); // where the container keeps no rotation, turn the pictures
  const turned = video && upright && video.video.rotation % 180 !== 0;

  const options = { ...job.upscaler };
  if (options.model === AUTO_MODEL) options.model = autoModel("png", options.scale); // video frames are not JPEG files
  const t0 = performance.now();
  const up = await createUpscaler(options);
  try {
    try {
      up.checkSize(turned ? height : width, turned ? width : height);
    } catch (e) {
      throw prefixPath(e, input);
    }
    const source = animation ? animation.frames : readVideoFrames(tools!, input, video!, { upright, signal: ctx.signal });
    const bar = progressBar(`${job.command} ${basename(input)}`, ctx.tty);
    let last: FrameProgress | undefined;
    const frames = upscaleFrames(up, source, {
      signal: ctx.signal, framesTotal,
      onProgress: (p) => { last = p; bar.update(p.framesTotal ? p.framesDone / p.framesTotal : 0, progressDetail(p)); },
    });
    let written: { frames: number; bytes: number; dropped: string[] };
    try {
      if (animationOut) {
        const bytes = await encodeAnimation(animationOut, frames, { loopCount: animation?.info.loopCount ?? 0, quality: job.quality });
        await writeBytesAtomic(output, bytes);
        written = { frames: last?.framesDone ?? 0, bytes: bytes.length, dropped: video && (video.audio.length || video.subtitles.length) ? ["audio and subtitles (an animation holds none)"] : [] };
      } else {
        const alpha = video ? hasAlpha(video.video.pixFmt) : false;
        const result = await writeVideo(tools!, output, frames, { muxer: muxer!, codec: codec!, crf: job.crf, alpha }, video && { info: video, path: input });
        written = { ...result, bytes: (await stat(output)).size };
      }
    } finally {
      bar.done();
    }
    for (const what of written.dropped) ctx.err(`${job.command}: not kept: ${what}`);
    const info = up.info();
    const ms = performance.now() - t0;
    const repeats = last?.repeats ? `, ${last.repeats} exact repeat${last.repeats === 1 ? "" : "s"} reused` : "";
    ctx.out(`${input} (${width}×${height}, ${written.frames} frame${written.frames === 1 ? "" : "s"}) → ${output} (${info.scale * (turned ? height : width)}×${info.scale * (turned ? width : height)}${codec ? ` ${codec}` : ""}, ${formatBytes(written.bytes)}) ` +
      `with ${info.model} ×${info.scale} on ${info.threads === 0 ? "the main thread" : `${info.threads} thread${info.threads === 1 ? "" : "s"}`} in ${seconds(ms)} (${(written.frames / (ms / 1000)).toFixed(2)} frames/s${repeats})`);
  } finally {
    await up.dispose();
  }
}

function progressDetail(p: FrameProgress): string {
  return `${p.framesDone}${p.framesTotal ? `/${p.framesTotal}` : ""} frames, ${p.framesPerSecond.toFixed(2)} frames/s${p.repeats ? `, ${p.repeats} repeats` : ""}`;
}

/** The first bytes of a file: enough to tell an animation from a video without reading a whole film. */
async function readHead(path: string): Promise<Uint8Array> {
  const file = await open(path, "r").catch(() => undefined);
  if (!file) return readBytes(path); // its IoError names the path and the reason
  try {
    const buf = new Uint8Array(64 * 1024);
    const { bytesRead } = await file.read(buf, 0, buf.length, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
}
