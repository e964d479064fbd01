// SPDX-License-Identifier: MIT
// piscina's task module: one TileWorker per worker thread, created from workerData at start-up.
import { threadId, workerData } from "node:worker_threads";
import type { EngineShared } from "../runtime/engine.js";
import { TileWorker } from "./tile-worker.js";
import type { TileDone, WorkerTask } from "./protocol.js";

const worker = new TileWorker((workerData as { shared: EngineShared }).shared, threadId);

export default function runTask(task: WorkerTask): TileDone {
  return worker.run(task);
}
