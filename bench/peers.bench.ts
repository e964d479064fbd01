// SPDX-License-Identifier: MIT
// The same-network race in Node: one network, the same weights, 256×256 → 1024×1024, in srgan-wasm and in
// ONNX Runtime, on 1 and 2 threads. ONNX Runtime runs our ONNX export of the network (src/model/formats/
// onnx-export.ts), checked first to give the same pixels: onnxruntime-web (WASM SIMD; a devDependency) and,
// where SRGAN_ORT_NODE names an installed onnxruntime-node package (native, not a dependency of the
// project), that too. Networks: realesr-animevideov3-x4 from its ncnn files (../shared) and our `natural`.
//
// Each contender runs in its own process (ONNX Runtime Web fixes its thread count when it first starts),
// kept alive and asked for one run at a time: round by round every contender runs once, so load from
// other processes on a shared machine hits them alike; the figure is the median per contender. Each run
// also reports which of the process's OS threads worked (Linux: /proc/self/task CPU ticks): the threads
// that did at least a quarter of the busiest one's work, so "2 threads" is seen, not assumed.
// Timed: RGBA8 in → RGBA8 out (for ONNX Runtime: the conversion to and from a float NCHW tensor, and run()).
//
// Run: node --import tsx bench/peers.bench.ts [--rounds 7] [--only natural]
//   SRGAN_ORT_NODE=/tmp/ort/node_modules/onnxruntime-node  (after: mkdir /tmp/ort && cd /tmp/ort &&
//   npm install --ignore-scripts onnxruntime-node; its CPU binary ships inside the package)
// Writes bench/results/peers-latest.json.
import { fork, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { createUpscaler } from "../src/index.js";
import { loadNetwork } from "../src/api/load-network.js";
import { encodeOnnx } from "../src/model/formats/onnx-export.js";
import { convMacsPerPixel } from "../src/model/graph.js";
import { median, testImage } from "./common.js";

const SIZE = 256;
const arg = (name: string) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : undefined; };
const ANIME = fileURLToPath(new URL("../../shared/data/community/ncnn/realesrgan/realesr-animevideov3-x4.param", import.meta.url));
const NETWORKS: Record<string, string> = { "realesr-animevideov3-x4": ANIME, natural: "natural" };

type Kind = "srgan-wasm" | "onnxruntime-web" | "onnxruntime-node";
interface RunResult { ms: number; cpuMs: number; busyThreads?: number; rgb?: number[] }
interface Runner { run(): Promise<Uint8ClampedArray>; describe(): string; dispose(): Promise<void> }


// ---- the child: one contender ----

async function srganRunner(model: string, threads: number): Promise<Runner> {
  const up = await createUpscaler({ model: await loadNetwork(model), threads });
  const img = testImage(SIZE, SIZE);
  return {
    run: async () => (await up.upscale(img)).data,
    describe: () => `srgan-wasm ${up.info().wasmVariant ?? ""}, ${up.info().threads} thread(s)`,
    dispose: () => up.dispose(),
  };
}

