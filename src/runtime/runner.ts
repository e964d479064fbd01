// SPDX-License-Identifier: MIT
// Where tiles run. The wasm backend (./wasm-backend.ts) only sees this interface: the in-thread runner below
// for threads: 0, and the worker pools (platform/pool-node.ts, platform/pool-web.ts) for threads on
// the same memory.
import type { Engine } from "./engine.js";
import { runTask } from "../worker/run-task.js";
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
    runTask(this.engine.kernels, task);
    return { thread: 0, ms: performance.now() - t0 };
  }
  async dispose(): Promise<void> {}
}

/**
 * A runner whose threads start on first use: the WebGL backend needs them only when a job falls back to
 * wasm (context loss, or 'auto' past the GPU's limits). `concurrency` is 0 until then, so call ready()
 * before planning a job on it.
 */
export class DeferredRunner implements TileRunner {
  private inner: TileRunner | null = null;
  private starting: Promise<TileRunner> | null = null;
  constructor(private readonly start: () => Promise<TileRunner>) {}
  get concurrency(): number {
    return this.inner?.concurrency ?? 0;
  }
  async ready(): Promise<void> {
    this.starting ??= this.start();
    try {
      this.inner ??= await this.starting;
    } catch (e) {
      this.starting = null; // let a later job try again
      throw e;
    }
  }
  async run(task: WorkerTask): Promise<TileDone> {
    await this.ready();
    return this.inner!.run(task);
  }
  async dispose(): Promise<void> {
    const inner = this.inner ?? await this.starting?.catch(() => null);
    await inner?.dispose();
  }
}
