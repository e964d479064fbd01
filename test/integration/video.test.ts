// `srgan video` and the FFmpeg adapter end to end on tiny clips that FFmpeg's generators make here
// (testsrc2 32×24, a dozen frames; sine audio): frames, timing (also variable), audio, subtitles,
// rotation and colour tags kept; a frame equals `srgan upscale` of that frame, bit for bit, through
// lossless FFV1 with the default network; bad input is a typed error, fast, leaving no output; an abort
// leaves no partial file. Needs Debian's ffmpeg: skipped with one line without it, required in CI.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { main } from "../../src/cli/main.js";
import { AbortError } from "../../src/errors.js";
import { decodeImage } from "../../src/image/codec.js";
import { decodeAnimation } from "../../src/image/animation.js";
import type { TimedFrame } from "../../src/image/frame.js";
import { findFfmpeg, probeVideo, readVideoFrames, writeVideo } from "../../src/video/ffmpeg.js";

const test = suite("video");
const haveFfmpeg = spawnSync("ffmpeg", ["-version"]).status === 0;
if (!haveFfmpeg && process.env.CI) throw new Error("ffmpeg is missing but CI is set: .ci/run installs Debian's ffmpeg package");
const dir = mkdtempSync(join(tmpdir(), "srgan-video-"));
const p = (name: string) => join(dir, name);

const ffmpeg = (...args: string[]) => execFileSync("ffmpeg", ["-v", "error", "-y", ...args]);
const probe = (file: string, entries: string, stream = "v") =>
  execFileSync("ffprobe", ["-v", "error", "-select_streams", stream, "-show_entries", entries, "-of", "csv=p=0", file], { encoding: "utf8" }).trim().split("\n").filter(Boolean).map((l) => l.replace(/,?side_data,.*$|,+$/, ""));
const clip = (extra: string[], out: string, seconds = 1.2) =>
  ffmpeg("-f", "lavfi", "-i", `testsrc2=s=32x24:r=10:d=${seconds}`, "-f", "lavfi", "-i", `sine=f=440:d=${seconds}`, ...extra, "-shortest", p(out));
/** Frame `n` of a file as RGBA pixels, as FFmpeg decodes it. */
const frameRgba = (file: string, n: number) => decodeImage(new Uint8Array(execFileSync("ffmpeg", ["-v", "error", "-i", file, "-vf", `select=eq(n\\,${n})`, "-frames:v", "1", "-f", "image2pipe", "-c:v", "png", "-pix_fmt", "rgba", "-"])));

