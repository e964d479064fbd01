// SPDX-License-Identifier: MIT
// What ffprobe says about a video file, reduced to what upscaling it needs: the video stream's size,
// pixel format, rate, rotation and colour tags, and the audio and subtitle streams to carry over.
// Node only. A file FFmpeg cannot read, or one without a video stream, is ImageDecodeError.
import { stat } from "node:fs/promises";
import { ImageDecodeError, ioError } from "../errors.js";
import { startFfmpeg, type FfmpegTools } from "./ffmpeg-tools.js";

export interface StreamInfo {
  /** Index among the file's streams of its type (for `-map 0:a:N`). */
  index: number;
  codec: string;
}

export interface VideoInfo {
  /** ffprobe's format names, e.g. "mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm". */
  container: string;
  video: StreamInfo & {
    width: number;
    height: number;
    pixFmt: string;
    /** "30000/1001"; r_frame_rate (the stream's base rate). */
    frameRate: string;
    /** Whether every frame lasts the same (r_frame_rate equals avg_frame_rate). */
    constantRate: boolean;
    /** The display matrix's turn in degrees (0, 90, 180, 270), as FFmpeg's `rotate` tag writes it back. */
    rotation: number;
    colorRange?: string;
    colorSpace?: string;
    colorPrimaries?: string;
    colorTransfer?: string;
    /** Frames in the stream: counted by the container when it says, else estimated from duration × rate. */
    frames?: number;
    /** The FFmpeg decoder to use instead of its default: libvpx for VP8/VP9 with alpha, which FFmpeg's own drops. */
    decoder?: string;
  };
  audio: StreamInfo[];
  subtitles: StreamInfo[];
  /** Attachments (fonts of ASS subtitles in Matroska). */
  attachments: number;
}

interface RawStream {
  codec_type?: string; codec_name?: string; width?: number; height?: number; pix_fmt?: string;
  r_frame_rate?: string; avg_frame_rate?: string; nb_frames?: string; duration?: string;
  color_range?: string; color_space?: string; color_primaries?: string; color_transfer?: string;
  disposition?: { attached_pic?: number }; side_data_list?: Array<{ rotation?: number }>; tags?: { rotate?: string; alpha_mode?: string };
}

/**
 * Reads the file's streams with ffprobe.
 * @throws IoError when the file cannot be read; ImageDecodeError when FFmpeg cannot read it as a video
 *   (not a media file, truncated headers) or it has no video stream.
 */
export async function probeVideo(tools: FfmpegTools, path: string): Promise<VideoInfo> {
  await stat(path).catch((e) => { throw ioError("read", path, e); });
  const run = startFfmpeg(tools.ffprobe, ["-v", "error", "-print_format", "json", "-show_streams", "-show_format", "--", path], { stdin: false, stdout: true });
  let json = "";
  run.child.stdout!.setEncoding("utf8");
  run.child.stdout!.on("data", (d: string) => (json += d));
  if (await run.exited !== 0) throw new ImageDecodeError(`FFmpeg cannot read '${path}' as a video: ${stripPath(run.lastWords(), path)}`);
  const parsed = JSON.parse(json) as { streams?: RawStream[]; format?: { format_name?: string; duration?: string } };
  const streams = parsed.streams ?? [];
  const ofType = (type: string) => streams.filter((s) => s.codec_type === type);
  const videos = ofType("video");
  const index = videos.findIndex((s) => !s.disposition?.attached_pic); // cover art is a still, not the video
  const v = videos[index];
  if (!v || !v.width || !v.height) {
    const found = streams.map((s) => `${s.codec_type} (${s.codec_name})`).join(", ") || "none";
    throw new ImageDecodeError(`'${path}' has no video stream (its streams: ${found}); give a file with video`);
  }
  const known = (s?: string) => (s && s !== "unknown" ? s : undefined);
  const rate = v.r_frame_rate ?? "0/1";
  const seconds = Number(v.duration ?? parsed.format?.duration);
  const estimated = Number.isFinite(seconds) && ratio(rate) > 0 ? Math.round(seconds * ratio(v.avg_frame_rate ?? rate)) : undefined;
  // WebM stores VP8/VP9 alpha beside the picture (alpha_mode 1); only libvpx decodes it, into yuva420p.
  const vpxAlpha = v.tags?.alpha_mode === "1" && (v.codec_name === "vp9" || v.codec_name === "vp8");
  const displayRotation = v.side_data_list?.find((d) => typeof d.rotation === "number")?.rotation ?? Number(v.tags?.rotate ?? 0);
  return {
    container: parsed.format?.format_name ?? "",
    video: {
      index, codec: v.codec_name ?? "", width: v.width, height: v.height, pixFmt: vpxAlpha ? "yuva420p" : v.pix_fmt ?? "",
      decoder: vpxAlpha ? (v.codec_name === "vp9" ? "libvpx-vp9" : "libvpx") : undefined,
      frameRate: rate, constantRate: ratio(rate) > 0 && ratio(rate) === ratio(v.avg_frame_rate ?? "0/0"),
      rotation: (((Math.round(displayRotation / 90) * 90) % 360) + 360) % 360,
      colorRange: known(v.color_range), colorSpace: known(v.color_space), colorPrimaries: known(v.color_primaries), colorTransfer: known(v.color_transfer),
      frames: Number(v.nb_frames) > 0 ? Number(v.nb_frames) : estimated,
    },
    audio: ofType("audio").map((s, i) => ({ index: i, codec: s.codec_name ?? "" })),
    subtitles: ofType("subtitle").map((s, i) => ({ index: i, codec: s.codec_name ?? "" })),
    attachments: ofType("attachment").length,
  };
}

export function ratio(r: string): number {
  const [n, d] = r.split("/").map(Number);
  return d > 0 ? n / d : 0;
}

/** FFmpeg prefixes messages with the path, which the caller names already. */
const stripPath = (message: string, path: string) => message.replaceAll(`${path}: `, "");
