// SPDX-License-Identifier: MIT
// The FFmpeg command lines of a video upscale, as pure functions of the probed input and the options:
// decoding to raw RGBA frames in Matroska (timestamps kept), and encoding those frames with the
// input's audio, subtitles, metadata, colour tags and frame rate carried over. Written for Debian 12's
// FFmpeg 5.1 (`-fps_mode`, no `-display_rotation`; see docs/video.md for what that version lacks).
import { UsageError } from "../errors.js";
import type { VideoInfo } from "./probe.js";

export type Muxer = "mp4" | "mov" | "matroska" | "webm";

/** Output file extensions written through FFmpeg, and the muxer each names. */
export const VIDEO_EXTENSIONS: Record<string, Muxer> = { mp4: "mp4", m4v: "mp4", mov: "mov", mkv: "matroska", webm: "webm" };

interface Codec {
  encoder: string;
  /** Default quality for --crf (lower is better); undefined for lossless codecs. */
  crf?: { default: number; max: number; extra?: string[] };
  /** Lossless codecs store RGB(A), so the upscaled pixels come back exactly. */
  lossless: boolean;
  muxers: Muxer[];
  /** Pixel formats to choose from (opaque, with alpha). */
  pixFmt: { opaque: string; alpha?: string };
  extra?: string[];
}

/** `--codec` names; ffprobe calls the input's codec by the same names, so an input's codec can be kept. */
export const CODECS: Record<string, Codec> = {
  h264: { encoder: "libx264", crf: { default: 18, max: 51, extra: ["-preset", "medium"] }, lossless: false, muxers: ["mp4", "mov", "matroska"], pixFmt: { opaque: "yuv420p" } },
  hevc: { encoder: "libx265", crf: { default: 20, max: 51, extra: ["-preset", "medium", "-x265-params", "log-level=error"] }, lossless: false, muxers: ["mp4", "mov", "matroska"], pixFmt: { opaque: "yuv420p" }, extra: ["-tag:v", "hvc1"] },
  vp9: { encoder: "libvpx-vp9", crf: { default: 30, max: 63, extra: ["-b:v", "0", "-row-mt", "1"] }, lossless: false, muxers: ["mp4", "matroska", "webm"], pixFmt: { opaque: "yuv420p", alpha: "yuva420p" } },
  av1: { encoder: "libsvtav1", crf: { default: 30, max: 63 }, lossless: false, muxers: ["mp4", "matroska", "webm"], pixFmt: { opaque: "yuv420p" } },
  ffv1: { encoder: "ffv1", lossless: true, muxers: ["matroska"], pixFmt: { opaque: "bgr0", alpha: "bgra" }, extra: ["-level", "3"] },
  png: { encoder: "png", lossless: true, muxers: ["mov", "matroska"], pixFmt: { opaque: "rgb24", alpha: "rgba" } },
};

const DEFAULT_CODEC: Record<Muxer, string> = { mp4: "h264", mov: "h264", matroska: "h264", webm: "vp9" };

/** The codec to write: the one asked for (checked against the container), else the input's when we write it there, else the container's usual. */
export function chooseCodec(muxer: Muxer, asked: string | undefined, inputCodec: string | undefined): string {
  if (asked !== undefined) {
    const codec = CODECS[asked];
    if (!codec) throw new UsageError(`video: --codec must be one of ${Object.keys(CODECS).join(", ")}, got '${asked}'`);
    if (!codec.muxers.includes(muxer)) throw new UsageError(`video: ${asked} cannot be written to ${muxer === "matroska" ? "mkv" : muxer}; it goes in ${codec.muxers.map((m) => (m === "matroska" ? "mkv" : m)).join(", ")}`);
    return asked;
  }
  return inputCodec && Object.hasOwn(CODECS, inputCodec) && CODECS[inputCodec].muxers.includes(muxer) ? inputCodec : DEFAULT_CODEC[muxer];
}

/** Whether a pixel format carries alpha (yuva420p, rgba, bgra, ya8, gbrap…). */
export const hasAlpha = (pixFmt: string) => /^(yuva|rgba|bgra|argb|abgr|ya|gbrap|rgba64|bgra64)/.test(pixFmt);
const isYuv = (pixFmt: string) => /^yuv/.test(pixFmt);

/** swscale's name for a colour matrix ffprobe names (bt709, bt470bg, smpte170m, bt2020nc…). */
function matrixName(colorSpace: string | undefined): string | undefined {
  if (!colorSpace) return undefined;
  if (colorSpace.startsWith("bt2020")) return "bt2020";
  if (colorSpace === "bt470bg") return "bt470";
  return ["bt709", "fcc", "smpte170m", "smpte240m"].includes(colorSpace) ? colorSpace : undefined;
}

/** YUV → RGB with the input's own matrix and range, when it names them (else swscale's BT.601 default). */
function colourFilter(direction: "in" | "out", v: VideoInfo["video"]): string[] {
  const matrix = matrixName(v.colorSpace), range = v.colorRange === "pc" || v.colorRange === "tv" ? v.colorRange : undefined;
  const opts = [matrix && `${direction}_color_matrix=${matrix}`, range && `${direction}_range=${range}`].filter(Boolean);
  return opts.length ? ["-vf", `scale=${opts.join(":")}`] : [];
}

const QUIET = ["-nostdin", "-hide_banner", "-v", "error"];

/**
 * ffmpeg's arguments to decode the video stream of `input` to raw RGBA in Matroska on stdout, one
 * frame per decoded frame (no frame dropped or doubled), timestamps as decoded. `upright` turns the
 * frames as a player would (for outputs that cannot store a rotation); otherwise they stay as stored.
 */