async function srgan(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = "", stderr = "";
  const { write: out } = process.stdout, { write: err } = process.stderr;
  process.stdout.write = ((c: string) => { stdout += c; return true; }) as typeof process.stdout.write;
  process.stderr.write = ((c: string) => { stderr += c; return true; }) as typeof process.stderr.write;
  try {
    return { status: await main(args), stdout, stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

const noPartials = () => assert.equal(readdirSync(dir).filter((f) => f.endsWith(".partial")), [], "no partial file left");

if (!haveFfmpeg) {
  console.log("skip: video tests (need Debian's ffmpeg package: apt-get install ffmpeg)");
} else {
  test("a frame of the video equals `srgan upscale` of that frame, bit for bit (FFV1 in and out, default network)", async () => {
    clip(["-c:v", "ffv1", "-pix_fmt", "bgr0", "-c:a", "flac"], "exact.mkv");
    const r = await srgan(["video", p("exact.mkv"), p("exact-4x.mkv"), "--threads", "2"]);
    assert.is(r.status, 0, r.stderr);
    assert.match(r.stdout, /12 frames\) → .*128×96 ffv1.* with natural ×4/);
    writeFileSync(p("frame5.png"), execFileSync("ffmpeg", ["-v", "error", "-i", p("exact.mkv"), "-vf", "select=eq(n\\,5)", "-frames:v", "1", "-f", "image2pipe", "-c:v", "png", "-"]));
    assert.is((await srgan(["upscale", p("frame5.png"), p("frame5-4x.png"), "--threads", "2"])).status, 0);
    const expected = decodeImage(readFileSync(p("frame5-4x.png")));
    const got = frameRgba(p("exact-4x.mkv"), 5);
    assert.is(got.width, 128);
    assert.ok(Buffer.compare(Buffer.from(got.data), Buffer.from(expected.data)) === 0, "frame 5 differs from srgan upscale of it");
    assert.equal(probe(p("exact-4x.mkv"), "stream=codec_name", "a"), ["flac"], "audio kept");
  });

  test("mp4 (h264 + aac): frame count, timestamps, rate and audio kept; exact repeats reused", async () => {
    clip(["-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac"], "a.mp4");
    const r = await srgan(["video", p("a.mp4"), p("a-4x.mp4"), "-m", "natural-fast", "--threads", "2"]);
    assert.is(r.status, 0, r.stderr);
    assert.equal(probe(p("a-4x.mp4"), "stream=width,height,r_frame_rate,nb_frames"), ["128,96,10/1,12"]);
    assert.equal(probe(p("a-4x.mp4"), "frame=pts_time"), probe(p("a.mp4"), "frame=pts_time"));
    assert.equal(probe(p("a-4x.mp4"), "stream=codec_name", "a"), ["aac"]);
  });

  test("variable frame timing is kept, to the millisecond (Matroska's resolution)", async () => {
    clip(["-vf", "setpts='if(lt(N\\,5)\\,N*0.1\\,0.5+(N-5)*0.25)/TB'", "-fps_mode", "vfr", "-c:v", "libx264", "-c:a", "aac"], "vfr.mp4", 1.2);
    for (const out of ["vfr-4x.mp4", "vfr-4x.mkv"]) {
      assert.is((await srgan(["video", p("vfr.mp4"), p(out), "-m", "bicubic", "--threads", "1"])).status, 0);
      const times = (f: string) => probe(f, "frame=pts_time").map(Number);
      const [a, b] = [times(p("vfr.mp4")), times(p(out))];
      assert.is(b.length, a.length, out);
      // Relative to the first frame: Matroska shifts every stream so AAC's priming starts at 0.
      for (let i = 0; i < a.length; i++) assert.ok(Math.abs((b[i] - b[0]) - (a[i] - a[0])) <= 0.001, `${out} frame ${i}: ${b[i] - b[0]} vs ${a[i] - a[0]}`);
    }
  });

  test("rotation is kept in mp4 (pixels as stored), turned upright for mkv; colour tags kept", async () => {
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=32x24:r=10:d=0.5", "-c:v", "libx264", "-color_primaries", "bt709", "-color_trc", "bt709", "-colorspace", "bt709", "-color_range", "tv", p("plain.mp4"));
    ffmpeg("-i", p("plain.mp4"), "-c", "copy", "-metadata:s:v:0", "rotate=90", p("rot.mp4"));
    assert.is((await srgan(["video", p("rot.mp4"), p("rot-4x.mp4"), "-m", "bicubic"])).status, 0);
    assert.equal(probe(p("rot-4x.mp4"), "stream=width,height:stream_side_data=rotation"), ["128,96,90"]);
    assert.equal(probe(p("rot-4x.mp4"), "stream=color_space,color_primaries,color_transfer,color_range"), ["tv,bt709,bt709,bt709"]);
    assert.is((await srgan(["video", p("rot.mp4"), p("rot-4x.mkv"), "-m", "bicubic"])).status, 0);
    assert.equal(probe(p("rot-4x.mkv"), "stream=width,height"), ["96,128"]);
  });

  test("transparency: VP9 with alpha in WebM (alpha_mode, decoded by libvpx) keeps its holes", async () => {
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=32x24:r=10:d=0.5,format=yuva420p,geq=lum='lum(X,Y)':cb='cb(X,Y)':cr='cr(X,Y)':a='if(lt(X,16),0,255)'", "-c:v", "libvpx-vp9", "-pix_fmt", "yuva420p", p("alpha.webm"));
    assert.is((await srgan(["video", p("alpha.webm"), p("alpha-4x.webm"), "-m", "bicubic"])).status, 0);
    assert.equal(probe(p("alpha-4x.webm"), "stream_tags=alpha_mode"), ["1"]);
    const frame = decodeImage(new Uint8Array(execFileSync("ffmpeg", ["-v", "error", "-c:v", "libvpx-vp9", "-i", p("alpha-4x.webm"), "-frames:v", "1", "-f", "image2pipe", "-c:v", "png", "-pix_fmt", "rgba", "-"])));
    const alphaAt = (x: number, y: number) => frame.data[(y * frame.width + x) * 4 + 3];
    assert.equal([frame.width, alphaAt(10, 40), alphaAt(120, 40)], [128, 0, 255]);
  });

  test("subtitles are carried over, converted where the container needs it (mkv srt → mp4 mov_text)", async () => {
    writeFileSync(p("subs.srt"), "1\n00:00:00,000 --> 00:00:01,000\nhello\n");
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=32x24:r=10:d=1", "-i", p("subs.srt"), "-c:v", "libx264", "-c:s", "srt", p("subs.mkv"));
    assert.is((await srgan(["video", p("subs.mkv"), p("subs-4x.mp4"), "-m", "bicubic"])).status, 0);
    assert.equal(probe(p("subs-4x.mp4"), "stream=codec_name", "s"), ["mov_text"]);
    assert.is((await srgan(["video", p("subs.mkv"), p("subs-4x.mkv"), "-m", "bicubic"])).status, 0);
    assert.equal(probe(p("subs-4x.mkv"), "stream=codec_name", "s"), ["subrip"]);
  });

  test("bad input is ERR_IMAGE_DECODE within seconds and leaves no output: garbage, truncated, no video, no frames", async () => {
    writeFileSync(p("garbage.mp4"), "not a video at all");
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=32x24:r=10:d=1.2", "-c:v", "ffv1", p("whole.mkv"));
    writeFileSync(p("truncated.mkv"), readFileSync(p("whole.mkv")).subarray(0, 4000));
    ffmpeg("-f", "lavfi", "-i", "sine=d=0.5", p("audio-only.mka"));
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=32x24:r=10:d=1", "-frames:v", "0", "-c:v", "ffv1", p("no-frames.mkv"));
    const cases: Array<[string, RegExp]> = [
      ["garbage.mp4", /cannot read .* as a video/], ["truncated.mkv", /damaged or incomplete/],
      ["audio-only.mka", /has no video stream \(its streams: audio/], ["no-frames.mkv", /no frames|no video stream|cannot read/],
    ];
    for (const [name, message] of cases) {
      const t0 = performance.now();
      const r = await srgan(["video", p(name), p(`${name}.out.mp4`), "-m", "bicubic"]);
      assert.is(r.status, 1, name);
      assert.match(r.stderr, /^srgan: ERR_IMAGE_DECODE: /, name);
      assert.match(r.stderr, message, name);
      assert.ok(performance.now() - t0 < 10_000, `${name} took ${performance.now() - t0} ms`);
      assert.not.ok(existsSync(p(`${name}.out.mp4`)), `${name}: no output`);
    }
    noPartials();
  });

  test("without FFmpeg: ERR_UNSUPPORTED naming Debian's ffmpeg package", async () => {
    const r = await srgan(["video", p("a.mp4"), p("x.mp4"), "--ffmpeg", p("no-such-ffmpeg")]);
    assert.is(r.status, 1);
    assert.match(r.stderr, /^srgan: ERR_UNSUPPORTED: .*install Debian's 'ffmpeg' package \(apt-get install ffmpeg\)/);
  });

  test("usage errors name the flag: --crf with a lossless codec or out of the codec's range, --codec the container cannot hold", async () => {
    const cases: Array<[string[], RegExp]> = [
      [["usage.mkv", "--codec", "ffv1", "--crf", "20"], /--crf applies to lossy codecs; ffv1 is lossless/],
      [["usage.mp4", "--crf", "60"], /--crf for h264 must be an integer in \[0, 51\], got 60/],
      [["usage.mp4", "--codec", "ffv1"], /ffv1 cannot be written to mp4; it goes in mkv/],
    ];
    for (const [[out, ...flags], message] of cases) {
      const r = await srgan(["video", p("a.mp4"), p(out), ...flags]);
      assert.is(r.status, 2, flags.join(" "));
      assert.match(r.stderr, message);
    }
  });

  test("an abort mid-stream removes the partial output and stops FFmpeg", async () => {
    const tools = await findFfmpeg();
    const info = await probeVideo(tools, p("a.mp4"));
    const controller = new AbortController();
    let n = 0;
    async function* aborting(): AsyncGenerator<TimedFrame> {
      for await (const f of readVideoFrames(tools, p("a.mp4"), info, { signal: controller.signal })) {
        if (++n === 4) controller.abort(new Error("Ctrl-C"));
        if (controller.signal.aborted) throw new AbortError(controller.signal.reason);
        yield f;
      }
    }
    try {
      await writeVideo(tools, p("aborted.mp4"), aborting(), { muxer: "mp4", codec: "h264", alpha: false }, { info, path: p("a.mp4") });
      assert.unreachable("no error");
    } catch (e) {
      assert.instance(e, AbortError);
    }
    assert.not.ok(existsSync(p("aborted.mp4")));
    noPartials();
  });

  test("Ctrl-C in a terminal (SIGINT to the whole process group) is ERR_ABORTED, exit 130, no output, no partial, FFmpeg gone", async () => {
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=160x120:r=25:d=60", "-c:v", "libx264", p("long.mp4"));
    const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", "video", p("long.mp4"), p("long-4x.mp4"), "-m", "bicubic", "-t", "1"], {
      cwd: fileURLToPath(new URL("../../", import.meta.url)), detached: true, stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr!.on("data", (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
    // Wait until frames are being written (the partial file exists), then interrupt the group, as a terminal does.
    for (let i = 0; i < 300 && !readdirSync(dir).some((f) => f.startsWith(".long-4x.mp4.")); i++) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 300));
    process.kill(-child.pid!, "SIGINT");
    assert.is(await exited, 130, stderr);
    assert.match(stderr, /^srgan: ERR_ABORTED: the operation was aborted \(interrupted by Ctrl-C\)/);
    assert.not.ok(existsSync(p("long-4x.mp4")));
    noPartials();
    // FFmpeg was sent SIGKILL before srgan exited; give the kernel a moment to finish it.
    let left = true;
    for (let i = 0; i < 20 && left; i++) {
      left = spawnSync("pgrep", ["-f", p("long.mp4")]).status === 0;
      if (left) await new Promise((r) => setTimeout(r, 100));
    }
    assert.not.ok(left, "no FFmpeg left running on the clip");
  });

  test("FFmpeg quitting mid-stream (its pipe full) is ERR_IMAGE_ENCODE with its last words, not a broken pipe", async () => {
    const fake = p("quitting-ffmpeg");
    writeFileSync(fake, "#!/bin/sh\nhead -c 100000 > /dev/null\necho 'quitting on purpose' >&2\nexit 1\n", { mode: 0o755 });
    const big = (i: number): TimedFrame => ({ data: new Uint8ClampedArray(640 * 480 * 4).fill(i), width: 640, height: 480, timestamp: i * 40_000 });
    async function* frames() { for (let i = 0; i < 50; i++) yield big(i); }
    try {
      await writeVideo({ ffmpeg: fake, ffprobe: "ffprobe" }, p("quit.mp4"), frames(), { muxer: "mp4", codec: "h264", alpha: false });
      assert.unreachable("no error");
    } catch (e) {
      assert.is((e as { code?: string }).code, "ERR_IMAGE_ENCODE", (e as Error).message);
      assert.match((e as Error).message, /FFmpeg failed writing .*quit\.mp4.*quitting on purpose/);
    }
    assert.not.ok(existsSync(p("quit.mp4")));
    noPartials();
  });

  test("animated GIF/APNG made by FFmpeg decode as FFmpeg decodes them (partial frames, disposal)", async () => {
    for (const [name, args] of [["anim.gif", ["-loop", "0"]], ["anim.apng", ["-plays", "2"]]] as const) {
      ffmpeg("-f", "lavfi", "-i", "testsrc2=s=32x24:r=10:d=0.6", ...args, p(name));
      const frames: TimedFrame[] = [];
      for await (const f of decodeAnimation(readFileSync(p(name))).frames) frames.push(f);
      assert.is(frames.length, 6, name);
      for (const n of [0, 3, 5]) {
        const ref = frameRgba(p(name), n);
        assert.ok(Buffer.compare(Buffer.from(frames[n].data), Buffer.from(ref.data)) === 0, `${name} frame ${n}`);
      }
    }
  });

  test("`srgan upscale anim.gif out.gif` keeps frame count, timing, loop count; a video becomes an animation", async () => {
    const r = await srgan(["upscale", p("anim.gif"), p("anim-4x.gif"), "-m", "bicubic", "--threads", "1"]);
    assert.is(r.status, 0, r.stderr);
    const { info, frames } = decodeAnimation(readFileSync(p("anim-4x.gif")));
    assert.equal(info, { format: "gif", width: 128, height: 96, frames: 6, loopCount: 0 });
    const times: number[] = [];
    for await (const f of frames) times.push(f.timestamp);
    assert.equal(times, [0, 100_000, 200_000, 300_000, 400_000, 500_000]);
    const v = await srgan(["video", p("a.mp4"), p("a-4x.webp"), "-m", "bicubic"]);
    assert.is(v.status, 0, v.stderr);
    assert.match(v.stderr, /not kept: audio/);
    assert.equal(decodeAnimation(readFileSync(p("a-4x.webp"))).info, { format: "webp", width: 128, height: 96, frames: 12, loopCount: 0 });
  });
}

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