/** ONNX Runtime (web or node builds share the API): RGBA8 → float NCHW → run() → RGBA8, as an application would. */
async function ortRunner(kind: Kind, model: string, threads: number): Promise<Runner> {
  const bytes = encodeOnnx(await loadNetwork(model));
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let ort: any, options: Record<string, unknown>;
  if (kind === "onnxruntime-web") {
    ort = await import("onnxruntime-web");
    ort.env.wasm.numThreads = threads;
    ort.env.wasm.simd = true;
    options = { executionProviders: ["wasm"], graphOptimizationLevel: "all" };
  } else {
    ort = createRequire(import.meta.url)(process.env.SRGAN_ORT_NODE!);
    options = { executionProviders: ["cpu"], intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: "all" };
  }
  const session = await ort.InferenceSession.create(bytes, options);
  const img = testImage(SIZE, SIZE), n = SIZE * SIZE;
  return {
    async run() {
      const x = new Float32Array(3 * n);
      for (let i = 0; i < n; i++) for (let k = 0; k < 3; k++) x[k * n + i] = img.data[i * 4 + k] / 255;
      const { output } = await session.run({ input: new ort.Tensor("float32", x, [1, 3, SIZE, SIZE]) });
      const y = output.data as Float32Array, m = y.length / 3;
      const out = new Uint8ClampedArray(4 * m);
      for (let i = 0; i < m; i++) {
        for (let k = 0; k < 3; k++) out[i * 4 + k] = Math.floor(Math.min(255, Math.max(0, 255 * y[k * m + i] + 0.5)));
        out[i * 4 + 3] = 255;
      }
      return out;
    },
    describe: () => `${kind} ${kind === "onnxruntime-web" ? `${ort.env.versions?.web ?? ""} wasm, numThreads ${ort.env.wasm.numThreads}` : `intraOpNumThreads ${threads}`}`,
    dispose: async () => session.release(),
  };
}

/** CPU clock ticks (user + system) of each OS thread of this process; empty where /proc is not there. */
function threadTicks(): Map<string, number> {
  try {
    return new Map(readdirSync("/proc/self/task").map((tid) => {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // fields from 3 (state) on: utime is 14, stime 15
      return [tid, Number(f[11]) + Number(f[12])];
    }));
  } catch {
    return new Map();
  }
}

/** Threads that worked during a run: at least a quarter of the busiest thread's ticks. */
function busyThreads(before: Map<string, number>, after: Map<string, number>): number | undefined {
  const deltas = [...after].map(([tid, t]) => t - (before.get(tid) ?? 0));
  const most = Math.max(0, ...deltas);
  return most > 0 ? deltas.filter((d) => d >= most / 4).length : undefined;
}

async function child(kind: Kind, model: string, threads: number): Promise<void> {
  const runner = kind === "srgan-wasm" ? await srganRunner(model, threads) : await ortRunner(kind, model, threads);
  process.on("message", async (msg: { cmd: "run" | "exit"; keep?: boolean }) => {
    if (msg.cmd === "exit") { await runner.dispose(); process.exit(0); }
    const ticks = threadTicks(), c0 = process.cpuUsage(), t0 = performance.now();
    const out = await runner.run();
    const ms = performance.now() - t0, c = process.cpuUsage(c0);
    const result: RunResult = { ms, cpuMs: (c.user + c.system) / 1000, busyThreads: busyThreads(ticks, threadTicks()) };
    if (msg.keep) result.rgb = Array.from(out.filter((_, i) => i % 4 !== 3));
    process.send!(result);
  });
  process.send!({ ready: runner.describe() });
}

// ---- the parent: rounds over the contenders ----

interface Contender { label: string; kind: Kind; threads: number; proc: ChildProcess; describe: string; runs: RunResult[] }

function start(kind: Kind, model: string, threads: number): Promise<Contender> {
  const proc = fork(fileURLToPath(import.meta.url), ["--child", kind, model, String(threads)], { execArgv: ["--import", "tsx"], stdio: "inherit" });
  return new Promise((resolve, reject) => {
    proc.once("message", (m: { ready: string }) => resolve({ label: `${kind}, ${threads} thread${threads > 1 ? "s" : ""}`, kind, threads, proc, describe: m.ready, runs: [] }));
    proc.once("exit", (code) => reject(new Error(`${kind} ${threads} exited with ${code} before it was ready`)));
  });
}

const ask = (c: Contender, keep = false) => new Promise<RunResult>((resolve) => { c.proc.once("message", resolve); c.proc.send({ cmd: "run", keep }); });

function psnr8(a: number[], b: number[]): number {
  let se = 0;
  for (let i = 0; i < a.length; i++) se += (a[i] - b[i]) ** 2;
  return se === 0 ? Infinity : 10 * Math.log10((255 * 255 * a.length) / se);
}

