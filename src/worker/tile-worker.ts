// SPDX-License-Identifier: MIT
// What every worker does, whatever starts it (piscina in Node, a module Web Worker elsewhere): join the
// engine once (own kernel instance, same memory), then run tiles.
import { Engine, type EngineShared } from "../runtime/engine.js";
import { runTask } from "./run-task.js";
import type { TileDone, WorkerTask } from "./protocol.js";

export class TileWorker {
  readonly engine: Engine;
  /** `ownMemory`: a copy of the engine's layout, not the engine's memory (see protocol.ts "init-private"). */
  constructor(shared: EngineShared, workerId: number, private readonly ownMemory = false) {
    this.engine = Engine.join(shared, workerId);
  }

  run(task: WorkerTask): TileDone {
    const t0 = performance.now();
    const { pool, kernels, thread } = this.engine;
    // Own memory holds no copy of the pool's tables: the scheduler's thread keeps the accounts.
    if (!this.ownMemory) pool.setThread(task.lease, thread);
    try {
      runTask(kernels, task);
    } finally {
      if (!this.ownMemory) pool.setThread(task.lease, 0);
    }
    return { thread, ms: performance.now() - t0 };
  }
}
