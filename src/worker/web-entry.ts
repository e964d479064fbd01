// SPDX-License-Identifier: MIT
// Module Web Worker entry (browsers, Deno): the same TileWorker, driven by the typed messages of protocol.ts.
import { TileWorker } from "./tile-worker.js";
import type { FromWorker, ToWorker } from "./protocol.js";

let worker: TileWorker | undefined;
const post = (m: FromWorker) => (globalThis as unknown as { postMessage(m: FromWorker): void }).postMessage(m);

(globalThis as unknown as { onmessage: (e: MessageEvent<ToWorker>) => void }).onmessage = (e) => {
  const msg = e.data;
  if (msg.type === "init") {
    worker = new TileWorker(msg.shared, msg.workerId);
    post({ type: "ready", thread: worker.engine.thread });
    return;
  }
  try {
    post({ type: "done", id: msg.id, result: worker!.run(msg.task) });
  } catch (err) {
    const { name, message, code } = err as { name: string; message: string; code?: string };
    post({ type: "error", id: msg.id, error: { name, message, code } });
  }
};
