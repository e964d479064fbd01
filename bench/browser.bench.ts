// SPDX-License-Identifier: MIT
// Browser benchmark: a shipped network (`natural` unless --model natural-fast), 256×256 → 1024×1024, in
// headless Debian Chromium on a cross-origin isolated page: wasm backend on 1 and 2 threads, backend
// 'webgl' (SwiftShader, so CPU numbers), and TensorFlow.js (WASM backend, 1 and 2 threads) running the
// same network with the same weights.
// Run: node --import tsx bench/browser.bench.ts [--model NAME] [--reps N] [--webgl-reps N]
//      (writes bench/results/browser-NAME-latest.json); SRGAN_BENCH_ANGLE=vulkan (or gl-egl, …) asks
//      Chromium for a real GPU instead of SwiftShader, and the WebGL row names the renderer that ran;
//      SRGAN_CHROMIUM=/path/to/chrome runs another browser. Chromium, bundles and server: test/browser/chromium.ts.
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { TRAINED } from "../src/model/builtin.js";
import { bundle, callPage, haveChromium, launch, modulePage, servePage, type Server } from "../test/browser/chromium.js";

const ANGLE = process.env.SRGAN_BENCH_ANGLE ?? "swiftshader";
const SOFTWARE = ANGLE === "swiftshader";
const ROOT = fileURLToPath(new URL("../", import.meta.url));
const TFJS_WASM = join(ROOT, "node_modules/@tensorflow/tfjs-backend-wasm/dist");
const arg = (name: string, dflt: number) => { const i = process.argv.indexOf(name); return i > 0 ? Number(process.argv[i + 1]) : dflt; };
const REPS = arg("--reps", 5);
const WEBGL_REPS = arg("--webgl-reps", 3);
const SIZE = 256;
const MODEL = process.argv.includes("--model") ? process.argv[process.argv.indexOf("--model") + 1] : "natural";
if (!Object.hasOwn(TRAINED, MODEL)) throw new Error(`--model must be one of ${Object.keys(TRAINED).join(", ")}`);
const MODEL_FILE = TRAINED[MODEL][4]; // the ×4 file: this bench measures 256² → 1024²

