// SPDX-License-Identifier: MIT
// The training loop. Each step draws a batch of patch pairs, packs the current weights into the shared
// memory, has the workers compute every image's gradient into that image's own slot, sums the slots
// in image order, and applies Adam with the scheduled learning rate. Because every image's gradient
// is computed alone and the sum runs in a fixed order, a seed gives bit-identical weights whatever the
// thread count, and a resumed checkpoint continues the exact trajectory.
import { AbortError, SrganError, WorkerError } from "../errors.js";
import { validateGraph } from "../model/graph.js";
import type { Rgb8Image, RgbaImage } from "../image/rgba.js";
import type { Engine } from "../runtime/engine.js";
import { prepareNetwork } from "../runtime/network.js";
import { planExecution } from "../runtime/plan.js";
import { runPlanWasm } from "../runtime/executor.js";
import { psnr } from "../metrics/quality.js";
import { writeBytesAtomic } from "../platform/files.js";
import { flattenParams, graphWithParams, packAll, trainingHandle, type TrainProgram } from "./program.js";
import { adamStep, learningRate, type Schedule } from "./optim.js";
import type { Pair } from "./data.js";
import { encodeCheckpoint, type Checkpoint, type HistoryEntry } from "./checkpoint.js";
import { Rng, deriveSeed } from "./rng.js";
import type { TrainOptions, TrainResult } from "./options.js";
import type { RunPlan, Session } from "./session.js";

/** Runs the plan's remaining steps on the session; resolves with the trained network. */
export async function runLoop(session: Session, plan: RunPlan, o: TrainOptions): Promise<TrainResult> {
  const { engine, prog, runner, imagePlan, buffers: buf } = session;
  const { run, resumed, graph, sampler, valPairs, loop: every } = plan;
  const { spec } = prog;
  const k = engine.kernels;
  const P = spec.paramCount, B = run.batchSize, s = run.scale;

  const params = engine.f32(buf.p, P);
  if (resumed) {
    params.set(resumed.params);
    engine.f32(buf.m, P).set(resumed.m);
    engine.f32(buf.v, P).set(resumed.v);
  } else {
    flattenParams(spec, graph.weights, params);
    engine.f32(buf.m, P).fill(0);
    engine.f32(buf.v, P).fill(0);
  }
  // With training branches the kernels are packed from their folded sums (reparam.ts).
  const fold = buf.fold;
  const packParams = () => {
    if (!fold) return packAll(prog, params);
    fold.folder.foldWasm(engine, buf.p, fold.effective);
    return packAll(prog, engine.f32(fold.effective, P));
  };
  const handle = trainingHandle(spec, buf.weights.ptr, buf.offsets);
  const nLr = run.patchSize * run.patchSize * 3, nHr = nLr * s * s;

  const rng = new Rng(deriveSeed(run.seed, 1));
  if (resumed) rng.setState(resumed.rngState);
  const schedule: Schedule = { lr: run.lr, minLr: run.minLr, warmupSteps: run.warmupSteps, steps: run.steps };
  const history: HistoryEntry[] = resumed ? [...resumed.history] : [];
  let step = resumed?.step ?? 0;
  const priorMs = resumed?.elapsedMs ?? 0;
  const t0 = performance.now();
  const recent: number[] = [];
  let windowLoss = 0, windowSteps = 0, lastLoss = NaN, lastVal: number | undefined;

  // The generator's state after the draws of the completed steps: what a checkpoint stores (the
  // batch drawn ahead is drawn again, from that state, by a resumed run).
  let rngAtStep = rng.state;
  const snapshot = (): Checkpoint => ({
    step, rngState: rngAtStep, paramCount: P,
    graph: {
      name: graph.name, scale: graph.scale, channels: graph.channels, input: graph.input, output: graph.output, nodes: graph.nodes, meta: graph.meta,
      weights: Object.values(spec.params).map(({ name, shape, offset, length }) => ({ name, shape, offset, length })),
    },
    options: run as unknown as Record<string, unknown>,
    elapsedMs: priorMs + performance.now() - t0,
    history,
    params: params.slice(), m: engine.f32(buf.m, P).slice(), v: engine.f32(buf.v, P).slice(),
  });
  const saveCheckpoint = async (): Promise<string | undefined> => {
    if (!o.checkpoint) return undefined;
    await writeBytesAtomic(o.checkpoint, encodeCheckpoint(snapshot()));
    return o.checkpoint;
  };

  const drawBatch = async (set: number): Promise<number> => {
    await sampler.drawBatch(rng, buf.patchSets[set].map((slot) => ({ lr: engine.f32(slot.lrPtr, nLr), hr: engine.f32(slot.hrPtr, nHr) })));
    return rng.state;
  };
  let set = 0;
  let drawnState = await drawBatch(set);
  while (step < run.steps) {
    if (o.signal?.aborted) {
      await saveCheckpoint();
      throw new AbortError(o.signal.reason);
    }
    const ts = performance.now();
    step++;
    const arrays = packParams();
    arrays.forEach((a, i) => { for (const [role, arr] of Object.entries(a)) engine.f32(buf.weights.ptr + buf.offsets[i][role], arr.length).set(arr); });

    const patches = buf.patchSets[set];
    const lossScale = 1 / (B * nHr);
    const done = Promise.all(buf.shares.map(([a, b], c) => {
      const task = {
        spec, handle, plan: imagePlan, arena: buf.arenas[c],
        jobs: patches.slice(a, b).map((pt, j) => ({ ...pt, gradPtr: buf.gradPtrs[a + j], arenaPtr: buf.arenas[c].ptr, loss: run.loss, lossScale, eps: run.charbonnierEps })),
      };
      // A worker that died has been replaced and the share's inputs are untouched: run it once more
      // (the result is the same bits as a first run would have given).
      return runner.run(task).catch((e: unknown) => (e instanceof WorkerError ? runner.run(task) : Promise.reject(e)));
    }));
    // Draw the next batch while the workers run this one (same draws, same order as without overlap).
    const nextState = step < run.steps ? await drawBatch(1 - set) : drawnState;
    const losses = (await done).flatMap((d) => d.losses);
    rngAtStep = drawnState;
    drawnState = nextState;
    set = 1 - set;

    // Sum the images' gradients in image order: the same bits whatever thread computed which.
    engine.f32(buf.g, P).set(engine.f32(buf.gradPtrs[0], P));
    for (let i = 1; i < B; i++) k.add_f32(buf.g, buf.gradPtrs[i], buf.g, 0, P);
    fold?.folder.chainWasm(engine, buf.p, buf.g, fold.scratch);
    const lr = learningRate(step, schedule);
    adamStep(k, buf, P, step, lr, run.adam);

    let lossSum = 0;
    for (let i = 0; i < B; i++) lossSum += losses[i];
    lastLoss = lossSum / (B * nHr);
    if (!Number.isFinite(lastLoss)) throw new SrganError("ERR_KERNEL", `training diverged at step ${step} (loss ${lastLoss}); lower options.lr (now ${run.lr})`);
    windowLoss += lastLoss;
    windowSteps++;
    recent.push(performance.now() - ts);
    if (recent.length > 20) recent.shift();

    const last = step === run.steps;
    let valPsnr: number | undefined;
    if (valPairs.length > 0 && every.valEvery > 0 && (step % every.valEvery === 0 || last)) {
      valPsnr = lastVal = validate(engine, prog, params, valPairs, s);
    }
    let checkpoint: string | undefined;
    if (step % every.checkpointEvery === 0 || last) checkpoint = await saveCheckpoint();
    if (step % every.logEvery === 0 || last || valPsnr !== undefined) {
      const stepMs = recent.reduce((a, b) => a + b, 0) / recent.length;
      const entry: HistoryEntry = { step, loss: windowLoss / windowSteps, lr };
      if (valPsnr !== undefined) entry.valPsnr = valPsnr;
      history.push(entry);
      o.onProgress?.({
        step, steps: run.steps, loss: entry.loss, lr, imagesPerSecond: (1000 * B) / stepMs, stepMs,
        elapsedSeconds: (priorMs + performance.now() - t0) / 1000, etaSeconds: ((run.steps - step) * stepMs) / 1000, valPsnr, checkpoint,
      });
      windowLoss = 0;
      windowSteps = 0;
    }
  }

  const seconds = (priorMs + performance.now() - t0) / 1000;
  const trained = graphWithParams(prog, params, {
    training: {
      arch: run.arch, scale: s, steps: run.steps, batchSize: B, patchSize: run.patchSize, lr: run.lr, minLr: run.minLr, warmupSteps: run.warmupSteps,
      loss: run.loss, degradation: run.degradation, augment: run.augment, reparam: run.reparam, scaleAugment: run.scaleAugment, seed: run.seed, images: run.dataNames.length,
      finalLoss: lastLoss, valPsnr: lastVal, valImages: run.valNames, seconds: Math.round(seconds), wasmVariant: engine.shared.module.variant,
    },
  });
  return { graph: trained, step, loss: lastLoss, valPsnr: lastVal, history, seconds, threads: runner.concurrency, wasmVariant: engine.shared.module.variant };
}