export function decodeArgs(info: VideoInfo, input: string, upright: boolean): string[] {
  const v = info.video;
  return [
    ...QUIET, ...(upright ? [] : ["-noautorotate"]), ...(v.decoder ? ["-c:v", v.decoder] : []), "-i", input,
    "-map", `0:v:${v.index}`, "-an", "-sn", "-dn", "-fps_mode", "passthrough",
    ...(isYuv(v.pixFmt) ? colourFilter("in", v) : []),
    "-c:v", "rawvideo", "-pix_fmt", "rgba", "-f", "matroska", "pipe:1",
  ];
}

export interface EncodeSettings {
  muxer: Muxer;
  codec: string;
  /** --crf; undefined for the codec's default. */
  crf?: number;
  /** Whether the frames carry transparency worth keeping. */
  alpha: boolean;
}

export interface EncodeCommand {
  args: string[];
  /** Input streams that cannot go into this container and are left out, in words. */
  dropped: string[];
}

/**
 * ffmpeg's arguments to encode Matroska RGBA frames from stdin into `output` (as `settings.muxer`).
 * With `source` (the probed input video and its path) its audio, subtitles, chapters, metadata,
 * colour tags and frame rate are carried over; rotation is the caller's (a remux, see writeVideo).
 */
export function encodeArgs(output: string, settings: EncodeSettings, source?: { info: VideoInfo; path: string }): EncodeCommand {
  const codec = CODECS[settings.codec];
  const pixFmt = settings.alpha && codec.pixFmt.alpha ? codec.pixFmt.alpha : codec.pixFmt.opaque;
  const quality = codec.crf ? ["-crf", String(settings.crf ?? codec.crf.default), ...(codec.crf.extra ?? [])] : [];
  const args = [...QUIET, "-y", "-f", "matroska", "-i", "pipe:0"];
  const maps = ["-map", "0:v:0"];
  const dropped: string[] = [];
  let tail: string[] = [];
  let timing = ["-fps_mode", "passthrough", "-enc_time_base", "-1"];
  let colour: string[] = [];
  if (source) {
    const { info, path } = source;
    args.push("-i", path);
    const v = info.video;
    maps.push("-map_metadata", "1", "-map_chapters", "1", "-map_metadata:s:v:0", `1:s:v:${v.index}`);
    // A constant-rate input keeps its exact rate (and time base); timestamps pass through either way.
    if (v.constantRate) timing = ["-fps_mode", "passthrough", "-r", v.frameRate];
    if (!codec.lossless) colour.push(...colourFilter("out", v));
    for (const [flag, value] of [["-color_primaries", v.colorPrimaries], ["-color_trc", v.colorTransfer]] as const) if (value) colour.push(flag, value);
    if (!codec.lossless) for (const [flag, value] of [["-colorspace", v.colorSpace], ["-color_range", v.colorRange]] as const) if (value) colour.push(flag, value);
    info.audio.forEach((a, i) => {
      maps.push("-map", `1:a:${a.index}`);
      tail.push(`-c:a:${i}`, audioCodec(settings.muxer, a.codec));
    });
    let s = 0;
    for (const sub of info.subtitles) {
      const to = subtitleCodec(settings.muxer, sub.codec);
      if (!to) { dropped.push(`subtitle stream ${sub.index} (${sub.codec}: ${settings.muxer} cannot hold it)`); continue; }
      maps.push("-map", `1:s:${sub.index}`);
      tail.push(`-c:s:${s++}`, to);
    }
    if (info.attachments > 0) {
      if (settings.muxer === "matroska") { maps.push("-map", "1:t"); tail.push("-c:t", "copy"); }
      else dropped.push(`${info.attachments} attachment(s) (fonts; only mkv holds them)`);
    }
  }
  if (settings.muxer === "mp4" || settings.muxer === "mov") tail.push("-movflags", "+faststart");
  tail = [...tail, "-f", settings.muxer, output];
  return { args: [...args, ...maps, "-c:v", codec.encoder, ...quality, ...(codec.extra ?? []), "-pix_fmt", pixFmt, ...colour, ...timing, ...tail], dropped };
}

function audioCodec(muxer: Muxer, codec: string): string {
  if (muxer === "matroska") return "copy";
  if (muxer === "webm") return codec === "opus" || codec === "vorbis" ? "copy" : "libopus";
  const mp4 = ["aac", "mp3", "alac", "ac3", "eac3", "opus", "flac"];
  return mp4.includes(codec) || (muxer === "mov" && codec.startsWith("pcm_")) ? "copy" : "aac";
}

const TEXT_SUBTITLES = ["subrip", "ass", "ssa", "webvtt", "mov_text", "text"];

/** FFmpeg's subtitle encoder for this container, "copy", or undefined when it cannot hold the stream. */
function subtitleCodec(muxer: Muxer, codec: string): string | undefined {
  const text = TEXT_SUBTITLES.includes(codec);
  if (muxer === "matroska") return codec === "mov_text" ? "srt" : "copy";
  if (muxer === "webm") return codec === "webvtt" ? "copy" : text ? "webvtt" : undefined;
  return codec === "mov_text" ? "copy" : text ? "mov_text" : codec === "dvd_subtitle" && muxer === "mp4" ? "copy" : undefined;
}

/** `-c copy` of `input` into `output` with the video's rotation set (FFmpeg 5.1 sets it only when copying). */
export function rotateArgs(input: string, output: string, muxer: Muxer, rotation: number): string[] {
  return [...QUIET, "-y", "-i", input, "-map", "0", "-c", "copy", "-metadata:s:v:0", `rotate=${rotation}`, "-f", muxer, output];
}
