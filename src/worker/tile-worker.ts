// SPDX-License-Identifier: MIT
// What every worker does, whatever starts it (piscina in Node, a module Web Worker elsewhere): join the
// engine once (own kernel instance, same memory), then run tiles.
import { Engine, type EngineShared } from "../runtime/engine.js";
import { runTile } from "../runtime/tile-task.js";
import type { TileDone, TileTask } from "./protocol.js";

export class TileWorker {
  readonly engine: Engine;
  constructor(shared: EngineShared, workerId: number) {
    this.engine = Engine.join(shared, workerId);
  }

  run(task: TileTask): TileDone {
    const t0 = performance.now();
    const { pool, kernels, thread } = this.engine;
    pool.setThread(task.lease, thread);
    try {
      runTile(kernels, task.net, task.alphaNet, task.job);
    } finally {
      pool.setThread(task.lease, 0);
    }
    return { thread, ms: performance.now() - t0 };
  }
}
