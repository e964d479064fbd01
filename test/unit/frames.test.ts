// The frame-stream core without FFmpeg: upscaleFrames' order, prefetch, repeat cache (and its full
// comparison behind the hash), abort and option checks; Matroska raw-RGBA frames written and read back.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { AbortError } from "../../src/errors.js";
import type { TimedFrame } from "../../src/image/frame.js";
import { StreamReader } from "../../src/video/stream-reader.js";
import { upscaleFrames, type FrameUpscaler } from "../../src/video/frames.js";
import { mkvFrame, mkvHeader, readMkvFrames } from "../../src/video/mkv.js";
import { frameHash, RepeatCache } from "../../src/video/repeats.js";
import { rejects } from "../helpers.js";
import { fromVideoFrames, toVideoFrame, type VideoFrameLike } from "../../src/video/webcodecs.js";

const test = suite("frames");

function frame(value: number, timestamp: number, w = 4, h = 3): TimedFrame {
  return { data: new Uint8ClampedArray(w * h * 4).fill(value), width: w, height: h, timestamp, duration: 40_000 };
}

/** A ×2 nearest "upscaler" that counts its calls and can be slowed, to watch the pipeline. */
function fakeUpscaler(delayMs = 0) {
  const calls: number[] = [];
  const up: FrameUpscaler = {
    async upscale(img) {
      calls.push(img.data[0]);
      if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
      const out = new Uint8ClampedArray(img.width * img.height * 16).fill(img.data[0]);
      return { data: out, width: img.width * 2, height: img.height * 2 };
    },
  };
  return { up, calls };
}

const collect = async (it: AsyncIterable<TimedFrame>) => { const out: TimedFrame[] = []; for await (const f of it) out.push(f); return out; };

test("frames come out in order with their timing, each upscaled once; exact repeats reuse the result", async () => {
  const { up, calls } = fakeUpscaler();
  const input = [frame(1, 0), frame(1, 40_000), frame(2, 80_000), frame(1, 120_000), frame(3, 160_000), frame(3, 200_000)];
  const progress: number[] = [];
  const out = await collect(upscaleFrames(up, input, { framesTotal: 6, onProgress: (p) => progress.push(p.repeats) }));
  assert.equal(out.map((f) => [f.data[0], f.timestamp, f.duration, f.width]), input.map((f) => [f.data[0], f.timestamp, 40_000, 8]));
  assert.equal(calls, [1, 2, 3], "1 repeats at once and after 2 (A-B-A, cache of 2); 3 repeats");
  assert.equal(progress, [0, 1, 1, 2, 2, 3]);
});

test("repeatCache 0 upscales every frame", async () => {
  const { up, calls } = fakeUpscaler();
  await collect(upscaleFrames(up, [frame(1, 0), frame(1, 1)], { repeatCache: 0 }));
  assert.is(calls.length, 2);
});

test("a hash collision cannot swap a frame: the cache compares the pixels", () => {
  const cache = new RepeatCache<string>(2);
  const a = frame(1, 0), b = frame(2, 0);
  cache.store(a, "same-key", "result of a");
  assert.is(cache.find(b, "same-key"), undefined);
  assert.is(cache.find(frame(1, 5), "same-key"), "result of a");
  assert.is.not(frameHash(a), frameHash(b));
  assert.is(frameHash(a), frameHash(frame(1, 99)));
});

test("the next frame is asked for while the current one is upscaled", async () => {
  const { up } = fakeUpscaler(30);
  const events: string[] = [];
  async function* source() {
    for (let i = 0; i < 3; i++) { events.push(`decode ${i}`); yield frame(i + 1, i); }
  }
  const counting: FrameUpscaler = { upscale: async (img, o) => { events.push(`start ${img.data[0] - 1}`); const r = await up.upscale(img, o); events.push(`end ${img.data[0] - 1}`); return r; } };
  await collect(upscaleFrames(counting, source()));
  assert.ok(events.indexOf("decode 1") < events.indexOf("end 0"), events.join(", "));
  assert.ok(events.indexOf("decode 2") < events.indexOf("end 1"), events.join(", "));
});

