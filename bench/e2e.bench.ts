// End-to-end upscaling benchmark: 256×256 → 1024×1024 for the bicubic baseline, the shipped `natural`,
// `natural-fast` and `natural-real` networks, srgan-rust's natural.rsr and Real-ESRGAN's
// realesr-animevideov3-x4 (from its ncnn files: an imported network beside our own, per multiply-add),
// 512×512 → 1024×1024 for `natural` ×2, 1 vs 2 threads, medians, GFLOP/s of its convolutions; cold start (create + first
// upscale); then a 2048×2048 input's peak RSS in a fresh process. Run: node --import tsx bench/e2e.bench.ts
// (--only natural,bicubic: just those networks, for a quick look at one of them).
// Our networks and natural.rsr run with both 3×3 algorithms (convAlgorithm 'direct' and 'winograd';
// GFLOP/s count the direct method's FLOPs).
import { Bench } from "tinybench";
import { spawnSync } from "node:child_process";
import { existsSync, writeFileSync, mkdirSync } from "node:fs";
import { cpus } from "node:os";
import { createUpscaler } from "../src/index.js";
import { convMacsPerPixel, type Graph } from "../src/model/graph.js";
import { loadNetwork } from "../src/api/load-network.js";
import { median, testImage } from "./common.js";

const ROUNDS = 5;


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
  const nets: Record<string, Graph> = {
    natural: await loadNetwork("natural"), "natural-fast": await loadNetwork("natural-fast"), "natural-real": await loadNetwork("natural-real"),
    "natural ×2": await loadNetwork("natural", { scale: 2 }),
  };
  // Every case makes a 1024×1024 output: the ×2 network gets four times the input pixels.
  const side = (label: string) => 1024 / (nets[label]?.scale ?? 4);
  const images = new Map([256, 512].map((n) => [n, testImage(n, n)]));
  const tasks: Array<[string, () => Promise<void>]> = [];
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
  const animePath = new URL("../../shared/data/community/ncnn/realesrgan/realesr-animevideov3-x4.param", import.meta.url);
  if (existsSync(animePath)) nets["animevideov3-x4"] = await loadNetwork(animePath);
  else console.log("skip: realesr-animevideov3-x4 (needs ../shared beside the project)");
  const only = process.argv.includes("--only") ? process.argv[process.argv.indexOf("--only") + 1].split(",") : null;
  for (const label of Object.keys(nets)) if (only && !only.includes(label)) delete nets[label];
  const withBicubic = !only || only.includes("bicubic");
  const models: Array<[string, string | Graph]> = [...(withBicubic ? [["bicubic", "bicubic"] as [string, string]] : []), ...Object.entries(nets)];
  const cases = new Map<string, { label: string; threads: number; conv: string }>();
  for (const [label, model] of models) {
    const convs = label.startsWith("natural") || label.startsWith("animevideov3") ? ["direct", "winograd"] as const : ["auto"] as const;
    for (const conv of convs) {
      for (const threads of [1, 2]) {
        const up = await createUpscaler({ model, threads, convAlgorithm: conv });
        ups.push(up);
        const name = `${label}${conv === "auto" ? "" : ` ${conv}`} ${side(label)}→1024, ${threads} thread${threads > 1 ? "s" : ""}`;
        cases.set(name, { label, threads, conv });
        const input = images.get(side(label))!;
        tasks.push([name, async () => { await up.upscale(input); }]);
      }
    }
  }
  // Rounds of every case in turn, so load from other processes on a shared machine hits all cases
  // alike; the figure is the median of the per-round medians.
  const perRound = new Map<string, number[]>(), samples = new Map<string, number>();
  for (let round = 0; round < ROUNDS; round++) {
    const bench = new Bench({ time: 1500, warmup: true, warmupIterations: 1, iterations: 3 });
    for (const [name, fn] of tasks) bench.add(name, fn);
    await bench.run();
    for (const t of bench.tasks) {
      if (t.result.state !== "completed") throw new Error(`${t.name}: ${t.result.state}`);
      perRound.set(t.name, [...(perRound.get(t.name) ?? []), t.result.latency.p50!]);
      samples.set(t.name, (samples.get(t.name) ?? 0) + t.result.latency.samplesCount);
    }
  }
  const rows = tasks.map(([name]) => {
    const ms = median(perRound.get(name)!);
    const g = nets[cases.get(name)!.label];
    const n = side(cases.get(name)!.label);
    const gflops = g ? +((2 * convMacsPerPixel(g) * n * n) / ms / 1e6).toFixed(2) : undefined;
    return { case: name, medianMs: +ms.toFixed(1), samples: samples.get(name)!, ...(gflops ? { gflops } : {}) };
  });
  console.table(rows);
  const ms = (label: string, threads: number, conv: string) => rows.find((r) => {
    const c = cases.get(r.case)!;
    return c.label === label && c.threads === threads && c.conv === conv;
  })!.medianMs;
  const convsOf = (label: string) => [...new Set([...cases.values()].filter((c) => c.label === label).map((c) => c.conv))];
  const scaling = [
    ...(withBicubic ? [`bicubic ${(ms("bicubic", 1, "auto") / ms("bicubic", 2, "auto")).toFixed(2)}×`] : []),
    ...Object.entries(nets).map(([label, g]) => convsOf(label).map((conv) => `${label}${conv === "auto" ? "" : ` ${conv}`} ${(ms(label, 1, conv) / ms(label, 2, conv)).toFixed(2)}×`).join(", ") +
      ` (${convMacsPerPixel(g)} MACs per input pixel)`),
  ];
  console.log(`thread scaling 1→2: ${scaling.join(", ")}`);
  for (const label of Object.keys(nets).filter((l) => convsOf(l).includes("winograd"))) {
    console.log(`${label}: winograd vs direct, 1 thread ${(ms(label, 1, "direct") / ms(label, 1, "winograd")).toFixed(2)}×, 2 threads ${(ms(label, 2, "direct") / ms(label, 2, "winograd")).toFixed(2)}×`);
  }
  console.log(`cold start (create upscaler with 2 threads + first 256→1024 natural upscale): ${coldMs.toFixed(0)} ms`);
  for (const up of ups) await up.dispose();

  const big = spawnSync(process.execPath, ["--import", "tsx", new URL(import.meta.url).pathname, "--child", "bicubic", "2048", "2"], { encoding: "utf8" });
  const bigResult = JSON.parse(big.stdout.trim().split("\n").pop()!);
  const mb = (b: number) => +(b / 1048576).toFixed(0);
  console.log(`2048×2048 → 8192×8192 bicubic, 2 threads: ${bigResult.ms.toFixed(0)} ms, peak RSS ${mb(bigResult.peakRss)} MiB (output RGBA ${mb(bigResult.outputBytes)} MiB; budget output + 300 = ${mb(bigResult.outputBytes) + 300} MiB), pool peak ${mb(bigResult.poolPeak)} MiB`);
  if (only) return; // a partial run does not replace the full results
  mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
  writeFileSync(new URL("./results/e2e-latest.json", import.meta.url), JSON.stringify({
    machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version }, date: new Date().toISOString(), rows, coldMs, big: bigResult,
  }, null, 2));
}

await main();
