// SPDX-License-Identifier: MIT
// One task of the worker protocol, run on the calling thread: by a worker, or by the scheduler's thread
// when it has none (threads: 0, or a page whose workers cannot share memory).
import type { Kernels } from "../backends/wasm/abi.js";
import { runNodeWasm } from "../runtime/executor.js";
import { runTile, tileOutput } from "../runtime/tile-task.js";
import type { WorkerTask } from "./protocol.js";

export function runTask(k: Kernels, task: WorkerTask): void {
  switch (task.kind) {
    case "tile": return runTile(k, task.net, task.alphaNet, task.job);
    case "band": return runNodeWasm(k, task.node, task.packed, task.step, task.arenaPtr, task.y0, task.y1, task.band);
    case "output": return tileOutput(k, task.scale, task.job, task.y0, task.y1);
  }
}
