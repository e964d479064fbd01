// SPDX-License-Identifier: MIT
// Picks the worker pool for this platform: piscina on Node's worker_threads, module Web Workers in
// browsers and Deno. Both run TileWorker on the engine's one shared memory.
import type { Engine } from "../runtime/engine.js";
import type { TileRunner } from "../runtime/runner.js";

export async function createPool(engine: Engine, threads: number): Promise<TileRunner> {
  const isNode = typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === "string"
    && typeof (globalThis as { Deno?: unknown }).Deno === "undefined";
  if (isNode) {
    const { NodePool } = await import("./pool-node.js");
    return NodePool.create(engine, threads);
  }
  const { WebPool } = await import("./pool-web.js");
  return WebPool.create(engine, threads);
}
