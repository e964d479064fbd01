// SPDX-License-Identifier: MIT
// The messages between the scheduler and its workers. Tasks are self-contained (network structure and
// weight pointers travel with each tile, the weights themselves stay in the shared memory), so a
// replacement worker needs nothing but the engine to pick up where a dead one stopped.
import type { EngineShared } from "../runtime/engine.js";
import type { KernelModule } from "../backends/wasm/module.js";
import type { PoolLayout } from "../runtime/buffer-pool.js";
import type { NetworkHandle } from "../runtime/network.js";
import type { TileJob } from "../runtime/tile-task.js";
import type { Lease } from "../runtime/buffer-pool.js";
import type { PlanStep } from "../runtime/plan.js";
import type { GraphNode } from "../model/types.js";

export interface TileTask {
  kind: "tile";
  net: NetworkHandle;
  alphaNet: NetworkHandle | null;
  job: TileJob;
  /** The lease holding the tile's buffers (the worker marks itself as its user while it runs). */
  lease: Lease;
}

/**
 * Output rows [y0, y1) of one step of a whole-image plan (layer-major execution of networks with
 * whole-image statistics: every thread takes a band of every layer, the scheduler waits in between).
 */
export interface BandTask {
  kind: "band";
  /** The step's node and packed weight pointers only: a band task is posted per thread per layer, and the whole network handle made posting it cost more than some bands. */
  node: GraphNode;
  packed: Record<string, number>;
  step: PlanStep;
  arenaPtr: number;
  y0: number;
  y1: number;
  /** Which of the plan's scratch regions this band uses: bands of one step run at once. */
  band: number;
  lease: Lease;
}

/**
 * Output rows [y0, y1) of a layer-major tile, converted to RGBA8 at job.outPtr: the last step of a
 * band run, split like the layers so no thread converts the whole output alone.
 */
export interface OutputBandTask {
  kind: "output";
  job: TileJob;
  scale: number;
  y0: number;
  y1: number;
  lease: Lease;
}

export type WorkerTask = TileTask | BandTask | OutputBandTask;

export interface TileDone {
  /** Thread index of the worker that ran the tile. */
  thread: number;
  ms: number;
}

/**
 * Workers that are not piscina's (browsers, Deno) speak this. "init-private" starts a worker on a page
 * that cannot share memory (no cross-origin isolation): it makes its own memory with the engine's layout,
 * holding copies of `regions` (the weights), and each tile's input and output travel with its messages.
 */
export type ToWorker =
  | { type: "init"; shared: EngineShared; workerId: number }
  | { type: "init-private"; module: KernelModule; pages: number; layout: PoolLayout; regions: Array<{ ptr: number; bytes: Uint8Array }>; workerId: number }
  | { type: "task"; id: number; task: WorkerTask; input?: Uint8Array };

export type FromWorker =
  | { type: "ready"; thread: number }
  | { type: "done"; id: number; result: TileDone; output?: Uint8Array }
  | { type: "error"; id: number; error: { name: string; code?: string; message: string } };
