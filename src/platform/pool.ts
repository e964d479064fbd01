// SPDX-License-Identifier: MIT
// Picks the worker pool for this platform: piscina on Node's worker_threads, module Web Workers in
// browsers and Deno. Both run TileWorker on the engine's one shared memory. Where workers cannot
// share it (a page without cross-origin isolation) tiles run on the calling thread after one warning.
import type { Engine } from "../runtime/engine.js";
import type { Lease } from "../runtime/buffer-pool.js";
import { InlineRunner, type TileRunner } from "../runtime/runner.js";
import { warnOnce, webThreadsBlocker, type WarningHandler } from "./web-threads.js";
import { isNode } from "./features.js";

export interface PoolOptions {
  /** Told when threads were asked for but cannot run here; default: console.warn once per code. */
  onWarning?: WarningHandler;
  /** What a worker with its own memory must copy from the engine's (the networks' weights). */
  weights?: Lease[];
}

export async function createPool(engine: Engine, threads: number, options: PoolOptions = {}): Promise<TileRunner> {
  if (isNode()) {
    const { NodePool } = await import("./pool-node.js");
    return NodePool.create(engine, threads);
  }
  const blocker = webThreadsBlocker();
  if (!blocker) return (await import("./pool-web.js")).WebPool.create(engine, threads);
  (options.onWarning ?? warnOnce)(blocker);
  if (blocker.code === "ERR_NO_COI" && options.weights) {
    // One worker with its own memory keeps the page responsive; where the browser refuses that memory
    // too (shared memory without isolation), the tiles run on this thread.
    try {
      return await (await import("./pool-web.js")).WebPool.create(engine, 1, { regions: options.weights });
    } catch {
      // The worker could not start or was refused its memory: the warning above already told the fix.
    }
  }
  return new InlineRunner(engine);
}
