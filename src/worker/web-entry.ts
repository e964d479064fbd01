// SPDX-License-Identifier: MIT
// Module Web Worker entry (browsers, Deno): the same TileWorker, driven by the typed messages of
// protocol.ts. It imports nothing outside this package, so it loads unbundled from any static host
// (workers see no import map). An init failure is reported as an error for task id 0.
import { TileWorker } from "./tile-worker.js";
import type { FromWorker, ToWorker } from "./protocol.js";

let worker: TileWorker | undefined;
const post = (m: FromWorker) => (globalThis as unknown as { postMessage(m: FromWorker): void }).postMessage(m);
const describe = (err: unknown) => {
  const { name, message, code } = (err ?? {}) as { name?: string; message?: string; code?: string };
  return { name: name ?? "Error", message: message ?? String(err), code };
};

(globalThis as unknown as { onmessage: (e: MessageEvent<ToWorker>) => void }).onmessage = (e) => {
  const msg = e.data;
  if (msg.type === "init") {
    try {
      worker = new TileWorker(msg.shared, msg.workerId);
      post({ type: "ready", thread: worker.engine.thread });
    } catch (err) {
      post({ type: "error", id: 0, error: describe(err) });
    }
    return;
  }
  try {
    if (!worker) throw new Error("task before init");
    post({ type: "done", id: msg.id, result: worker.run(msg.task) });
  } catch (err) {
    post({ type: "error", id: msg.id, error: describe(err) });
  }
};
