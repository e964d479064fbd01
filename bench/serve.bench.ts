// Load on `srgan serve` (createServer on 127.0.0.1, ephemeral port): POST /v1/upscale with PNG inputs
// of 64² and 256², `natural` on 2 threads, C clients each sending requests back to back for a fixed
// count; throughput and p50/p99 latency, and the server's RSS before and after. Bounded: N requests
// per case. Run: node --conditions=srgan-source --import tsx bench/serve.bench.ts [N=40] [C=4]
// With SRGAN_BENCH_REDIS=redis://HOST:PORT the jobs go through BullMQ on that Redis to one worker in
// this process (2 threads; the server itself runs none): the same figures for the --redis path.
import { createServer, createWorker } from "../packages/server/src/index.js";
import { encodePng } from "../src/image/codec.js";

const N = Number(process.argv[2] ?? 40), C = Number(process.argv[3] ?? 4);
const MODEL = process.env.SRGAN_BENCH_MODEL ?? "natural";
const REDIS = process.env.SRGAN_BENCH_REDIS;

function png(size: number): Uint8Array<ArrayBuffer> {
  const data = new Uint8ClampedArray(size * size * 4);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) {
    data.set([(x * 255) / size, (y * 255) / size, (x ^ y) & 255, 255], (y * size + x) * 4);
  }
  return encodePng({ data, width: size, height: size }) as Uint8Array<ArrayBuffer>; // never on a SharedArrayBuffer, as fetch's types want
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;

const app = await createServer({ model: MODEL, threads: 2, queue: 64, redis: REDIS });
const worker = REDIS ? await createWorker({ redis: REDIS, model: MODEL, threads: 2 }) : undefined;
const url = await app.listen({ host: "127.0.0.1", port: 0 });
try {
  console.log(`srgan serve load: ${MODEL}, 2 threads, ${N} requests per case from ${C} concurrent clients, ${REDIS ? "through Redis to 1 worker" : "in-process"} (Node ${process.version})`);
  for (const size of [64, 256]) {
    const body = png(size);
    const send = async () => {
      const r = await fetch(`${url}/v1/upscale`, { method: "POST", body, headers: { "content-type": "image/png" } });
      if (r.status !== 200) throw new Error(`status ${r.status}: ${await r.text()}`);
      await r.arrayBuffer();
    };
    await send(); // warm: upscaler created, first plan made
    const rss0 = process.memoryUsage().rss;
    const latencies: number[] = [];
    let next = 0;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: C }, async () => {
      while (next++ < N) {
        const t = performance.now();
        await send();
        latencies.push(performance.now() - t);
      }
    }));
    const seconds = (performance.now() - t0) / 1000;
    latencies.sort((a, b) => a - b);
    console.log(`${size}×${size} → ${size * 4}×${size * 4}: ${(N / seconds).toFixed(1)} req/s, p50 ${quantile(latencies, 0.5).toFixed(0)} ms, ` +
      `p99 ${quantile(latencies, 0.99).toFixed(0)} ms, RSS ${mib(rss0)} → ${mib(process.memoryUsage().rss)}`);
  }
} finally {
  await app.close();
  await worker?.close();
}
