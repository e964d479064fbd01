// SPDX-License-Identifier: MIT
// Row bands of one tile across threads (the scheduler's layout when tiles would leave threads idle):
// bit-identical to one thread with either 3×3 algorithm, on odd sizes and odd band cuts, with alpha,
// and every lease returned.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createUpscaler } from "../../src/index.js";
import { planLayout } from "../../src/runtime/scheduler.js";
import { validateGraph } from "../../src/model/graph.js";
import type { Graph } from "../../src/model/graph.js";
import { rng, randomArray, randomImage } from "../helpers.js";

const test = suite("bands");
const rand = rng(77);

/** Six 3×3 convs (receptive radius 6, so thinner tiles would recompute much) and a ×4 pixel shuffle. */
function deepNetwork(): Graph {
  const widths = [3, 16, 16, 16, 16, 16, 48];
  const g: Graph = { name: "test-deep", scale: 4, input: "x", output: "y", nodes: [], weights: {} };
  for (let i = 0; i + 1 < widths.length; i++) {
    const [cin, cout] = [widths[i], widths[i + 1]];
    g.nodes.push({ op: "Conv2D", inputs: [i ? `a${i}` : "x"], output: `a${i + 1}`, attrs: { k: 3, cout, act: i + 2 < widths.length ? "relu" : "none" }, weights: { kernel0: `k${i}`, bias: `b${i}` } });
    g.weights[`k${i}`] = { shape: [cout, 3, 3, cin], data: randomArray(cout * 9 * cin, rand, -0.25, 0.25) };
    g.weights[`b${i}`] = { shape: [cout], data: randomArray(cout, rand, -0.1, 0.3) };
  }
  g.nodes.push({ op: "PixelShuffle", inputs: [`a${widths.length - 1}`], output: "y", attrs: { r: 4 }, weights: {} });
  return g;
}

const net = deepNetwork();
const halo = validateGraph(net).receptiveRadius;

for (const conv of ["direct", "winograd"] as const) {
  test(`${conv}: a tile in 3 row bands equals one thread, bit for bit`, async () => {
    const one = await createUpscaler({ model: net, threads: 0, convAlgorithm: conv });
    const three = await createUpscaler({ model: net, threads: 3, convAlgorithm: conv });
    try {
      // 199 rows in 3 bands: one cut falls on the odd row 133.
      for (const [w, h, opaque] of [[256, 199, true], [200, 250, false]] as const) {
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
