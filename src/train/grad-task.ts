// SPDX-License-Identifier: MIT
// The unit of data-parallel training work and where it runs: a worker's share of the batch, each
// image's forward + backward (program.ts imageGrad) into that image's own gradient slot, on the
// calling thread or on a worker of a piscina pool of its own (grad-pool.ts). Tasks carry structure
// and pointers only; weights, patches, arenas and gradients stay in the one shared memory.
import type { Engine } from "../runtime/engine.js";
import type { Lease } from "../runtime/buffer-pool.js";
import type { NetworkHandle } from "../runtime/network.js";
import { imageGrad, type ImageJob, type ProgramSpec, type TrainPlan } from "./program.js";

export interface GradTask {
  spec: ProgramSpec;
  handle: NetworkHandle;
  plan: TrainPlan;
  /** Images run one after another in one arena (the jobs' arenaPtr). */
  jobs: ImageJob[];
  /** The arena's lease (the running thread marks itself as its user, for per-thread accounting). */
  arena: Lease;
}

export interface GradDone {
  /** Each image's summed loss, in job order. */
  losses: number[];
  /** Thread index that ran it (0 = the calling thread). */
  thread: number;
  ms: number;
}

export interface GradRunner {
  /** Tasks that may run at once. */
  readonly concurrency: number;
  run(task: GradTask): Promise<GradDone>;
  dispose(): Promise<void>;
}

/** Runs a task with this thread's kernels (workers and the inline runner alike). */
export function runGradTask(engine: Engine, task: GradTask): GradDone {
  const t0 = performance.now();
  engine.pool.setThread(task.arena, engine.thread);
  try {
    const losses = task.jobs.map((job) => imageGrad(engine.kernels, engine.memory.buffer, task.spec, task.handle, task.plan, job));
    return { losses, thread: engine.thread, ms: performance.now() - t0 };
  } finally {
    engine.pool.setThread(task.arena, 0);
  }
}

/** threads: 0 — every image on the calling thread. */
export class InlineGradRunner implements GradRunner {
  readonly concurrency = 1;
  constructor(private readonly engine: Engine) {}
  async run(task: GradTask): Promise<GradDone> {
    return runGradTask(this.engine, task);
  }
  async dispose(): Promise<void> {}
}
