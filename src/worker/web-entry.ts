// SPDX-License-Identifier: MIT
// Module Web Worker entry (browsers, Deno): the same TileWorker, driven by the typed messages of
// protocol.ts. It imports nothing outside this package, so it loads unbundled from any static host
// (workers see no import map). An init failure is reported as an error for task id 0.
// The same script hosts the WebGL runner in a worker (messages "gl-…", loaded on the first of them), so
// an app that bundles or relocates it (configureAssets({ workerUrl })) has one worker file for both.
import { TileWorker } from "./tile-worker.js";
import { tileBuffers } from "../runtime/tile-task.js";
import type { FromWorker, ToWorker } from "./protocol.js";
import type { ToGlWorker } from "../backends/webgl/worker-protocol.js";

let worker: TileWorker | undefined;
/** This worker's own memory, when the page could not share the engine's ("init-private"). */
let own: Uint8Array | undefined;
const post = (m: FromWorker, transfer: Transferable[] = []) => (globalThis as unknown as { postMessage(m: FromWorker, t: Transferable[]): void }).postMessage(m, transfer);
const describe = (err: unknown) => {
  const { name, message, code } = (err ?? {}) as { name?: string; message?: string; code?: string };
  return { name: name ?? "Error", message: message ?? String(err), code };
};

let webgl: Promise<typeof import("../backends/webgl/worker-entry.js")> | undefined;
const isGl = (m: ToWorker | ToGlWorker): m is ToGlWorker => m.type.startsWith("gl-");

(globalThis as unknown as { onmessage: (e: MessageEvent<ToWorker | ToGlWorker>) => void }).onmessage = (e) => {
  const msg = e.data;
  if (isGl(msg)) {
    // Handlers of one promise run in the order they were added: messages keep their order.
    (webgl ??= import("../backends/webgl/worker-entry.js")).then((m) => m.handleGlMessage(msg),
      (err) => (globalThis as unknown as { postMessage(m: unknown): void }).postMessage({ type: "gl-error", id: 0, error: describe(err) }));
    return;
  }
  if (msg.type === "init") {
    try {
      worker = new TileWorker(msg.shared, msg.workerId);
      post({ type: "ready", thread: worker.engine.thread });
    } catch (err) {
      post({ type: "error", id: 0, error: describe(err) });
    }
    return;
  }
  if (msg.type === "init-private") {
    try {
      // A page that is not cross-origin isolated may create a shared memory (Chromium), only not post one.
      const memory = new WebAssembly.Memory({ initial: msg.pages, maximum: msg.pages, shared: true });
      own = new Uint8Array(memory.buffer);
      for (const r of msg.regions) own.set(r.bytes, r.ptr);
      worker = new TileWorker({ memory, module: msg.module, layout: msg.layout }, msg.workerId, true);
      post({ type: "ready", thread: worker.engine.thread });
    } catch (err) {
      post({ type: "error", id: 0, error: describe(err) });
    }
    return;
  }
  try {
    if (!worker) throw new Error("task before init");
    const { task, input } = msg;
    if (!own || task.kind !== "tile" || !input) {
      post({ type: "done", id: msg.id, result: worker.run(task) });
      return;
    }
    const buffers = tileBuffers(task.job, task.net.scale);
    own.set(input, buffers.input[0]);
    const result = worker.run(task);
    const output = own.slice(buffers.output[0], buffers.output[0] + buffers.output[1]);
    post({ type: "done", id: msg.id, result, output }, [output.buffer]);
  } catch (err) {
    post({ type: "error", id: msg.id, error: describe(err) });
  }
};
