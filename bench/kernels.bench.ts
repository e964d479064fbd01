// SPDX-License-Identifier: MIT
// Single-thread kernel benchmark: our conv2d_f32 and winograd_f23_f32 (plain SIMD and relaxed-SIMD
// builds) against the TensorFlow.js WASM backend (XNNPACK) on the same shapes, plus this machine's f32x4
// peak from a tiny separate AS module. Prints medians, ratios and % of peak; writes
// bench/results/kernels-latest.json. Winograd's GFLOP/s are effective: the direct method's FLOPs / time.
//
//   node --import tsx bench/kernels.bench.ts [--sizes 16,32,64] [--time 1500] [--rounds 3] [--no-tfjs]
//
// The machine may be shared: every ratio compares implementations measured in the same run, rounds
// are interleaved (simd, relaxed, tfjs, simd, …) so a noisy neighbour hits all of them alike, and the
// reported figure is the median over all rounds' per-round medians.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, platform, arch, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Bench } from "tinybench";
import { Engine } from "../src/runtime/engine.js";
import { Conv2D } from "../src/ops/conv2d.js";
import type { GraphNode, Weight } from "../src/model/graph.js";
import { median } from "./common.js";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

// ---- options ---------------------------------------------------------------------------------
function opt(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}
const SIZES = opt("sizes", "16,32,48,64").split(",").map(Number);
const H = Number(opt("h", "128")), W = Number(opt("w", "128")), K = 3;
const TIME_MS = Number(opt("time", "800"));           // measured time per task per round
const WARMUP_MS = Number(opt("warmup", "300"));       // tinybench warmup per task per round
const ROUNDS = Number(opt("rounds", "5"));
const WITH_TFJS = !process.argv.includes("--no-tfjs");

const convFlops = (cin: number, cout: number) => 2 * H * W * cin * cout * K * K;

