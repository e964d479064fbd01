// SPDX-License-Identifier: MIT
// The same-network race in Chromium (bench/peers.bench.ts is the Node half): srgan-wasm and ONNX Runtime
// Web's wasm backend (its CPU-only build `onnxruntime-web/wasm`: SIMD, threads) running our ONNX export of the same network, 256×256 → 1024×1024,
// 1 and 2 threads, on a cross-origin isolated page in headless Debian Chromium. Networks: our `natural`
// and, with ../shared beside the project, realesr-animevideov3-x4 from its ncnn files.
// Each case has its own page, set up and warmed once; then round by round every case runs once (medians
// of interleaved runs). Threads: srgan-wasm says how many it runs (info().threads); for ONNX Runtime the
// page counts the Web Workers it starts (its pthreads) and reads env.wasm.numThreads after start-up.
// Run: node --import tsx bench/browser-peers.bench.ts [--rounds 5] [--only natural]
//      (writes bench/results/browser-peers-latest.json). Chromium, bundles and server: test/browser/chromium.ts.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { bundle, callPage, haveChromium, launch, modulePage, servePage } from "../test/browser/chromium.js";
import { median } from "./common.js";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const ORT_DIST = join(ROOT, "node_modules/onnxruntime-web/dist");
const REALESRGAN = join(ROOT, "../shared/data/community/ncnn/realesrgan");
const arg = (name: string) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : undefined; };
const ROUNDS = Number(arg("--rounds") ?? 5);
const SIZE = 256;

/** The in-page half, bundled by esbuild with src/ and onnxruntime-web. */
const PAGE = `
import { createUpscaler, configureAssets, loadNetwork } from "../src/index.js";
import { encodeOnnx } from "../src/model/formats/onnx-export.js";
import { testImage as image } from "./common.js";
import * as ort from "onnxruntime-web/wasm"; // the CPU-only build (ort-wasm-simd-threaded.wasm), as a page without WebGPU would take

configureAssets({ wasmBaseUrl: location.origin + "/wasm/", workerUrl: location.origin + "/worker.js" });
// ONNX Runtime's threads are Web Workers: count the ones it starts.
let workers = 0;
const NativeWorker = globalThis.Worker;
globalThis.Worker = class extends NativeWorker { constructor(...a) { super(...a); workers++; } };
const network = (name) => name === "natural" ? loadNetwork(location.origin + "/models/natural-x4.srnet") : loadNetwork(location.origin + "/realesrgan/" + name + ".param");
let run, describe, dispose;
window.bench = {
  info: () => ({ crossOriginIsolated, cores: navigator.hardwareConcurrency, ua: navigator.userAgent }),
  async setup(kind, name, threads, size) {
    const graph = await network(name);
    const img = image(size, size);
    if (kind === "srgan-wasm") {
      const up = await createUpscaler({ model: graph, threads });
      run = async () => (await up.upscale(img)).data;
      describe = () => ({ threads: up.info().threads, backend: up.info().backend });
      dispose = () => up.dispose();
    } else {
      ort.env.wasm.wasmPaths = location.origin + "/ort/";
      ort.env.wasm.numThreads = threads;
      const session = await ort.InferenceSession.create(encodeOnnx(graph), { executionProviders: ["wasm"], graphOptimizationLevel: "all" });
      const n = size * size;
      run = async () => {
        const x = new Float32Array(3 * n);
        for (let i = 0; i < n; i++) for (let k = 0; k < 3; k++) x[k * n + i] = img.data[i * 4 + k] / 255;
        const { output } = await session.run({ input: new ort.Tensor("float32", x, [1, 3, size, size]) });
        const y = output.data, m = y.length / 3, out = new Uint8ClampedArray(4 * m);
        for (let i = 0; i < m; i++) { for (let k = 0; k < 3; k++) out[i * 4 + k] = Math.floor(Math.min(255, Math.max(0, 255 * y[k * m + i] + 0.5))); out[i * 4 + 3] = 255; }
        return out;
      };
      describe = () => ({ threads: ort.env.wasm.numThreads, workers, version: ort.env.versions?.web });
      dispose = () => session.release();
    }
    const t = performance.now();
    const out = await run();
    return { warmMs: performance.now() - t, rgbSum: out.reduce((s, v, i) => (i % 4 === 3 ? s : s + v), 0), ...describe() };
  },
  /** One timed run; also the output's RGB bytes when asked (to compare the contenders' pixels). */
  async run(keep) {
    const t = performance.now();
    const out = await run();
    return { ms: performance.now() - t, rgb: keep ? Array.from(out.filter((_, i) => i % 4 !== 3)) : undefined };
  },
  describe: () => describe(),
  dispose: () => dispose(),
};
document.documentElement.dataset.ready = "1";
`;

function psnr8(a: number[], b: number[]): number {
  let se = 0;
  for (let i = 0; i < a.length; i++) se += (a[i] - b[i]) ** 2;
  return se === 0 ? Infinity : 10 * Math.log10((255 * 255 * a.length) / se);
}

