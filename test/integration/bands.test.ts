// SPDX-License-Identifier: MIT
// Row bands of one tile across threads (the scheduler's layout when tiles would leave threads idle):
// bit-identical to one thread with either 3×3 algorithm, on odd sizes and odd band cuts, with alpha,
// and every lease returned.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createUpscaler } from "../../src/index.js";
import { planLayout } from "../../src/runtime/scheduler.js";
import { validateGraph } from "../../src/model/graph.js";
import { rng, shuffleNetwork, randomImage } from "../helpers.js";

const test = suite("bands");
const rand = rng(77);
const net = shuffleNetwork(rand, 16);
const halo = validateGraph(net).receptiveRadius;

for (const conv of ["direct", "winograd"] as const) {
  test(`${conv}: a tile in 3 row bands equals one thread, bit for bit`, async () => {
    const one = await createUpscaler({ model: net, threads: 0, convAlgorithm: conv });
    const three = await createUpscaler({ model: net, threads: 3, convAlgorithm: conv });
    try {
      for (const [w, h, opaque] of [[64, 61, true], [97, 151, true], [50, 49, false]] as const) {
        assert.is(planLayout(w, h, { tileSize: 256, halo, even: true }, 3).bands, 3, `${w}×${h} runs in bands`);
        const img = randomImage(rand, w, h, opaque);
        const a = await one.upscale(img), b = await three.upscale(img);
        assert.ok(a.data.every((v, i) => v === b.data[i]), `${w}×${h}${opaque ? "" : " with alpha"} differs`);
      }
      assert.is(three.stats().activeLeases, 2, "only the two weight leases remain");
    } finally {
      await one.dispose();
      await three.dispose();
    }
  });
}

test.run();
