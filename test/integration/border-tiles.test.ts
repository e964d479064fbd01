// Networks that see the image extended past its edges (Graph.inputPad) and shrink (unpadded ops), with a
// stride-2 stage (align 2): tiles reach into the virtual border and sit on its grid, so tiled, threaded
// and whole-image runs are bit-identical, and all equal the reference ops run on the extended image and
// cropped — for every border mode, odd sizes, a 1×1 image, with and without alpha.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createUpscaler } from "../../src/index.js";
import { copyRect, borderIndex } from "../../src/image/border.js";
import type { PadMode, ValidatedGraph } from "../../src/model/types.js";
import { validateGraph } from "../../src/model/graph.js";
import { opCase, reference } from "../ops/cases.js";
import { rng, randomImage } from "../helpers.js";

const test = suite("border tiles");
const sameBytes = (a: Uint8ClampedArray, b: Uint8ClampedArray) => a.length === b.length && a.every((v, i) => v === b[i]);

/** The corpus's unpadded U-Net stage (shrink 6, align 2), with the border mode asked for. */
function unet(mode: PadMode, name = "unpadded U-Net stage (valid convs, SpaceToDepth, PixelShuffle, Crop, Concat)"): ValidatedGraph {
  const g = opCase(name).graph;
  return validateGraph({ ...g, inputPad: { mode, size: g.inputPad!.size + 1 } });
}

/** What the upscaler must give: the reference on the image extended by the graph's border (and align), cropped, in bytes. */
function expected(g: ValidatedGraph, img: { data: Uint8ClampedArray; width: number; height: number }): Uint8ClampedArray {
  const E = g.inputPad!.size, A = g.align ?? 1;
  const vw = img.width + 2 * E + ((A - ((img.width + 2 * E) % A)) % A), vh = img.height + 2 * E + ((A - ((img.height + 2 * E) % A)) % A);
  const rgba = new Uint8Array(vw * vh * 4);
  copyRect(img, -E, -E, vw, vh, g.inputPad!.mode, rgba);
  const x = Float32Array.from({ length: vw * vh * 3 }, (_, i) => rgba[Math.floor(i / 3) * 4 + (i % 3)] / 255);
  const y = reference(g, x, vh, vw);
  const s = g.scale, off = (E - g.shrink) * s, W = img.width * s, H = img.height * s;
  const out = new Uint8ClampedArray(W * H * 4);
  for (let r = 0; r < H; r++)
    for (let c = 0; c < W; c++) {
      const src = ((r + off) * y.shape.w + c + off) * 3, d = (r * W + c) * 4;
      for (let k = 0; k < 3; k++) out[d + k] = Math.floor(Math.min(255, Math.max(0, 255 * y.data[src + k] + 0.5)));
      out[d + 3] = 255;
    }
  return out;
}

test("borderIndex: edge repeats the last pixel, reflect mirrors without repeating it (reflect-101), zero is outside", () => {
  assert.equal([-3, -2, -1, 0, 1, 2, 3, 4, 5, 6].map((i) => borderIndex(i, 4, "edge")), [0, 0, 0, 0, 1, 2, 3, 3, 3, 3]);
  assert.equal([-3, -2, -1, 0, 1, 2, 3, 4, 5, 6].map((i) => borderIndex(i, 4, "reflect")), [3, 2, 1, 0, 1, 2, 3, 2, 1, 0]);
  assert.equal([-1, 0, 4].map((i) => borderIndex(i, 4, "zero")), [-1, 0, -1]);
  assert.equal([-5, 7].map((i) => borderIndex(i, 1, "reflect")), [0, 0]);
});

for (const mode of ["edge", "reflect", "zero"] as const) {
  test(`unpadded U-Net stage, border '${mode}': tiled (8-pixel tiles, 2 threads) = whole image = reference, odd sizes and 1×1`, async () => {
    const g = unet(mode);
    const whole = await createUpscaler({ model: g, threads: 0, tileSize: 4096 });
    const tiled = await createUpscaler({ model: g, threads: 2, tileSize: 8 });
    try {
      const rand = rng(mode.length * 31);
      for (const [w, h] of [[1, 1], [2, 7], [23, 17], [40, 9]]) {
        const img = randomImage(rand, w, h, true);
        const a = await whole.upscale(img), b = await tiled.upscale(img);
        assert.is(a.width, w * g.scale);
        assert.ok(sameBytes(a.data, b.data), `${w}×${h}: tiled differs from whole`);
        const want = expected(g, img);
        let worst = 0;
        for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(want[i] - a.data[i]));
        assert.ok(worst <= 1, `${w}×${h}: ${worst} levels off the reference`);
      }
      assert.is(tiled.stats().activeLeases, 2, "only the weight leases remain");
    } finally {
      await whole.dispose();
      await tiled.dispose();
    }
  });
}

test("with alpha: tiles of a bordered network keep the alpha plane aligned with the colour (tiled = whole)", async () => {
  const g = unet("edge");
  const one = await createUpscaler({ model: g, threads: 0, tileSize: 4096 });
  const many = await createUpscaler({ model: g, threads: 2, tileSize: 8 });
  try {
    const img = randomImage(rng(7), 29, 21);
    for (let i = 3; i < img.data.length; i += 4) img.data[i] = (i * 37) & 255;
    const a = await one.upscale(img), b = await many.upscale(img);
    assert.ok(sameBytes(a.data, b.data));
  } finally {
    await one.dispose();
    await many.dispose();
  }
});

test("a whole-image network (squeeze-excitation) with a reflected border equals the reference on the extended image", async () => {
  const g = opCase("unpadded U-Net stage with squeeze-excitation (global)").graph;
  const up = await createUpscaler({ model: g, threads: 2 });
  try {
    const img = randomImage(rng(3), 19, 14, true);
    const got = await up.upscale(img);
    const want = expected(g, img);
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(want[i] - got.data[i]));
    assert.ok(worst <= 1, `${worst} levels off the reference`);
  } finally {
    await up.dispose();
  }
});

test.run();
