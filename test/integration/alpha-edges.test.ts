// Transparent edges keep their colour (issue 25): the red disc (test/alpha-disc.ts) through every
// built-in network and resampler on the wasm backend (and srgan-rust's networks where ../shared is)
// comes back with R ≥ 200 on every pixel that shows (α > 0), where the black under the transparent
// background used to bleed in (R down to 12). Tiled on threads = whole on one. The WebGL backend is
// checked on the same disc in test/browser/webgl.test.ts.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createUpscaler } from "../../src/api/upscaler.js";
import { haveShared, SHARED } from "../helpers.js";
import { leastRedVisible, redDisc } from "../alpha-disc.js";

const test = suite("alpha edges");
const disc = redDisc();

const NETWORKS: [string, number][] = [["natural", 4], ["natural", 2], ["natural-fast", 4], ["natural-real", 4], ["bicubic", 4], ["bilinear", 4], ["nearest", 4], ["bicubic", 3]];
const rsr = haveShared("srgan-rust's networks on the red disc") ? ["natural", "anime"].map((n) => `${SHARED}data/srgan-rust/${n}.rsr`) : [];

for (const [model, scale] of [...NETWORKS, ...rsr.map((f) => [f, 4] as [string, number])]) {
  const label = `${model.split("/").pop()} ×${scale}`;
  test(`${label}: every visible pixel of the red disc stays red (R ≥ 200)`, async () => {
    const up = await createUpscaler({ model, scale, threads: 0, memoryLimit: 256 << 20 });
    try {
      const out = await up.upscale(disc);
      const { minR, visible } = leastRedVisible(out);
      assert.ok(visible > 0.25 * out.width * out.height, `${label}: only ${visible} visible pixels`);
      assert.ok(minR >= 200, `${label}: a visible pixel has R ${minR}`);
    } finally {
      await up.dispose();
    }
  });
}

test("tiled on 2 threads (16-pixel tiles) = whole on the calling thread, bit for bit, with the fill", async () => {
  const [tiled, whole] = await Promise.all([createUpscaler({ model: "natural", threads: 2, tileSize: 16 }), createUpscaler({ model: "natural", threads: 0 })]);
  try {
    const [a, b] = [await tiled.upscale(disc), await whole.upscale(disc)];
    assert.ok(Buffer.from(a.data).equals(Buffer.from(b.data)), "tiled and whole differ");
  } finally {
    await Promise.all([tiled.dispose(), whole.dispose()]);
  }
});

test.run();
