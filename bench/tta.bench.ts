// What the self-ensemble (upscale(img, { tta: true })) costs: 256×256 → 1024×1024 with and without it,
// for `natural` and `natural-real`, medians over interleaved rounds (the two are run alternately, so a
// busy machine slows both alike), the ratio, and the pool's peak bytes of each. Its gain is measured by
// `srgan eval MODEL DIR --tta` (docs/models.md). Run: node --import tsx bench/tta.bench.ts [--threads N] [--rounds N]
import { Bench } from "tinybench";
import { createUpscaler } from "../src/index.js";
import { median, testImage } from "./common.js";

const arg = (name: string, fallback: number) => (process.argv.includes(name) ? Number(process.argv[process.argv.indexOf(name) + 1]) : fallback);
const threads = arg("--threads", 2), rounds = arg("--rounds", 3);


const img = testImage(256, 256);
for (const model of ["natural", "natural-real"]) {
  const up = await createUpscaler({ model, threads });
  await up.upscale(img); // warm-up: plans, workers
  const times: Record<string, number[]> = { plain: [], tta: [] };
  const peaks: Record<string, number> = {};
  for (let r = 0; r < rounds; r++) {
    for (const tta of [false, true]) {
      const label = tta ? "tta" : "plain";
      up.resetPeak();
      const bench = new Bench({ iterations: tta ? 2 : 8, time: 0, warmup: false });
      bench.add(label, async () => { await up.upscale(img, { tta }); });
      await bench.run();
      const result = bench.tasks[0].result;
      if (result.state !== "completed") throw new Error(`${model} ${label}: ${result.state}`);
      times[label].push(result.latency.p50!);
      peaks[label] = up.stats().peakBytes;
    }
  }
  await up.dispose();
  const plain = median(times.plain), tta = median(times.tta);
  console.log(`${model} 256²→1024², ${threads} threads: plain ${plain.toFixed(0)} ms, tta ${tta.toFixed(0)} ms (${(tta / plain).toFixed(2)}×); ` +
    `pool peak ${(peaks.plain / 2 ** 20).toFixed(1)} / ${(peaks.tta / 2 ** 20).toFixed(1)} MiB (medians of ${rounds} interleaved rounds: ${times.plain.map((t) => t.toFixed(0)).join(", ")} / ${times.tta.map((t) => t.toFixed(0)).join(", ")})`);
}
