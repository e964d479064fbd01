// SPDX-License-Identifier: MIT
// Node: piscina runs the tiles. Every worker gets the engine (shared memory + compiled module) through
// workerData and joins it once. piscina replaces a worker that dies; we then free its thread index.
// Aborting a running task makes piscina terminate that worker (a hard stop within one tile).
import { Piscina } from "piscina";
import type { Engine } from "../runtime/engine.js";
import type { TileRunner } from "../runtime/runner.js";
import type { TileDone, WorkerTask } from "../worker/protocol.js";
import { AbortError, WorkerError } from "../errors.js";

// Under tsx (tests from src/) the worker module is the .ts file next to this one.
const WORKER_URL = import.meta.url.endsWith(".ts")
  ? new URL("../worker/node-entry.ts", import.meta.url)
  : new URL("../worker/node-entry.js", import.meta.url);

export class NodePool implements TileRunner {
  private constructor(private readonly piscina: Piscina, readonly concurrency: number) {}

  static async create(engine: Engine, threads: number): Promise<NodePool> {
    const piscina = new Piscina({
      filename: WORKER_URL.href,
      minThreads: threads,
      maxThreads: threads,
      concurrentTasksPerWorker: 1,
      idleTimeout: 2 ** 31 - 1,
      workerData: { shared: engine.shared },
    });
    piscina.on("workerDestroy", (w: { id: number }) => engine.releaseThreadSlot(w.id));
    // A worker's own uncaught error is reported on its task; keep the pool's emitter from throwing.
    piscina.on("error", () => {});
    return new NodePool(piscina, threads);
  }

  async run(task: WorkerTask, signal?: AbortSignal): Promise<TileDone> {
    try {
      return await this.piscina.run(task, { signal });
    } catch (err) {
      if (signal?.aborted) throw new AbortError(signal.reason);
      if ((err as { code?: string }).code) throw err; // our own typed error, thrown inside the worker
      throw new WorkerError(`a worker failed while running a tile: ${(err as Error).message}`, { cause: err });
    }
  }

  async dispose(): Promise<void> {
    await this.piscina.destroy();
  }
}
