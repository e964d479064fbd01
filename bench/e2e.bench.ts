// End-to-end upscaling benchmark: 256×256 → 1024×1024 for the bicubic baseline, the shipped `natural`
// and `natural-fast` networks and srgan-rust's natural.rsr, 1 vs 2 threads, medians, GFLOP/s of its convolutions; cold start (create + first
// upscale); then a 2048×2048 input's peak RSS in a fresh process. Run: node --import tsx bench/e2e.bench.ts
import { Bench } from "tinybench";
import { spawnSync } from "node:child_process";
import { existsSync, writeFileSync, mkdirSync } from "node:fs";
import { cpus } from "node:os";
import { createUpscaler } from "../src/index.js";
import type { Graph } from "../src/model/graph.js";
import { loadNetwork } from "../src/model/load.js";

/** Multiply-adds per input pixel of the conv layers. */
export function macsPerPixel(g: Graph): number {
  let macs = 0;
  for (const n of g.nodes) {
    if (n.op !== "Conv2D") continue;
    for (const [role, name] of Object.entries(n.weights)) if (role.startsWith("kernel")) macs += g.weights[name].data.length;
  }
  return macs;
}

function testImage(w: number, h: number) {
  const data = new Uint8ClampedArray(w * h * 4);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const i = (y * w + x) * 4;
    data[i] = (x * 255) / w; data[i + 1] = (y * 255) / h; data[i + 2] = ((x ^ y) & 255); data[i + 3] = 255;
  }
  return { data, width: w, height: h };
}

async function childPeakRss(model: string, size: number, threads: number): Promise<void> {
  const up = await createUpscaler({ model, threads });
  const img = testImage(size, size);
  const before = process.resourceUsage().maxRSS * 1024;
  const t0 = performance.now();
  const out = await up.upscale(img);
  const ms = performance.now() - t0;
  const stats = up.stats();
  await up.dispose();
  console.log(JSON.stringify({ ms, peakRss: process.resourceUsage().maxRSS * 1024, rssBeforeJob: before, outputBytes: out.data.length, poolPeak: stats.peakBytes }));
}

async function main() {
  if (process.argv[2] === "--child") return childPeakRss(process.argv[3], Number(process.argv[4]), Number(process.argv[5]));
  const img = testImage(256, 256);
  const nets: Record<string, Graph> = { natural: await loadNetwork("natural"), "natural-fast": await loadNetwork("natural-fast") };
  const bench = new Bench({ time: 4000, warmup: true, warmupIterations: 2, iterations: 5 });
  const ups = [];
  const t0 = performance.now();
  const cold = await createUpscaler({ model: "natural", threads: 2 });
  await cold.upscale(img);
  const coldMs = performance.now() - t0;
  await cold.dispose();
  // srgan-rust's natural.rsr (layer-major, exact global means) when ../shared is beside the project.
  const rsrPath = new URL("../../shared/data/srgan-rust/natural.rsr", import.meta.url);
  if (existsSync(rsrPath)) nets["natural.rsr"] = await loadNetwork(rsrPath);
  else console.log("skip: srgan-rust natural.rsr (needs ../shared beside the project)");
  const models: Array<[string, string | Graph]> = [["bicubic", "bicubic"], ...Object.entries(nets)];
  for (const [label, model] of models) {
    for (const threads of [1, 2]) {
      const up = await createUpscaler({ model, threads });
      ups.push(up);
      bench.add(`${label} 256→1024, ${threads} thread${threads > 1 ? "s" : ""}`, async () => { await up.upscale(img); });
    }
  }
  await bench.run();
  const rows = bench.tasks.map((t) => {
    const median = t.result!.latency.p50!;
    const g = nets[t.name.slice(0, t.name.indexOf(" "))];
    const gflops = g ? +((2 * macsPerPixel(g) * 256 * 256) / median / 1e6).toFixed(2) : undefined;
    return { case: t.name, medianMs: +median.toFixed(1), samples: t.result!.latency.samplesCount, ...(gflops ? { gflops } : {}) };
  });
  console.table(rows);
  const scale = (a: string) => rows.find((r) => r.case.startsWith(a) && r.case.endsWith("1 thread"))!.medianMs / rows.find((r) => r.case.startsWith(a) && r.case.endsWith("2 threads"))!.medianMs;
  console.log(`thread scaling 1→2: bicubic ${scale("bicubic ").toFixed(2)}×` +
    Object.entries(nets).map(([label, g]) => `, ${label} ${scale(`${label} `).toFixed(2)}× (${macsPerPixel(g)} MACs per input pixel)`).join(""));
  console.log(`cold start (create upscaler with 2 threads + first 256→1024 natural upscale): ${coldMs.toFixed(0)} ms`);
  for (const up of ups) await up.dispose();

  const big = spawnSync(process.execPath, ["--import", "tsx", new URL(import.meta.url).pathname, "--child", "bicubic", "2048", "2"], { encoding: "utf8" });
  const bigResult = JSON.parse(big.stdout.trim().split("\n").pop()!);
  const mb = (b: number) => +(b / 1048576).toFixed(0);
  console.log(`2048×2048 → 8192×8192 bicubic, 2 threads: ${bigResult.ms.toFixed(0)} ms, peak RSS ${mb(bigResult.peakRss)} MiB (output RGBA ${mb(bigResult.outputBytes)} MiB; budget output + 300 = ${mb(bigResult.outputBytes) + 300} MiB), pool peak ${mb(bigResult.poolPeak)} MiB`);
  mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
  writeFileSync(new URL("./results/e2e-latest.json", import.meta.url), JSON.stringify({
    machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version }, date: new Date().toISOString(), rows, coldMs, big: bigResult,
  }, null, 2));
}

await main();