test("abort stops the stream with AbortError and closes the source", async () => {
  const { up } = fakeUpscaler();
  const controller = new AbortController();
  let closed = false;
  async function* source() {
    try { for (let i = 0; ; i++) yield frame(i % 250, i); } finally { closed = true; }
  }
  let n = 0;
  try {
    for await (const _ of upscaleFrames(up, source(), { signal: controller.signal })) if (++n === 3) controller.abort(new Error("stop"));
    assert.unreachable("no error");
  } catch (e) {
    assert.instance(e, AbortError);
    assert.is((e as AbortError).code, "ERR_ABORTED");
  }
  assert.is(n, 3);
  assert.ok(closed, "source closed");
});

test("bad arguments are TypeError/RangeError naming them; a bad frame names its index", async () => {
  const { up } = fakeUpscaler();
  await rejects(upscaleFrames({} as FrameUpscaler, []).next(), /upscaler must have an upscale\(\) method/);
  await rejects(upscaleFrames(up, 5 as unknown as TimedFrame[]).next(), /frames must be an iterable/);
  await rejects(upscaleFrames(up, [], { repeatCache: -1 }).next(), /options.repeatCache must be an integer in \[0, 64\]/);
  const it = upscaleFrames(up, [frame(1, 0), { ...frame(2, 1), timestamp: NaN }]);
  await it.next();
  await rejects(it.next(), /frame 1: timestamp must be a finite number/);
});

test("Matroska: frames written by mkvHeader/mkvFrame read back with pixels, timestamps and durations", async () => {
  const frames = [frame(7, 0, 5, 3), { ...frame(9, 33_367, 5, 3), duration: undefined }, frame(200, 1_000_000, 5, 3)];
  frames[0].data[5] = 1;
  const parts = [mkvHeader(5, 3), ...frames.flatMap((f) => mkvFrame(f))];
  // Split the stream into odd-sized chunks, as a pipe would deliver it.
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { all.set(p, at); at += p.length; }
  async function* chunks() { for (let i = 0; i < all.length; i += 7) yield all.subarray(i, i + 7); }
  const back = await collect(readMkvFrames(new StreamReader(chunks())));
  assert.equal(back.map((f) => [f.width, f.height, f.timestamp, f.duration]), [[5, 3, 0, 40_000], [5, 3, 33_367, undefined], [5, 3, 1_000_000, 40_000]]);
  assert.equal(Array.from(back[0].data), Array.from(frames[0].data));
  async function* cut() { yield all.subarray(0, all.length - 10); }
  await rejects(collect(readMkvFrames(new StreamReader(cut()))), /truncated/);
});

test("WebCodecs: VideoFrames become TimedFrames (RGBA via copyTo, timing kept, each closed); no VideoFrame is ERR_UNSUPPORTED", async () => {
  const closed: number[] = [];
  const fake = (i: number): VideoFrameLike => ({
    displayWidth: 2, displayHeight: 1, timestamp: i * 1000, duration: i === 0 ? 1000 : null,
    async copyTo(dest, options) { assert.is(options.format, "RGBA"); dest.fill(10 + i); return []; },
    close() { closed.push(i); },
  });
  const out = await collect(fromVideoFrames([fake(0), fake(1)]));
  assert.equal(out.map((f) => [f.width, f.height, f.timestamp, f.duration, f.data[0], f.data.length]), [[2, 1, 0, 1000, 10, 8], [2, 1, 1000, undefined, 11, 8]]);
  assert.equal(closed, [0, 1]);
  assert.throws(() => toVideoFrame(out[0]), (e: Error & { code?: string }) => e.code === "ERR_UNSUPPORTED");
});

test.run();