async function race(name: string, model: string, rounds: number) {
  const kinds: Kind[] = ["srgan-wasm", "onnxruntime-web", ...(process.env.SRGAN_ORT_NODE ? ["onnxruntime-node" as const] : [])];
  const contenders: Contender[] = [];
  for (const kind of kinds) for (const threads of [1, 2]) contenders.push(await start(kind, model, threads));
  // One run each that is checked, not timed: the same pixels everywhere (and every contender warm).
  const first = await Promise.all(contenders.map(async (c) => (await ask(c, true)).rgb!));
  const agreement = contenders.map((c, i) => `${c.label} ${psnr8(first[i], first[0]).toFixed(1)} dB`);
  for (let r = 0; r < rounds; r++) for (const c of contenders) c.runs.push(await ask(c));
  for (const c of contenders) c.proc.send({ cmd: "exit" });
  const macs = convMacsPerPixel(await loadNetwork(model));
  const rows = contenders.map((c) => {
    const ms = median(c.runs.map((x) => x.ms));
    return {
      contender: c.label, medianMs: +ms.toFixed(0), minMs: +Math.min(...c.runs.map((x) => x.ms)).toFixed(0), maxMs: +Math.max(...c.runs.map((x) => x.ms)).toFixed(0),
      busyThreads: median(c.runs.map((x) => x.busyThreads ?? NaN)), cpuPerWall: +median(c.runs.map((x) => x.cpuMs / x.ms)).toFixed(2), gmacs: +((macs * SIZE * SIZE) / ms / 1e6).toFixed(1), runtime: c.describe,
    };
  });
  console.log(`\n${name}: ${SIZE}² → ${SIZE * 4}², ${(macs / 1000).toFixed(0)}k multiply-adds per input pixel, ${rounds} interleaved rounds; outputs vs srgan-wasm 1 thread: ${agreement.join(", ")}`);
  console.table(rows);
  const ms = (kind: Kind, t: number) => rows.find((r) => r.contender.startsWith(kind) && r.contender.includes(`${t} thread`))?.medianMs;
  for (const t of [1, 2]) {
    const ours = ms("srgan-wasm", t)!;
    const peers = kinds.filter((k) => k !== "srgan-wasm").map((k) => `${k} ÷ srgan-wasm ${(ms(k, t)! / ours).toFixed(2)}×`);
    console.log(`${t} thread${t > 1 ? "s" : ""}: ${peers.join(", ")}`);
  }
  return { network: name, macsPerPixel: macs, agreement, rows };
}

async function main() {
  const [kind, model, threads] = process.argv.slice(3);
  if (process.argv[2] === "--child") return child(kind as Kind, model, Number(threads));
  const rounds = Number(arg("--rounds") ?? 7);
  const only = arg("--only")?.split(",");
  if (process.env.SRGAN_ORT_NODE) createRequire(import.meta.url).resolve(process.env.SRGAN_ORT_NODE);
  else console.log("skip: onnxruntime-node (set SRGAN_ORT_NODE to an installed package: see the header of this file)");
  const results = [];
  const loadBefore = loadavg();
  for (const [name, model] of Object.entries(NETWORKS)) {
    if (only && !only.includes(name)) continue;
    if (model.endsWith(".param") && !existsSync(model)) { console.log(`skip: ${name} (needs ../shared beside the project)`); continue; }
    results.push(await race(name, model, rounds));
  }
  const loadAfter = loadavg();
  console.log(`load average (1 min) before ${loadBefore[0].toFixed(1)}, after ${loadAfter[0].toFixed(1)} on ${cpus().length} cores`);
  if (only) return;
  mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
  writeFileSync(new URL("./results/peers-latest.json", import.meta.url), JSON.stringify({
    machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version }, date: new Date().toISOString(), size: SIZE, rounds,
    loadAverage: { before: loadBefore, after: loadAfter }, results,
  }, null, 2) + "\n");
}

await main();
