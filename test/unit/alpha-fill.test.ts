// fillTransparentColour (src/image/alpha-fill.ts): the colour under fully transparent pixels is filled
// ring by ring from the visible ones; visible pixels and alpha never change; nothing to fill, nothing copied.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { fillTransparentColour } from "../../src/image/alpha-fill.js";
import { redDisc } from "../alpha-disc.js";

const test = suite("alpha fill");

const px = (...pixels: number[][]) => ({ data: new Uint8ClampedArray(pixels.flat()), width: pixels.length, height: 1 });

test("a transparent pixel between two visible ones gets their mean (rounded); the next ring the mean of its coloured neighbours", () => {
  const out = fillTransparentColour(px([255, 0, 0, 255], [0, 0, 0, 0], [0, 0, 255, 10], [9, 9, 9, 0], [9, 9, 9, 0]));
  assert.equal(Array.from(out.data), [255, 0, 0, 255, 128, 0, 128, 0, 0, 0, 255, 10, 0, 0, 255, 0, 0, 0, 255, 0]);
});

test("a single visible pixel colours a whole transparent image; alpha is kept", () => {
  const w = 9, h = 7;
  const data = new Uint8ClampedArray(w * h * 4);
  data.set([10, 200, 30, 1], (3 * w + 5) * 4);
  const out = fillTransparentColour({ data, width: w, height: h });
  for (let i = 0; i < w * h; i++) assert.equal(Array.from(out.data.subarray(i * 4, i * 4 + 3)), [10, 200, 30], `pixel ${i}`);
  for (let i = 0; i < w * h; i++) assert.is(out.data[i * 4 + 3], data[i * 4 + 3]);
  assert.is(data[0], 0, "the input is not changed");
});

test("the red disc: every pixel becomes red, visible ones and alpha are untouched", () => {
  const disc = redDisc();
  const out = fillTransparentColour(disc);
  for (let i = 0; i < out.data.length; i += 4) {
    assert.equal(Array.from(out.data.subarray(i, i + 3)), [255, 0, 0]);
    assert.is(out.data[i + 3], disc.data[i + 3]);
  }
});

test("nothing to fill (opaque, or nothing visible): the image itself is returned", () => {
  const opaque = px([1, 2, 3, 255], [4, 5, 6, 128]);
  assert.is(fillTransparentColour(opaque), opaque);
  const clear = px([1, 2, 3, 0], [4, 5, 6, 0]);
  assert.is(fillTransparentColour(clear), clear);
});

test.run();