/** The in-page half, bundled by esbuild with src/ and TensorFlow.js. */
const PAGE = `
import { createUpscaler, configureAssets } from "../src/index.js";
import { decodeNetwork } from "../src/model/formats/srnet.js";
import { median, testImage as image } from "./common.js";
import * as tf from "@tensorflow/tfjs-core";
import { setWasmPaths, setThreadsCount, getThreadsCount } from "@tensorflow/tfjs-backend-wasm";

configureAssets({ wasmBaseUrl: location.origin + "/wasm/", workerUrl: location.origin + "/worker.js" });
const MODEL_FILE = ${JSON.stringify(MODEL_FILE)};
async function time(fn, reps) {
  const t0 = performance.now(); await fn(); const warm = performance.now() - t0;
  const runs = [];
  for (let i = 0; i < reps; i++) { const t = performance.now(); await fn(); runs.push(performance.now() - t); }
  return { median: median(runs), runs, warm };
}
async function modelBytes() { return new Uint8Array(await (await fetch("/models/" + MODEL_FILE)).arrayBuffer()); }

window.bench = {
  info: () => ({ crossOriginIsolated, cores: navigator.hardwareConcurrency, ua: navigator.userAgent }),
  async srgan(backend, threads, size, reps) {
    const bytes = await modelBytes();
    const up = await createUpscaler({ model: bytes, threads, backend });
    const img = image(size, size);
    try {
      let out;
      const r = await time(async () => { out = await up.upscale(img); }, reps);
      const info = up.info();
      return { ...r, backend: info.backend, threads: info.threads, renderer: up.stats().webgl?.renderer, out: [out.width, out.height] };
    } finally { await up.dispose(); }
  },
  /**
   * The same network with the same weights in TensorFlow.js: each Conv2D (+ PReLU) as tf.fused.conv2d,
   * then depthToSpace (our 'tf' pixel-shuffle order) plus the bilinear ×4 residual.
   */
  async tfjs(threads, size, reps) {
    // tfjs caps XNNPACK's pool at navigator.hardwareConcurrency / 2 (tfjs#6081), i.e. 1 thread on a
    // 2-core machine whatever setThreadsCount says; report twice the cores to this page so 2 can run.
    const cores = navigator.hardwareConcurrency;
    Object.defineProperty(Navigator.prototype, "hardwareConcurrency", { get: () => 2 * cores, configurable: true });
    setWasmPaths(location.origin + "/tfjs/");
    setThreadsCount(threads);
    await tf.setBackend("wasm");
    await tf.ready();
    const g = decodeNetwork(await modelBytes());
    const convs = g.nodes.filter((n) => n.op === "Conv2D").map((n) => {
      const k = g.weights[n.weights.kernel0];
      const [cout, kh, kw, cin] = k.shape;
      return {
        w: tf.tidy(() => tf.transpose(tf.tensor4d(k.data, [cout, kh, kw, cin]), [1, 2, 3, 0])),
        b: tf.tensor1d(g.weights[n.weights.bias].data),
        a: n.weights.slope ? tf.tensor1d(g.weights[n.weights.slope].data) : undefined,
      };
    });
    let seed = 1;
    const rnd = (n, s) => Float32Array.from({ length: n }, () => { seed = (seed * 1103515245 + 12345) >>> 0; return ((seed / 2 ** 32) - 0.5) * s; });
    const x = tf.tensor4d(rnd(size * size * 3, 1).map((v) => v + 0.5), [1, size, size, 3]);
    const run = async () => {
      const y = tf.tidy(() => {
        let t = x;
        for (const l of convs) t = tf.fused.conv2d({ x: t, filter: l.w, bias: l.b, strides: 1, pad: "same", ...(l.a ? { activation: "prelu", preluActivationWeights: l.a } : {}) });
        return tf.add(tf.depthToSpace(t, 4), tf.image.resizeBilinear(x, [size * 4, size * 4]));
      });
      await y.data();
      y.dispose();
    };
    const r = await time(run, reps);
    return { ...r, backend: tf.getBackend(), threads: getThreadsCount(), simd: tf.env().getBool("WASM_HAS_SIMD_SUPPORT"), multithread: tf.env().getBool("WASM_HAS_MULTITHREAD_SUPPORT"), nodes: g.nodes.length };
  },
};
document.documentElement.dataset.ready = "1";
`;

/** The page and the module worker, bundled with src/ and TensorFlow.js, served cross-origin isolated. */
async function servePages(): Promise<Server> {
  const [page, worker] = await Promise.all([
    bundle({ stdin: { contents: PAGE, resolveDir: join(ROOT, "bench"), sourcefile: "browser-bench-page.js", loader: "js" } }),
    bundle({ entryPoints: [join(ROOT, "src/worker/web-entry.ts")] }),
  ]);
  return servePage({ "index.html": modulePage("srgan-wasm browser bench"), "page.js": page, "worker.js": worker }, { tfjs: TFJS_WASM });
}

/** The TensorFlow.js binaries the pages fetched (which of plain, SIMD, threaded SIMD ran). */
const tfjsFiles = new Set<string>();
type Result = { median: number; runs: number[]; warm: number; backend: string; threads: number; [k: string]: unknown };

