// SPDX-License-Identifier: MIT
// Where tiles run. The scheduler (api/upscaler.ts) only sees this interface: the in-thread runner below
// for threads: 0, and the worker pools (platform/pool-node.ts, platform/pool-web.ts) for threads on
// the same memory.
import type { Engine } from "./engine.js";
import { runTile } from "./tile-task.js";
import { runStepWasm } from "./executor.js";
import type { TileDone, WorkerTask } from "../worker/protocol.js";

export interface TileRunner {
  /** Tiles that may be in flight at once (the number of threads). */
  readonly concurrency: number;
  /**
   * Runs one task. There is no abort here on purpose: a task is at most one tile or one band, and the
   * scheduler checks its signal between tasks, so a job stops within one tile and no thread is ever
   * killed while it may still write into memory that is being handed back.
   */
  run(task: WorkerTask): Promise<TileDone>;
  dispose(): Promise<void>;
}

/** Runs tiles synchronously on the calling thread with its own kernel instance. */
export class InlineRunner implements TileRunner {
  readonly concurrency = 1;
  constructor(private readonly engine: Engine) {}
  async run(task: WorkerTask): Promise<TileDone> {
    // Return to the event loop before each task, so an abort (Ctrl-C, a UI button) is seen between tiles.
    await new Promise<void>((resolve) => setTimeout(resolve, 0));
    const t0 = performance.now();
    if (task.kind === "tile") runTile(this.engine.kernels, task.net, task.alphaNet, task.job);
    else runStepWasm(this.engine.kernels, task.net, task.step, task.arenaPtr, task.y0, task.y1);
    return { thread: 0, ms: performance.now() - t0 };
  }
  async dispose(): Promise<void> {}
}