/** An opaque RGBA copy of RGB8 pixels. */
const toRgba = (img: Rgb8Image): RgbaImage => {
  const n = img.width * img.height, data = new Uint8ClampedArray(4 * n);
  for (let i = 0; i < n; i++) { data.set(img.data.subarray(3 * i, 3 * i + 3), 4 * i); data[4 * i + 3] = 255; }
  return { data, width: img.width, height: img.height };
};

/**
 * Mean PSNR (BT.601 Y, `scale` pixels shaved, 8-bit output) of the current weights on the validation
 * pairs, through the inference path itself (fused activations, planExecution, runPlanWasm).
 */
function validate(engine: Engine, prog: TrainProgram, params: Float32Array, pairs: Pair[], scale: number): number {
  const g = validateGraph(graphWithParams(prog, params));
  const net = prepareNetwork(engine, g);
  let sum = 0;
  try {
    for (const p of pairs) {
      const { width: w, height: h } = p.lr;
      const plan = planExecution(g, h, w);
      const outPixels = w * scale * h * scale;
      const lease = engine.pool.lease(plan.arenaBytes + 4 * Math.max(outPixels, w * h) + 64);
      try {
        // Bytes in and out through the colour kernels, exactly as an upscaler tile does.
        const rgbaPtr = lease.ptr + plan.arenaBytes;
        engine.u8(rgbaPtr, 4 * w * h).set(toRgba(p.lr).data);
        engine.kernels.rgba8_to_f32(rgbaPtr, lease.ptr + plan.input.offset, 0, 0, w * h);
        runPlanWasm(engine.kernels, net.handle, plan, lease.ptr);
        engine.kernels.f32_to_rgba8(lease.ptr + plan.output.offset, 0, rgbaPtr, 0, outPixels);
        const sr = { data: new Uint8ClampedArray(engine.u8(rgbaPtr, 4 * outPixels)), width: w * scale, height: h * scale };
        sum += psnr(toRgba(p.hr), sr, { y: true, shave: scale });
      } finally {
        engine.pool.release(lease);
      }
    }
  } finally {
    engine.pool.release(net.weightsLease);
  }
  return sum / pairs.length;
}