async function main() {
  if (!haveChromium("the browser benchmark")) return;
  const [server, browser] = await Promise.all([servePages(), launch({ angle: ANGLE })]);
  browser.context.on("request", (r) => { const m = /\/tfjs\/([\w.-]+\.wasm)$/.exec(r.url()); if (m) tfjsFiles.add(m[1]); });
  // A fresh page per case: TensorFlow.js fixes its thread count when its backend starts.
  const onPage = async <T>(fn: string, ...args: unknown[]): Promise<T> => {
    const page = await browser.context.newPage();
    page.on("pageerror", (e) => console.error(`  page error: ${e.message}`));
    page.on("console", (m) => { if (m.type() === "error" || m.type() === "warning" || process.env.SRGAN_BENCH_VERBOSE) console.error(`  page console ${m.type()}: ${m.text()}`); });
    try {
      await page.goto(`${server.url}index.html`);
      await page.waitForSelector("html[data-ready]");
      return await callPage<T>(page, "bench", fn, ...args);
    } finally { await page.close(); }
  };
  const rows: Array<{ case: string; medianMs: number; runs: number; warmupMs: number; note: string }> = [];
  const results: Record<string, Result | { error: string }> = {};
  const info = await onPage<{ crossOriginIsolated: boolean; cores: number; ua: string }>("info");
  if (!info.crossOriginIsolated) throw new Error("the page is not cross-origin isolated: threads would not run");
  const cases: Array<[string, string, unknown[], string]> = [
    ["srgan-wasm wasm, 1 thread", "srgan", ["wasm", 1, SIZE, REPS], "SIMD"],
    ["srgan-wasm wasm, 2 threads", "srgan", ["wasm", 2, SIZE, REPS], "SIMD, module workers"],
    [`srgan-wasm webgl (${ANGLE})`, "srgan", ["webgl", 0, SIZE, WEBGL_REPS], SOFTWARE ? "SwiftShader: CPU numbers, not a GPU" : `ANGLE ${ANGLE}`],
    ["TensorFlow.js 4.22 wasm, 1 thread", "tfjs", [1, SIZE, REPS], "same network and weights"],
    ["TensorFlow.js 4.22 wasm, 2 threads", "tfjs", [2, SIZE, REPS], "same network and weights"],
  ];
  console.log(`${MODEL} ${SIZE}×${SIZE} → ${SIZE * 4}×${SIZE * 4}, headless ${info.ua.match(/Chrome\/[\d.]+/)?.[0] ?? "Chromium"}, ${info.cores} cores, 1 warm-up then medians of ${REPS} (WebGL: ${WEBGL_REPS})`);
  const only = process.env.SRGAN_BENCH_ONLY; // a substring of the case labels, to run a subset
  for (const [label, fn, args, note] of cases.filter(([l]) => !only || l.includes(only))) {
    try {
      const r = await onPage<Result>(fn, ...args);
      results[label] = r;
      const extra = fn === "tfjs" ? `, tfjs threads ${r.threads}, simd ${r.simd}` : `, ran on ${r.backend}${r.backend === "wasm" ? ` with ${r.threads} thread(s)` : `, renderer ${r.renderer}`}`;
      rows.push({ case: label, medianMs: +r.median.toFixed(0), runs: r.runs.length, warmupMs: +r.warm.toFixed(0), note: note + extra });
      console.log(`  ${label}: median ${r.median.toFixed(0)} ms (runs ${r.runs.map((x) => x.toFixed(0)).join(", ")})`);
    } catch (e) {
      results[label] = { error: String((e as Error).message ?? e).split("\n")[0] };
      rows.push({ case: label, medianMs: NaN, runs: 0, warmupMs: NaN, note: `failed: ${(results[label] as { error: string }).error}` });
      console.log(`  ${label}: failed: ${(results[label] as { error: string }).error}`);
    }
  }
  await browser.close();
  await server.close();
  console.table(rows);
  if (tfjsFiles.size) console.log(`TensorFlow.js binaries fetched: ${[...tfjsFiles].join(", ")}`);
  if (SOFTWARE) console.log("The WebGL row ran on SwiftShader (--use-angle=swiftshader): a CPU emulating a GPU. These are CPU numbers, not GPU numbers.");
  mkdirSync(join(ROOT, "bench/results"), { recursive: true });
  const out = join(ROOT, `bench/results/browser-${MODEL}-latest.json`);
  writeFileSync(out, JSON.stringify({
    date: new Date().toISOString(), browser: info.ua, hardwareConcurrency: info.cores, hostCpus: cpus().length, hostCpu: cpus()[0]?.model,
    input: [SIZE, SIZE], output: [SIZE * 4, SIZE * 4], model: MODEL, reps: REPS, webglReps: WEBGL_REPS,
    tfjsBinaries: [...tfjsFiles], angle: ANGLE, note: `webgl ran on ${SOFTWARE ? "SwiftShader (CPU)" : `ANGLE ${ANGLE}: see the renderer in its row`}; TensorFlow.js ran the same network with the same weights`, rows, results,
  }, null, 2) + "\n");
  console.log(`wrote ${out}`);
}

await main();