function rand(seed: number): () => number {
  let a = seed >>> 0;
  return () => { a = (a + 0x6d2b79f5) >>> 0; let t = Math.imul(a ^ (a >>> 15), a | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
}
const randomArray = (n: number, r: () => number) => { const x = new Float32Array(n); for (let i = 0; i < n; i++) x[i] = r() * 2 - 1; return x; };

// ---- fingerprint -----------------------------------------------------------------------------
function fingerprint() {
  let cpuModel = cpus()[0]?.model ?? "unknown";
  let flags = "";
  try {
    const info = readFileSync("/proc/cpuinfo", "utf8");
    const fam = /cpu family\s*:\s*(\d+)/.exec(info)?.[1], model = /^model\s*:\s*(\d+)/m.exec(info)?.[1];
    if (fam) cpuModel += ` (family ${fam}, model ${model})`;
    flags = (/^flags\s*:(.*)$/m.exec(info)?.[1] ?? "").split(" ").filter((f) => /^(sse4_2|avx|avx2|fma|avx512f)$/.test(f)).join(" ");
  } catch { /* not Linux */ }
  return { cpuModel, cpuFlags: flags, logicalCpus: cpus().length, totalMemGiB: +(totalmem() / 2 ** 30).toFixed(1), node: process.version, v8: process.versions.v8, platform: platform(), arch: arch() };
}

// ---- peak micro-benchmark ----------------------------------------------------------------------
type PeakFn = (iters: number, m: number, c: number) => number;
function compilePeak(): { simd: WebAssembly.Instance; relaxed: WebAssembly.Instance | null } {
  const dir = mkdtempSync(join(tmpdir(), "srgan-peak-"));
  try {
    const out: Record<string, WebAssembly.Instance | null> = {};
    for (const variant of ["simd", "relaxed"] as const) {
      const file = join(dir, `peak.${variant}.wasm`);
      // cwd = the temp folder so asc does not pick up the project's asconfig.json (shared memory).
      execFileSync(process.execPath, [join(ROOT, "node_modules/assemblyscript/bin/asc.js"), join(ROOT, "bench/peak.as.ts"),
        "--outFile", file, "--enable", variant === "simd" ? "simd" : "simd,relaxed-simd", "-O3", "--runtime", "stub", "--noAssert"],
      { cwd: dir, stdio: "inherit" });
      const bytes = readFileSync(file);
      // The relaxed module only validates once module.ts's loader has set V8's flag (Node 20).
      out[variant] = WebAssembly.validate(bytes) ? new WebAssembly.Instance(new WebAssembly.Module(bytes), {}) : null;
    }
    return { simd: out.simd!, relaxed: out.relaxed };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// Best of the 8-chain, 12-chain and L1 loops. For each loop the figure is the fastest of several long
// calls: other load on the machine can only slow a call down, so the fastest is the closest to the
// machine's capability (a median would report the neighbours' load as a lower peak).
function measurePeak(inst: WebAssembly.Instance): { gflops: number; loop: string; byLoop: Record<string, number> } {
  const mem = inst.exports.memory as WebAssembly.Memory;
  if (mem.buffer.byteLength < 8192) mem.grow(1);
  (inst.exports.fill as (buf: number, v: number) => void)(4096, 1e-3);
  const loops: Record<string, { flopsPerIter: number; call: (iters: number) => number }> = {
    chains8: { flopsPerIter: 8 * 8, call: (n) => (inst.exports.peak8 as PeakFn)(n, 0.5, 1) },
    chains12: { flopsPerIter: 12 * 8, call: (n) => (inst.exports.peak12 as PeakFn)(n, 0.5, 1) },
    l1: { flopsPerIter: 8 * 8, call: (n) => (inst.exports.peakL1 as (buf: number, n: number) => number)(4096, n) },
  };
  let best = { gflops: 0, loop: "", byLoop: {} as Record<string, number> };
  for (const [name, l] of Object.entries(loops)) {
    const iters = 2e9 / l.flopsPerIter / 10 | 0; // ~0.2 GFLOP per call
    l.call(iters); // tier-up
    let g = 0;
    for (let r = 0; r < 15; r++) {
      const t0 = performance.now();
      l.call(iters);
      g = Math.max(g, (iters * l.flopsPerIter) / ((performance.now() - t0) * 1e6));
    }
    best.byLoop[name] = g;
    if (g > best.gflops) best = { ...best, gflops: g, loop: name };
  }
  return best;
}

// ---- our conv --------------------------------------------------------------------------------
interface ConvCase { run(): void; output(): Float32Array }

async function ourConv(variant: "simd" | "relaxed", winograd: boolean, cin: number, cout: number, x: Float32Array, wt: Weight): Promise<ConvCase> {
  const engine = await Engine.create({ memoryLimit: 256 << 20, wasmVariant: variant });
  const node: GraphNode = { op: "Conv2D", inputs: ["x"], output: "y", attrs: { k: K, cout }, weights: { kernel0: "w" } } as GraphNode;
  const packed = Conv2D.pack!(node, { w: wt }, { conv: winograd ? "winograd" : "direct" });
  const weights = winograd ? packed.winograd0 : packed.kernel0;
  const scratchBytes = Conv2D.scratchBytes!(node, [{ h: H, w: W, c: cin }], { h: H, w: W, c: cout });
  const inBytes = x.length * 4, outBytes = H * W * cout * 4, wBytes = weights.length * 4;
  const lease = engine.pool.lease(inBytes + outBytes + wBytes + scratchBytes + 512);
  const inPtr = lease.ptr, outPtr = (inPtr + inBytes + 63) & ~63, wPtr = (outPtr + outBytes + 63) & ~63;
  const scratchPtr = (wPtr + wBytes + 63) & ~63;
  engine.f32(inPtr, x.length).set(x);
  engine.f32(wPtr, weights.length).set(weights);
  const kn = engine.kernels;
  return {
    run: winograd
      ? () => { kn.winograd_f23_f32(inPtr, H, W, cin, 1, wPtr, 0, cout, outPtr, 0, H, 0, 0, 0, scratchPtr); }
      : () => { kn.conv2d_f32(inPtr, H, W, cin, wPtr, 0, K, K >> 1, cout, outPtr, 0, H, 0, 0, 0); },
    output: () => engine.f32(outPtr, H * W * cout).slice(),
  };
}

// ---- tfjs ------------------------------------------------------------------------------------
type Tf = typeof import("@tensorflow/tfjs-core");
async function loadTf(): Promise<Tf> {
  const tf = await import("@tensorflow/tfjs-core");
  const wasm = await import("@tensorflow/tfjs-backend-wasm");
  // Node resolves the backend's .wasm next to its own script; say so explicitly (trailing slash).
  wasm.setWasmPaths(join(ROOT, "node_modules/@tensorflow/tfjs-backend-wasm/dist/"));
  wasm.setThreadsCount(1);
  await tf.setBackend("wasm");
  await tf.ready();
  return tf;
}

function tfConv(tf: Tf, cin: number, cout: number, x: Float32Array, wt: Weight): ConvCase {
  // Our weights are [cout][k][k][cin]; tf.conv2d wants [k][k][cin][cout].
  const f = new Float32Array(K * K * cin * cout);
  for (let o = 0; o < cout; o++) for (let t = 0; t < K * K; t++) for (let c = 0; c < cin; c++) f[(t * cin + c) * cout + o] = wt.data[(o * K * K + t) * cin + c];
  const xt = tf.tensor4d(x, [1, H, W, cin]);
  const ft = tf.tensor4d(f, [K, K, cin, cout]);
  let last: Float32Array | null = null;
  return {
    run: () => { const y = tf.conv2d(xt, ft, 1, "same"); y.dispose(); },
    output: () => { const y = tf.conv2d(xt, ft, 1, "same"); last = y.dataSync() as Float32Array; y.dispose(); return last; },
  };
}

function maxRelDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  return m;
}

// ---- main ------------------------------------------------------------------------------------
const fp = fingerprint();
console.log(`${fp.cpuModel} · ${fp.logicalCpus} logical CPUs · Node ${fp.node} (V8 ${fp.v8})`);

// Loading the relaxed kernels first sets V8's relaxed-SIMD flag (Node 20), which the peak module needs too.
const relaxedEngine = await Engine.create({ memoryLimit: 16 << 20, wasmVariant: "relaxed" }).catch((e: Error) => { console.log(`relaxed build unavailable: ${e.message}`); return null; });
const haveRelaxed = relaxedEngine !== null;

const peakMods = compilePeak();
const peakSimd = measurePeak(peakMods.simd);
const peakRelaxed = peakMods.relaxed ? measurePeak(peakMods.relaxed) : null;
const fmtPeak = (p: ReturnType<typeof measurePeak>) => `${p.gflops.toFixed(1)} GFLOP/s (${Object.entries(p.byLoop).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(", ")})`;
console.log(`peak f32x4 mul+add: ${fmtPeak(peakSimd)}` + (peakRelaxed ? ` · relaxed_madd: ${fmtPeak(peakRelaxed)}` : ""));

const tf = WITH_TFJS ? await loadTf() : null;
if (tf) console.log(`tfjs ${tf.version_core} backend ${tf.getBackend()} (single thread, SIMD build)`);

type Impl = "simd" | "relaxed" | "wino-simd" | "wino-relaxed" | "tfjs";
interface Row { shape: string; cin: number; cout: number; gflop: number; impl: Impl; medianMs: number; gflops: number; vsTfjs: number | null; vsDirect: number | null; pctPeak: number; roundMedians: number[]; bestMs: number; bestGflops: number; maxRelDiffVsTfjs: number | null }
const rows: Row[] = [];

for (const c of SIZES) {
  const r = rand(c);
  const x = randomArray(H * W * c, r);
  const wt: Weight = { shape: [c, K, K, c], data: randomArray(c * K * K * c, r).map((v) => v * 0.1) };
  const cases: Partial<Record<Impl, ConvCase>> = { simd: await ourConv("simd", false, c, c, x, wt), "wino-simd": await ourConv("simd", true, c, c, x, wt) };
  if (haveRelaxed) { cases.relaxed = await ourConv("relaxed", false, c, c, x, wt); cases["wino-relaxed"] = await ourConv("relaxed", true, c, c, x, wt); }
  if (tf) cases.tfjs = tfConv(tf, c, c, x, wt);
  const impls = Object.keys(cases) as Impl[];

  // Correctness cross-check, and the first long calls that make V8 tier the kernels up.
  for (const i of impls) for (let n = 0; n < 3; n++) cases[i]!.run();
  const ref = tf ? cases.tfjs!.output() : null;
  const diffs: Partial<Record<Impl, number>> = {};
  for (const i of impls) {
    cases[i]!.run();
    if (ref) diffs[i] = maxRelDiff(cases[i]!.output(), ref);
    if (ref && diffs[i]! > 1e-3) throw new Error(`${i} ${c}→${c} disagrees with tfjs: max rel diff ${diffs[i]}`);
  }

  const perRound: Record<string, number[]> = {};
  const best: Record<string, number> = {};
  for (let round = 0; round < ROUNDS; round++) {
    const bench = new Bench({ name: `conv ${c}→${c}`, time: TIME_MS, iterations: 5, warmup: true, warmupTime: WARMUP_MS, warmupIterations: 2, throws: true });
    for (const i of impls) bench.add(i, cases[i]!.run);
    await bench.run();
    for (const task of bench.tasks) {
      const res = task.result as { latency?: { p50: number; min: number } };
      (perRound[task.name] ??= []).push(res.latency!.p50);
      best[task.name] = Math.min(best[task.name] ?? Infinity, res.latency!.min);
    }
  }
  const gflop = convFlops(c, c) / 1e9;
  const ms = Object.fromEntries(impls.map((i) => [i, median(perRound[i])])) as Record<Impl, number>;
  for (const i of impls) {
    const gflops = gflop / (ms[i] / 1e3);
    const peak = i.endsWith("relaxed") && peakRelaxed ? peakRelaxed.gflops : peakSimd.gflops;
    const direct = i === "wino-simd" ? ms.simd : i === "wino-relaxed" ? ms.relaxed : undefined;
    rows.push({ shape: `${H}x${W} 3x3 ${c}->${c}`, cin: c, cout: c, gflop, impl: i, medianMs: ms[i], gflops, vsTfjs: ms.tfjs ? ms.tfjs / ms[i] : null,
      vsDirect: direct ? direct / ms[i] : null,
      pctPeak: (100 * gflops) / peak, roundMedians: perRound[i], bestMs: best[i], bestGflops: gflop / (best[i] / 1e3), maxRelDiffVsTfjs: diffs[i] ?? null });
  }
}

// ---- report ----------------------------------------------------------------------------------
const pad = (s: string, n: number) => s.padStart(n);
console.log(`\nconv2d 3×3 'same', ${H}×${W}, single thread; median of ${ROUNDS} round medians (${TIME_MS} ms each)`);
console.log(`${"shape".padEnd(20)}${pad("impl", 14)}${pad("ms", 9)}${pad("GFLOP/s", 10)}${pad("vs tfjs", 9)}${pad("vs direct", 11)}${pad("% peak", 8)}${pad("best GFLOP/s", 14)}`);
for (const r of rows) {
  console.log(`${r.shape.padEnd(20)}${pad(r.impl, 14)}${pad(r.medianMs.toFixed(2), 9)}${pad(r.gflops.toFixed(1), 10)}` +
    `${pad(r.vsTfjs === null ? "-" : r.vsTfjs.toFixed(2) + "×", 9)}${pad(r.vsDirect === null ? "-" : r.vsDirect.toFixed(2) + "×", 11)}` +
    `${pad(r.pctPeak.toFixed(0) + "%", 8)}${pad(r.bestGflops.toFixed(1), 14)}`);
}
console.log("GFLOP/s: direct-equivalent FLOPs (2·H·W·cin·cout·9) / median time, so Winograd can exceed 100 % of peak.");
console.log("% peak: *relaxed vs the relaxed_madd peak, the others vs the mul+add peak. vs direct: the direct kernel of the same build. best: fastest single call.");

mkdirSync(join(ROOT, "bench/results"), { recursive: true });
const result = {
  date: new Date().toISOString(), machine: fp, settings: { h: H, w: W, k: K, sizes: SIZES, timeMs: TIME_MS, warmupMs: WARMUP_MS, rounds: ROUNDS, threads: 1 },
  peak: { mulAddGflops: peakSimd.gflops, mulAddByLoop: peakSimd.byLoop, relaxedMaddGflops: peakRelaxed?.gflops ?? null, relaxedMaddByLoop: peakRelaxed?.byLoop ?? null },
  relaxedAvailable: haveRelaxed, tfjs: tf ? { version: tf.version_core, backend: tf.getBackend() } : null, results: rows,
};
writeFileSync(join(ROOT, "bench/results/kernels-latest.json"), JSON.stringify(result, null, 2) + "\n");
console.log("wrote bench/results/kernels-latest.json");
