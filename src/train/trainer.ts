// SPDX-License-Identifier: MIT
// train(): checks the options (options.ts), plans the run and leases its memory (session.ts), runs the
// steps (loop.ts). Node only (reads folders, writes checkpoints, runs piscina).
import { planRun, Session } from "./session.js";
import { runLoop } from "./loop.js";
import type { TrainOptions, TrainResult } from "./options.js";

export type { TrainOptions, TrainProgress, TrainResult, ValidationOptions } from "./options.js";

/**
 * Trains a network. Resolves with the trained graph; save it with encodeNetwork() and run it with
 * createUpscaler({ model: graph }).
 * @example
 * const { graph } = await train({ data: "photos/", scale: 4, arch: "natural-fast", steps: 20000, checkpoint: "run.ckpt" });
 * await fs.writeFile("natural-fast.srnet", encodeNetwork(graph));
 */
export async function train(o: TrainOptions): Promise<TrainResult> {
  if (!o || typeof o !== "object") throw new TypeError("train(options): options must be an object");
  const plan = await planRun(o);
  const session = await Session.open(plan, o.memoryLimit, o.wasmVariant ?? "auto");
  try {
    return await runLoop(session, plan, o);
  } finally {
    await session.close();
  }
}
