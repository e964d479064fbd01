// SPDX-License-Identifier: MIT
// The worker's side of WebGL in a worker: one WebglRunner on an OffscreenCanvas of this worker, driven
// by the messages of ./worker-protocol.ts (src/worker/web-entry.ts hands them over). Jobs run here as on
// a page, node by node with the GPU paced, so an abort message is seen between two polls of a fence.
import { createWebglRunner, type WebglRunner } from "./index.js";
import { postedError, type FromGlWorker, type ToGlWorker } from "./worker-protocol.js";

let runner: WebglRunner | undefined;
let canvas: OffscreenCanvas | undefined;
/** The running and queued jobs, by id, so that "gl-abort" reaches their signal. */
const jobs = new Map<number, AbortController>();

const post = (m: FromGlWorker, transfer: Transferable[] = []) =>
  (globalThis as unknown as { postMessage(m: FromGlWorker, t: Transferable[]): void }).postMessage(m, transfer);

export async function handleGlMessage(msg: ToGlWorker): Promise<void> {
  switch (msg.type) {
    case "gl-create": return create(msg);
    case "gl-upscale": return upscale(msg.id, msg.image);
    case "gl-abort": jobs.get(msg.id)?.abort(); return;
    case "gl-lose-context": canvas?.getContext("webgl2")?.getExtension("WEBGL_lose_context")?.loseContext(); return;
  }
}

async function create(msg: Extract<ToGlWorker, { type: "gl-create" }>): Promise<void> {
  const missing = webgl2Missing();
  if (missing) {
    post({ type: "gl-no-webgl", reason: missing });
    return;
  }
  try {
    // Our own canvas (the runner would make one too), so the test message above can reach its context.
    canvas = new OffscreenCanvas(1, 1);
    runner = await createWebglRunner(msg.graph, {
      ...msg.options, canvas,
      onContextLost: () => post({ type: "gl-lost" }),
      onContextRestored: () => post({ type: "gl-restored" }),
    }, msg.alphaGraph);
    post({ type: "gl-ready", stats: runner.stats() });
  } catch (e) {
    post({ type: "gl-error", id: 0, error: postedError(e) });
  }
}

async function upscale(id: number, image: { data: Uint8ClampedArray | Uint8Array; width: number; height: number }): Promise<void> {
  const ac = new AbortController();
  jobs.set(id, ac);
  try {
    if (!runner) throw new Error("gl-upscale before the runner was created");
    const out = await runner.upscale(image, { signal: ac.signal, onProgress: (progress) => post({ type: "gl-progress", id, progress }) });
    post({ type: "gl-done", id, image: out, stats: runner.stats() }, [out.data.buffer]);
  } catch (e) {
    post({ type: "gl-error", id, error: postedError(e), stats: runner?.stats() });
  } finally {
    jobs.delete(id);
  }
}

/**
 * Why this worker cannot have a WebGL2 context, or "" when it can: browsers with OffscreenCanvas only
 * for 2D, or none at all. Asked on a throwaway canvas, since a canvas keeps the
 * attributes of its first context and the runner's asks for its own (failIfMajorPerformanceCaveat).
 */
function webgl2Missing(): string {
  if (typeof OffscreenCanvas !== "function") return "this browser's workers have no OffscreenCanvas";
  const probe = new OffscreenCanvas(1, 1).getContext("webgl2");
  if (!probe) return "this browser offers no WebGL2 on an OffscreenCanvas in a worker";
  probe.getExtension("WEBGL_lose_context")?.loseContext();
  return "";
}
