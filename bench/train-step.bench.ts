// SPDX-License-Identifier: MIT
// One image's training pass (forward, loss, backward: what a worker does per image of a batch) with the
// direct and the Winograd 3×3 kernels, in interleaved rounds on one thread; medians of round medians.
// Then where a pass spends its time (each kernel call timed) and the per-step packing of the weights.
//
//   node --import tsx bench/train-step.bench.ts [--arch natural] [--patch 48] [--rounds 5] [--time 1500]
import { Bench } from "tinybench";
import type { Kernels } from "../src/backends/wasm/abi.js";
import { Engine } from "../src/runtime/engine.js";
import { buildNetwork } from "../src/train/arch.js";
import { compileProgram, flattenParams, imageGrad, packAll, packedLayout, planImage, trainingHandle } from "../src/train/program.js";
import { median } from "./common.js";

function opt(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}
const ARCH = opt("arch", "natural"), PATCH = Number(opt("patch", "48")), ROUNDS = Number(opt("rounds", "5")), TIME_MS = Number(opt("time", "1500"));
const SCALE = 4;

const engine = await Engine.create({ memoryLimit: 512 << 20, wasmVariant: "auto" });
const g = buildNetwork(ARCH, { scale: SCALE, seed: 1 });
let seed = 7;
const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);

function setup(conv: "direct" | "winograd"): { pass(k?: Kernels): void; pack(): void } {
  const prog = compileProgram(g, { conv });
  const params = flattenParams(prog.spec, g.weights);
  const plan = planImage(prog, PATCH, PATCH);
  const arrays = packAll(prog, params);
  const layout = packedLayout(arrays);
  const nLr = PATCH * PATCH * 3, nHr = nLr * SCALE * SCALE;
  const lease = engine.pool.lease(layout.bytes + plan.arenaBytes + 4 * (nLr + nHr + prog.spec.paramCount) + 4096);
  const align = (p: number) => Math.ceil(p / 64) * 64;
  const wbase = lease.ptr, lrPtr = align(wbase + layout.bytes), hrPtr = align(lrPtr + 4 * nLr);
  const gradPtr = align(hrPtr + 4 * nHr), arenaPtr = align(gradPtr + 4 * prog.spec.paramCount);
  arrays.forEach((a, i) => { for (const [role, arr] of Object.entries(a)) engine.f32(wbase + layout.offsets[i][role], arr.length).set(arr); });
  engine.f32(lrPtr, nLr).forEach((_, i, v) => { v[i] = rand(); });
  engine.f32(hrPtr, nHr).forEach((_, i, v) => { v[i] = rand(); });
  const handle = trainingHandle(prog.spec, wbase, layout.offsets);
  const job = { lrPtr, hrPtr, gradPtr, arenaPtr, loss: "l1" as const, lossScale: 1 / nHr, eps: 1e-3 };
  return {
    pass: (k = engine.kernels) => { imageGrad(k, engine.memory.buffer, prog.spec, handle, plan, job); },
    pack: () => { packAll(prog, params); },
  };
}

const cases = { direct: setup("direct"), winograd: setup("winograd") };
for (const c of Object.values(cases)) for (let i = 0; i < 3; i++) c.pass();
const perRound: Record<string, number[]> = {};
for (let round = 0; round < ROUNDS; round++) {
  const bench = new Bench({ time: TIME_MS, warmup: true, warmupIterations: 2, iterations: 5 });
  for (const [name, c] of Object.entries(cases)) bench.add(name, () => c.pass());
  await bench.run();
  for (const t of bench.tasks) {
    if (t.result.state !== "completed") throw new Error(`${t.name}: ${t.result.state}`);
    (perRound[t.name] ??= []).push(t.result.latency.p50!);
  }
}
const ms = Object.fromEntries(Object.entries(perRound).map(([k, v]) => [k, median(v)]));
console.log(`${ARCH} ×${SCALE}, one ${PATCH}×${PATCH} patch, forward + backward, one thread (${engine.shared.module.variant}); median of ${ROUNDS} round medians`);
for (const [k, v] of Object.entries(ms)) console.log(`  ${k.padEnd(9)} ${v.toFixed(1)} ms   rounds: ${perRound[k].map((x) => x.toFixed(1)).join(", ")}`);
console.log(`  winograd vs direct: ${(ms.direct / ms.winograd).toFixed(2)}×`);

// Phases of one pass: 3×3/1×1 conv calls before the loss kernel are the forward, after it the input
// gradients; the weight-gradient kernels; everything else. Plus packAll, which a step runs once on the
// main thread before the workers start. Medians of 10 passes each (timing each call adds ~1 µs).
const phases: Record<string, Record<string, number[]>> = {};
for (const [name, c] of Object.entries(cases)) {
  for (let r = 0; r < 10; r++) {
    const t = { forward: 0, "input gradient": 0, "weight gradient": 0, other: 0 };
    let backward = false;
    const timed = Object.fromEntries(Object.entries(engine.kernels).map(([kn, fn]) => [kn, (...a: number[]) => {
      const t0 = performance.now();
      const rc = (fn as (...a: number[]) => number)(...a);
      const dt = performance.now() - t0;
      if (kn.endsWith("_loss_f32")) backward = true;
      if (kn.includes("grad_weight")) t["weight gradient"] += dt;
      else if (kn === "conv2d_f32" || kn === "winograd_f23_f32") t[backward ? "input gradient" : "forward"] += dt;
      else t.other += dt;
      return rc;
    }])) as unknown as Kernels;
    c.pass(timed);
    const p0 = performance.now();
    c.pack();
    const row = { ...t, "pack (per step)": performance.now() - p0 };
    for (const [phase, ms] of Object.entries(row)) ((phases[name] ??= {})[phase] ??= []).push(ms);
  }
}
console.log("  phases (ms, medians of 10):");
for (const [name, ph] of Object.entries(phases)) console.log(`  ${name.padEnd(9)} ${Object.entries(ph).map(([k, v]) => `${k} ${median(v).toFixed(1)}`).join(", ")}`);
