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
  /** Runs one task; rejects with AbortError if `signal` fires first (a running task's worker is replaced). */
  run(task: WorkerTask, signal?: AbortSignal): Promise<TileDone>;
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
