// The FFmpeg command lines as pure functions: codec choice per container, what audio and subtitle
// streams become in each container (copied, converted, or left out and named), and the timing flags.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { chooseCodec, encodeArgs, hasAlpha } from "../../src/video/ffmpeg-args.js";
import type { VideoInfo } from "../../src/video/probe.js";

const test = suite("ffmpeg-args");

const info = (over: Partial<VideoInfo> = {}, video: Partial<VideoInfo["video"]> = {}): VideoInfo => ({
  container: "matroska,webm", audio: [], subtitles: [], attachments: 0, ...over,
  video: { index: 0, codec: "h264", width: 32, height: 24, pixFmt: "yuv420p", frameRate: "25/1", constantRate: true, rotation: 0, ...video },
});
/** The value after `flag` in args (the first occurrence), or undefined. */
const after = (args: string[], flag: string) => { const i = args.indexOf(flag); return i < 0 ? undefined : args[i + 1]; };

test("codec: asked for (checked against the container), else the input's where it fits, else the container's", () => {
  assert.is(chooseCodec("matroska", undefined, "ffv1"), "ffv1");
  assert.is(chooseCodec("mp4", undefined, "ffv1"), "h264");
  assert.is(chooseCodec("webm", undefined, "h264"), "vp9");
  assert.is(chooseCodec("mp4", undefined, "mpeg4"), "h264");
  assert.throws(() => chooseCodec("webm", "ffv1", undefined), /ffv1 cannot be written to webm; it goes in mkv/);
  assert.throws(() => chooseCodec("mp4", "divx", undefined), /--codec must be one of h264, hevc, vp9, av1, ffv1, png/);
});

test("audio: copied where the container takes the codec, else re-encoded; subtitles converted or left out and named", () => {
  const src = info({ audio: [{ index: 0, codec: "pcm_s16le" }, { index: 1, codec: "aac" }], subtitles: [{ index: 0, codec: "subrip" }, { index: 1, codec: "hdmv_pgs_subtitle" }] });
  const mp4 = encodeArgs("out", { muxer: "mp4", codec: "h264", alpha: false }, { info: src, path: "in.mkv" });
  assert.equal([after(mp4.args, "-c:a:0"), after(mp4.args, "-c:a:1"), after(mp4.args, "-c:s:0")], ["aac", "copy", "mov_text"]);
  assert.equal(mp4.dropped, ["subtitle stream 1 (hdmv_pgs_subtitle: mp4 cannot hold it)"]);
  const webm = encodeArgs("out", { muxer: "webm", codec: "vp9", alpha: false }, { info: src, path: "in.mkv" });
  assert.equal([after(webm.args, "-c:a:0"), after(webm.args, "-c:s:0")], ["libopus", "webvtt"]);
  const mkv = encodeArgs("out", { muxer: "matroska", codec: "ffv1", alpha: true }, { info: { ...src, attachments: 2 }, path: "in.mkv" });
  assert.equal([after(mkv.args, "-c:a:0"), after(mkv.args, "-c:s:1"), after(mkv.args, "-pix_fmt"), after(mkv.args, "-c:t")], ["copy", "copy", "bgra", "copy"]);
  assert.equal(mkv.dropped, []);
});

test("timing: frames pass through; a constant-rate input keeps its rate, a variable one the decoder's time base", () => {
  const cfr = encodeArgs("out", { muxer: "mp4", codec: "h264", alpha: false }, { info: info({}, { frameRate: "30000/1001" }), path: "in" }).args;
  assert.equal([after(cfr, "-fps_mode"), after(cfr, "-r"), after(cfr, "-enc_time_base")], ["passthrough", "30000/1001", undefined]);
  const vfr = encodeArgs("out", { muxer: "mp4", codec: "h264", alpha: false }, { info: info({}, { constantRate: false }), path: "in" }).args;
  assert.equal([after(vfr, "-fps_mode"), after(vfr, "-r"), after(vfr, "-enc_time_base")], ["passthrough", undefined, "-1"]);
  const tagged = encodeArgs("out", { muxer: "mp4", codec: "h264", alpha: false }, { info: info({}, { colorSpace: "bt709", colorRange: "tv", colorPrimaries: "bt709", colorTransfer: "bt709" }), path: "in" }).args;
  assert.equal([after(tagged, "-vf"), after(tagged, "-colorspace"), after(tagged, "-color_range")], ["scale=out_color_matrix=bt709:out_range=tv", "bt709", "tv"]);
});

test("alpha pixel formats", () => {
  assert.ok(hasAlpha("yuva420p") && hasAlpha("rgba") && hasAlpha("bgra") && hasAlpha("ya8"));
  assert.not.ok(hasAlpha("yuv420p") || hasAlpha("bgr0") || hasAlpha("rgb24"));
});

test.run();
