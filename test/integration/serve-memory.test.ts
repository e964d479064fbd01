// Memory stays flat across 500 requests to the in-process `srgan serve` (small images, so it is fast):
// after them the shared pool's counters are exactly where they were after warm-up, no job is held,
// and the process's RSS and V8 heap (after a full GC) are within stated bounds of their warm values.
// It runs in a process of its own (this file again): in the one the test runner shares with every
// other test file, RSS also moves with what those left behind.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { createServer } from "../../packages/server/src/index.js";
import { encodePng } from "../../src/image/codec.js";
import { randomImage, rng, TSX } from "../helpers.js";

const test = suite("serve-memory");

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;
/** JS heap plus Buffers and ArrayBuffers outside it (where a leaked image would be). */
const heap = () => { const m = process.memoryUsage(); return m.heapUsed + m.external; };

const REQUESTS = 500, CLIENTS = 4;
/** Bounds on growth after warm-up: allocator slack and JIT; one leaked output per request (≥ 20 KB) is over the heap bound. */
const RSS_BOUND = 48 * 2 ** 20, HEAP_BOUND = 8 * 2 ** 20;

const image = (seed: number) => encodePng(randomImage(rng(seed), 24, 20)) as Uint8Array<ArrayBuffer>;
const truncated = image(99).subarray(0, -30);

function sample(text: string, series: string): number {
  const line = text.split("\n").find((l) => l.startsWith(series + " "));
  assert.ok(line, `no ${series} in /metrics`);
  return Number(line.slice(series.length + 1));
}

const CHILD = "SRGAN_SERVE_MEMORY_CHILD";

if (!process.env[CHILD]) {
  test("in its own process: 500 requests leave the pool exact and memory flat", () => {
    const file = fileURLToPath(import.meta.url);
    const r = spawnSync(process.execPath, [...TSX, file], { env: { ...process.env, [CHILD]: "1" }, encoding: "utf8", timeout: 180_000 });
    const out = `${r.stdout}${r.stderr}`;
    assert.is(r.status, 0, out);
    console.log(out.match(/\(\d+ requests in .*\)/)?.[0] ?? "");
  });
} else test(`${REQUESTS} requests (sync, queued, failing) leave pool counters exact and RSS within ${RSS_BOUND / 2 ** 20} MiB`, async () => {
  const app = await createServer({ model: "natural-fast", threads: 2, tileSize: 16, resultTtl: 1, queue: 64 });
  const url = await app.listen({ host: "127.0.0.1", port: 0 });
  try {
    const inputs = [image(1), image(2), image(3)];
    // Every 10th request a queued job, every 10th (offset 5) an image that fails inside the job.
    const send = async (i: number) => {
      if (i % 10 === 5) {
        const r = await fetch(`${url}/v1/upscale`, { method: "POST", body: truncated });
        assert.is(r.status, 400);
        await r.arrayBuffer();
      } else if (i % 10 === 0) {
        const r = await fetch(`${url}/v1/jobs`, { method: "POST", body: inputs[i % 3] });
        assert.is(r.status, 202);
        await r.json();
      } else {
        const r = await fetch(`${url}/v1/upscale${i % 4 === 1 ? "?format=jpeg" : ""}`, { method: "POST", body: inputs[i % 3] });
        assert.is(r.status, 200);
        assert.ok((await r.arrayBuffer()).byteLength > 0);
      }
    };
    const run = async (count: number) => {
      let next = 0;
      await Promise.all(Array.from({ length: CLIENTS }, async () => { while (next < count) await send(next++); }));
    };
    const settled = async () => {
      // Queued jobs expire 1 s after they end; wait (bounded) until none is held.
      for (const t0 = Date.now(); Date.now() - t0 < 20_000; await new Promise((r) => setTimeout(r, 100))) {
        const text = await (await fetch(`${url}/metrics`)).text();
        if (["waiting", "active", "completed", "failed"].every((s) => sample(text, `srgan_jobs{state="${s}"}`) === 0)) return text;
      }
      throw new Error("queued jobs still held 20 s after the last request");
    };
    const measure = async () => {
      const text = await settled();
      gc();
      gc();
      const pool = ["srgan_pool_bytes", "srgan_pool_peak_bytes", "srgan_pool_active_leases"].map((s) => sample(text, `${s}{model="natural-fast",scale="4"}`));
      return { pool, queue: sample(text, "srgan_queue_depth") + sample(text, "srgan_queue_active"), rss: process.memoryUsage().rss, heap: heap() };
    };

    await run(200); // warm: plans, JIT, Fastify's and undici's pools, the heap's size
    const before = await measure();
    const t0 = performance.now();
    await run(REQUESTS);
    const seconds = (performance.now() - t0) / 1000;
    const after = await measure();

    assert.equal(after.pool, before.pool, "pool bytes, peak bytes and leases: exactly as after warm-up");
    assert.is(before.pool[2], 2, "only the weights leased (network and alpha resampler)");
    assert.is(after.queue, 0);
    const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
    console.log(`  (${REQUESTS} requests in ${seconds.toFixed(1)} s; RSS ${mib(before.rss)} → ${mib(after.rss)}, heap + external ${mib(before.heap)} → ${mib(after.heap)})`);
    assert.ok(after.rss - before.rss < RSS_BOUND, `RSS grew ${mib(after.rss - before.rss)}`);
    assert.ok(after.heap - before.heap < HEAP_BOUND, `heap grew ${mib(after.heap - before.heap)}`);
  } finally {
    await app.close();
  }
});

test.run();
