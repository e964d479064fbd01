// SPDX-License-Identifier: MIT
// Where tiles run. The scheduler (api/upscaler.ts) only sees this interface: the in-thread runner below
// for threads: 0, and the worker pool (platform/pool-*.ts) for real threads on the same memory.
import type { Engine } from "./engine.js";
import type { NetworkHandle } from "./network.js";
import { runTile, type TileJob } from "./tile-task.js";

export interface TileRunner {
  /** Tiles that may be in flight at once. */
  readonly concurrency: number;
  /** Makes a prepared network known to every thread; returns its id for run(). */
  register(net: NetworkHandle): Promise<number>;
  unregister(id: number): Promise<void>;
  run(netId: number, alphaNetId: number | null, job: TileJob, signal?: AbortSignal): Promise<void>;
  dispose(): Promise<void>;
}

/** Runs tiles synchronously on the calling thread with its own kernel instance. */
export class InlineRunner implements TileRunner {
  readonly concurrency = 1;
  private readonly nets = new Map<number, NetworkHandle>();
  private nextId = 1;
  constructor(private readonly engine: Engine) {}
  async register(net: NetworkHandle): Promise<number> {
    this.nets.set(this.nextId, net);
    return this.nextId++;
  }
  async unregister(id: number): Promise<void> {
    this.nets.delete(id);
  }
  async run(netId: number, alphaNetId: number | null, job: TileJob): Promise<void> {
    runTile(this.engine.kernels, this.nets.get(netId)!, alphaNetId === null ? null : this.nets.get(alphaNetId)!, job);
  }
  async dispose(): Promise<void> {
    this.nets.clear();
  }
}
