// SPDX-License-Identifier: MIT
// Node: piscina runs the tiles. Every worker gets the engine (shared memory + compiled module) through
// workerData and joins it once. piscina replaces a worker that dies; we then free its thread index.
// Aborts are handled by the scheduler between tiles, never by killing a running worker: piscina
// rejects an aborted task before its worker has stopped, and the tile's lease would then be freed
// while a dying thread could still write into it.
import { Piscina } from "piscina";
import type { Engine } from "../runtime/engine.js";
import type { TileRunner } from "../runtime/runner.js";
import type { TileDone, WorkerTask } from "../worker/protocol.js";
import { WorkerError } from "../errors.js";

// Under tsx (tests from src/) the worker module is the .ts file next to this one.
const WORKER_URL = import.meta.url.endsWith(".ts")
  ? new URL("../worker/node-entry.ts", import.meta.url)
  : new URL("../worker/node-entry.js", import.meta.url);

/**
 * A fixed-size piscina pool whose workers join `engine` (they receive its shared memory and compiled
 * module as workerData). piscina replaces a worker that dies; its thread index is then freed here.
 */
export function enginePiscina(engine: Engine, threads: number, workerModule: URL): Piscina {
  const piscina = new Piscina({
    filename: workerModule.href,
    minThreads: threads,
    maxThreads: threads,
    concurrentTasksPerWorker: 1,
    idleTimeout: 2 ** 31 - 1,
    workerData: { shared: engine.shared },
  });
  piscina.on("workerDestroy", (w: { id: number }) => engine.releaseThreadSlot(w.id));
  // A worker's own uncaught error is reported on its task; keep the pool's emitter from throwing.
  piscina.on("error", () => {});
  return piscina;
}

export class NodePool implements TileRunner {
  private constructor(private readonly piscina: Piscina, readonly concurrency: number) {}

  static async create(engine: Engine, threads: number): Promise<NodePool> {
    return new NodePool(enginePiscina(engine, threads, WORKER_URL), threads);
  }

  async run(task: WorkerTask): Promise<TileDone> {
    try {
      return await this.piscina.run(task);
    } catch (err) {
      if ((err as { code?: string }).code) throw err; // our own typed error, thrown inside the worker
      throw new WorkerError(`a worker failed while running a tile: ${(err as Error).message}`, { cause: err });
    }
  }

  async dispose(): Promise<void> {
    await this.piscina.destroy();
  }
}
