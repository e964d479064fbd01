// SPDX-License-Identifier: MIT
// Node: a piscina pool of training workers on the engine's shared memory (separate from the tile
// pool, whose task protocol it leaves alone). A worker that dies is replaced by piscina and its thread
// index freed; its image fails with WorkerError and the step is not applied.
import type { Piscina } from "piscina";
import type { Engine } from "../runtime/engine.js";
import { enginePiscina } from "../platform/pool-node.js";
import { WorkerError } from "../errors.js";
import type { GradDone, GradRunner, GradTask } from "./grad-task.js";

// Under tsx (tests from src/) the worker module is the .ts file next to this one.
const WORKER_URL = import.meta.url.endsWith(".ts") ? new URL("./train-worker.ts", import.meta.url) : new URL("./train-worker.js", import.meta.url);

export class GradPool implements GradRunner {
  private constructor(private readonly piscina: Piscina, readonly concurrency: number) {}

  static create(engine: Engine, threads: number): GradPool {
    return new GradPool(enginePiscina(engine, threads, WORKER_URL), threads);
  }

  async run(task: GradTask): Promise<GradDone> {
    try {
      return await this.piscina.run(task);
    } catch (err) {
      if ((err as { code?: string }).code) throw err;
      throw new WorkerError(`a training worker failed: ${(err as Error).message}`, { cause: err });
    }
  }

  async dispose(): Promise<void> {
    await this.piscina.destroy();
  }
}
