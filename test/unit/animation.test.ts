// Animated GIF, APNG and WebP: frames, timing, loop count and transparency survive encode → decode;
// damaged files are ImageDecodeError. (Decoding FFmpeg-made files and comparing with FFmpeg's own
// decode is in test/integration/video.test.ts, where FFmpeg is there.)
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { decodeAnimation, detectAnimation, encodeAnimation, readAnimationInfo, type AnimationFormat } from "../../src/image/animation.js";
import type { TimedFrame } from "../../src/image/frame.js";
import { encodePng } from "../../src/image/codec.js";
import { rejects } from "../helpers.js";

const test = suite("animation");

/** Three 6×4 frames: a moving red bar on blue, a transparent hole in the middle one, uneven timing. */
function frames(): TimedFrame[] {
  const out: TimedFrame[] = [];
  const times = [0, 100_000, 350_000];
  for (let k = 0; k < 3; k++) {
    const data = new Uint8ClampedArray(6 * 4 * 4);
    for (let y = 0; y < 4; y++) for (let x = 0; x < 6; x++) {
      const i = (y * 6 + x) * 4;
      const bar = x === k * 2;
      data.set(bar ? [255, 0, 0, 255] : [0, 0, 255, 255], i);
      if (k === 1 && y >= 1 && y <= 2 && x >= 3) data.set([0, 0, 0, 0], i);
    }
    out.push({ data, width: 6, height: 4, timestamp: times[k] });
  }
  return out;
}

const collect = async (it: AsyncIterable<TimedFrame>) => { const out: TimedFrame[] = []; for await (const f of it) out.push(f); return out; };

for (const format of ["gif", "apng", "webp"] as AnimationFormat[]) {
  test(`${format}: frames, durations, loop count and holes come back (pixels exact: GIF's palette holds these colours)`, async () => {
    const input = frames();
    const bytes = await encodeAnimation(format, input, { loopCount: 3 });
    assert.is(detectAnimation(bytes), format);
    const { info, frames: decoded } = decodeAnimation(bytes);
    assert.equal(info, { format, width: 6, height: 4, frames: 3, loopCount: 3 });
    const back = await collect(decoded);
    // Durations are the gaps between timestamps; the last repeats the gap before it.
    assert.equal(back.map((f) => [f.timestamp, f.duration]), [[0, 100_000], [100_000, 250_000], [350_000, 250_000]]);
    for (let k = 0; k < 3; k++) assert.equal(Array.from(back[k].data), Array.from(input[k].data), `frame ${k}`);
  });

  test(`${format}: loop count 0 (forever) and 1 (once) are kept`, async () => {
    for (const loopCount of [0, 1]) {
      const bytes = await encodeAnimation(format, frames(), { loopCount });
      assert.is(readAnimationInfo(bytes).loopCount, loopCount);
    }
  });

  test(`${format}: a truncated file is ImageDecodeError`, async () => {
    const bytes = await encodeAnimation(format, frames());
    const cut = bytes.subarray(0, Math.floor(bytes.length * 0.6));
    const err = await rejects((async () => { const { frames: f } = decodeAnimation(cut); await collect(f); })(), /./, format);
    assert.is((err as { code?: string }).code, "ERR_IMAGE_DECODE", `${format}: ${err.message}`);
  });
}

test("a still PNG is not an animation (it stays on decodeImage's path); a lone frame is written as a still", async () => {
  assert.is(detectAnimation(encodePng(frames()[0])), undefined);
  const one = await encodeAnimation("apng", [frames()[0]]);
  assert.is(detectAnimation(one), undefined);
});

test("libwebp leaves no global ImageData behind in Node (other code would take Node for a browser)", async () => {
  const bytes = await encodeAnimation("webp", frames());
  await collect(decodeAnimation(bytes).frames);
  assert.is("ImageData" in globalThis, false);
});

test("frames of different sizes are refused", async () => {
  const [a] = frames();
  const b = { ...a, width: 4, height: 6 };
  await rejects(encodeAnimation("gif", [a, b]), /frame sizes differ \(6×4, then 4×6\)/);
});

test.run();