async function main() {
  if (!haveChromium("the browser race")) return;
  const only = arg("--only")?.split(",");
  const networks = ["natural", ...(existsSync(join(REALESRGAN, "realesr-animevideov3-x4.param")) ? ["realesr-animevideov3-x4"] : [])].filter((n) => !only || only.includes(n));
  if (!networks.includes("realesr-animevideov3-x4") && !only) console.log("skip: realesr-animevideov3-x4 (needs ../shared beside the project)");
  const [page, worker] = await Promise.all([
    bundle({ stdin: { contents: PAGE, resolveDir: join(ROOT, "bench"), sourcefile: "browser-peers-page.js", loader: "js" } }),
    bundle({ entryPoints: [join(ROOT, "src/worker/web-entry.ts")] }),
  ]);
  const mounts: Record<string, string> = { ort: ORT_DIST, ...(existsSync(REALESRGAN) ? { realesrgan: REALESRGAN } : {}) };
  const [server, browser] = await Promise.all([servePage({ "index.html": modulePage("srgan-wasm vs ONNX Runtime Web"), "page.js": page, "worker.js": worker }, mounts), launch()]);
  // Which ONNX Runtime binaries the pages fetched (its SIMD + threads build is the one it ships).
  const ortFiles = new Set<string>();
  browser.context.on("request", (r) => { const m = /\/ort\/([\w.-]+\.wasm)$/.exec(r.url()); if (m) ortFiles.add(m[1]); });
  const loadBefore = loadavg();
  const results = [];
  try {
    for (const name of networks) {
      const cases = (["srgan-wasm", "onnxruntime-web"] as const).flatMap((kind) => [1, 2].map((threads) => ({ kind, threads, label: `${kind}, ${threads} thread${threads > 1 ? "s" : ""}` })));
      const pages: Array<(typeof cases)[number] & { page: Page; setup: Record<string, unknown>; runs: number[] }> = [];
      let info: { crossOriginIsolated: boolean; ua: string; cores: number } | undefined;
      for (const c of cases) {
        const p = await browser.context.newPage();
        p.on("pageerror", (e) => console.error(`  page error: ${e.message}`));
        await p.goto(`${server.url}index.html`);
        await p.waitForSelector("html[data-ready]");
        info ??= await callPage(p, "bench", "info");
        if (!info!.crossOriginIsolated) throw new Error("the page is not cross-origin isolated: threads would not run");
        const setup = await callPage<Record<string, unknown>>(p, "bench", "setup", c.kind, name, c.threads, SIZE);
        pages.push({ ...c, page: p, setup, runs: [] });
      }
      // Each run on the page in front: Chromium throttles background pages (timers, and with them the
      // workers' hand-offs), which would make every threaded case look single-threaded.
      const runOn = async <T>(p: (typeof pages)[number], keep: boolean): Promise<T> => { await p.page.bringToFront(); return callPage<T>(p.page, "bench", "run", keep); };
      const first: number[][] = [];
      for (const p of pages) first.push((await runOn<{ rgb: number[] }>(p, true)).rgb);
      for (let r = 0; r < ROUNDS; r++) for (const p of pages) p.runs.push((await runOn<{ ms: number }>(p, false)).ms);
      const rows: Array<{ contender: string; medianMs: number } & Record<string, unknown>> = [];
      for (const [i, p] of pages.entries()) {
        const d = await callPage<Record<string, unknown>>(p.page, "bench", "describe");
        rows.push({ contender: p.label, medianMs: +median(p.runs).toFixed(0), minMs: +Math.min(...p.runs).toFixed(0), maxMs: +Math.max(...p.runs).toFixed(0), vsOurs1t: +psnr8(first[i], first[0]).toFixed(1), ...d });
        await callPage(p.page, "bench", "dispose");
        await p.page.close();
      }
      console.log(`\n${name}: ${SIZE}² → ${SIZE * 4}², headless ${info!.ua.match(/Chrome\/[\d.]+/)?.[0]}, ${info!.cores} cores, ${ROUNDS} interleaved rounds after a warm-up (vsOurs1t: PSNR of the output against srgan-wasm's, dB)`);
      console.table(rows);
      const ms = (label: string) => rows.find((r) => r.contender === label)!.medianMs;
      for (const t of ["1 thread", "2 threads"]) console.log(`${t}: onnxruntime-web ÷ srgan-wasm ${(ms(`onnxruntime-web, ${t}`) / ms(`srgan-wasm, ${t}`)).toFixed(2)}×`);
      results.push({ network: name, browser: info!.ua, rows });
    }
  } finally {
    await browser.close();
    await server.close();
  }
  const loadAfter = loadavg();
  console.log(`ONNX Runtime binaries fetched: ${[...ortFiles].join(", ")}`);
  console.log(`load average (1 min) before ${loadBefore[0].toFixed(1)}, after ${loadAfter[0].toFixed(1)} on ${cpus().length} cores`);
  if (only) return;
  mkdirSync(join(ROOT, "bench/results"), { recursive: true });
  writeFileSync(join(ROOT, "bench/results/browser-peers-latest.json"), JSON.stringify({
    date: new Date().toISOString(), hostCpu: cpus()[0]?.model, hostCpus: cpus().length, size: SIZE, rounds: ROUNDS, ortBinaries: [...ortFiles], loadAverage: { before: loadBefore, after: loadAfter }, results,
  }, null, 2) + "\n");
}

await main();
