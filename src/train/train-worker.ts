// SPDX-License-Identifier: MIT
// piscina task module of the training pool: joins the engine once per worker (own kernel instance,
// same shared memory), then computes one image's gradients per task.
import { threadId, workerData } from "node:worker_threads";
import { Engine, type EngineShared } from "../runtime/engine.js";
import { runGradTask, type GradDone, type GradTask } from "./grad-task.js";

const engine = Engine.join((workerData as { shared: EngineShared }).shared, threadId);

export default function run(task: GradTask): GradDone {
  return runGradTask(engine, task);
}
