// Stress and race detection with real threads: 8 workers hammer one shared pool with random leases.
// Overlapping leases would corrupt each other's patterns; counters must end exactly at zero.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { Worker } from "node:worker_threads";
import { Engine } from "../../src/runtime/engine.js";

const test = suite("pool stress");

test("8 threads × 400 random leases on a contended pool: no overlap, counters back to zero", async () => {
  // A small pool (16 MiB, 64 KiB blocks) so threads really compete for runs and some requests fail.
  const engine = await Engine.create({ memoryLimit: 16 << 20 });
  const url = new URL("../fixtures/pool-hammer.ts", import.meta.url);
  const results = await Promise.all(Array.from({ length: 8 }, (_, i) => new Promise<{ corrupt: number; granted: number; refused: number }>((resolve, reject) => {
    const w = new Worker(new URL("../fixtures/ts-worker.mjs", import.meta.url), { workerData: { entry: url.href, shared: engine.shared, iterations: 400, seed: 1234 + i } });
    w.once("message", resolve);
    w.once("error", reject);
  })));
  const total = results.reduce((a, r) => ({ corrupt: a.corrupt + r.corrupt, granted: a.granted + r.granted, refused: a.refused + r.refused }), { corrupt: 0, granted: 0, refused: 0 });
  assert.is(total.corrupt, 0, "no two live leases overlapped");
  assert.is(total.granted + total.refused, 3200);
  const s = engine.pool.stats();
  assert.is(s.currentBytes, 0);
  assert.is(s.activeLeases, 0);
  assert.is(s.totalLeases, total.granted);
  assert.is(s.failedLeases, total.refused);
  assert.ok(s.peakBytes > 0 && s.peakBytes <= s.capacityBytes);
  assert.equal(s.perThread, {});
  assert.is(engine.pool.largestFreeRun(), s.capacityBytes, "every block is free again");
});

test.run();
