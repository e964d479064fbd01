// SPDX-License-Identifier: MIT
// The page's side of WebGL in a worker. startGpuRunner() starts the package's worker script, builds the
// WebGL runner there on an OffscreenCanvas and returns a stand-in with the runner's interface, so that
// compiling, uploading and every GL call happen off the calling thread; the page only copies the input
// and receives the output. Where no worker can have WebGL2 (no OffscreenCanvas, none with WebGL on it,
// or a worker script that cannot start) the runner runs on the calling thread after one warning,
// ERR_WEBGL_NO_WORKER: WebGL was asked for, and that thread is still free while the GPU works (jobs are
// paced node by node, ./gpu-pacer.ts), only compiling and uploads block it.
import { ContextLostError, SrganError, throwIfAborted } from "../../errors.js";
import { checkRgbaImage, type RgbaImage } from "../../image/rgba.js";
import type { ValidatedGraph } from "../../model/types.js";
import type { UpscaledImage, UpscaleOptions } from "../../runtime/scheduler.js";
import { workerUrlOverride } from "../../platform/assets.js";
import { warnOnce, type WarningHandler } from "../../platform/web-threads.js";
import { createWebglRunner } from "./index.js";
import type { WebglStats } from "./runner.js";
import { revivedError, type FromGlWorker, type ToGlWorker, type WorkerRunnerOptions } from "./worker-protocol.js";

/** What the upscaler needs of a WebGL runner, wherever it runs (WebglRunner, or WorkerGpuRunner below). */
export interface GpuRunner {
  /** True while the context is lost: jobs would fail with ContextLostError, so run them on wasm. */
  readonly lost: boolean;
  upscale(image: RgbaImage, options?: UpscaleOptions): Promise<UpscaledImage>;
  stats(): WebglStats;
  dispose(): void;
}

/** How long a worker may take to compile and self-test the network before the page gives up on it. */
const START_TIMEOUT_MS = 60_000;

/**
 * A WebGL runner for `graph` in a worker, or on this thread where a worker cannot have one (see above).
 * Errors of the runner itself (no usable GPU, a self-test failure) are thrown as createWebglRunner would.
 */
export async function startGpuRunner(graph: ValidatedGraph, alphaGraph: ValidatedGraph, options: WorkerRunnerOptions, onWarning: WarningHandler = warnOnce): Promise<GpuRunner> {
  const started = typeof Worker === "function" && typeof OffscreenCanvas === "function"
    ? await WorkerGpuRunner.start(graph, alphaGraph, options)
    : "this browser has no OffscreenCanvas";
  if (typeof started !== "string") return started;
  const runner = await createWebglRunner(graph, options, alphaGraph); // where there is no WebGL at all (Node, Deno), this throws
  onWarning({
    code: "ERR_WEBGL_NO_WORKER",
    message: `WebGL runs on this page's thread, which it blocks while shaders compile and weights upload: ${started}. ` +
      "Browsers with WebGL2 on an OffscreenCanvas in workers run it in one; a bundler that moved srgan-wasm's worker script needs configureAssets({ workerUrl }) (docs/webgl.md).",
  });
  return runner;
}

interface Job {
  resolve(image: UpscaledImage): void;
  reject(e: unknown): void;
  signal?: AbortSignal;
  onProgress?: UpscaleOptions["onProgress"];
}

/** A WebGL runner that lives in a worker; jobs are messages (./worker-protocol.ts). */
export class WorkerGpuRunner implements GpuRunner {
  private latest: WebglStats;
  private lostFlag = false;
  private disposed = false;
  /** Why the worker is gone, once it is (its jobs failed; later ones go to wasm through `lost`). */
  private dead: Error | null = null;
  private readonly jobs = new Map<number, Job>();
  private nextId = 1;

  private constructor(private readonly worker: Worker, stats: WebglStats) {
    this.latest = stats;
    worker.onmessage = (e: MessageEvent<FromGlWorker>) => this.receive(e.data);
    worker.onerror = (e: ErrorEvent) => { e.preventDefault?.(); this.die(`the WebGL worker failed: ${e.message || "it threw"}`); };
    worker.onmessageerror = () => this.die("a message from the WebGL worker could not be read");
  }

  /** Starts the worker and the runner in it; a string says why a worker cannot run WebGL here. */
  static async start(graph: ValidatedGraph, alphaGraph: ValidatedGraph, options: WorkerRunnerOptions): Promise<WorkerGpuRunner | string> {
    const override = workerUrlOverride();
    let worker: Worker;
    try {
      // The literal `new Worker(new URL(…, import.meta.url), { type: "module" })` is what Vite and webpack
      // recognise to bundle the worker (the same script as the wasm pool's, src/platform/pool-web.ts).
      worker = override
        ? new Worker(override, { type: "module", name: "srgan-wasm-webgl" })
        : new Worker(new URL("../../worker/web-entry.js", import.meta.url), { type: "module", name: "srgan-wasm-webgl" });
    } catch (e) {
      return `its worker script could not start (${(e as Error).message})`;
    }
    const first = await new Promise<FromGlWorker | string>((resolve) => {
      const timer = setTimeout(() => resolve(`its worker did not answer within ${START_TIMEOUT_MS / 1000} s`), START_TIMEOUT_MS);
      const settle = (v: FromGlWorker | string) => { clearTimeout(timer); resolve(v); };
      worker.onmessage = (e: MessageEvent<FromGlWorker>) => settle(e.data);
      worker.onerror = (e: ErrorEvent) => { e.preventDefault?.(); settle(`its worker script could not start (${e.message || "it failed to load"})`); };
      worker.postMessage({ type: "gl-create", graph, alphaGraph, options } satisfies ToGlWorker);
    });
    if (typeof first !== "string" && first.type === "gl-ready") return new WorkerGpuRunner(worker, first.stats);
    worker.terminate();
    if (typeof first === "string") return first;
    if (first.type === "gl-no-webgl") return first.reason;
    if (first.type === "gl-error") throw revivedError(first.error);
    return `its worker answered ${first.type} before it was ready`;
  }

  get lost(): boolean {
    return this.lostFlag || this.dead !== null;
  }

  async upscale(image: RgbaImage, options: UpscaleOptions = {}): Promise<UpscaledImage> {
    if (this.disposed) throw new SrganError("ERR_DISPOSED", "this WebGL runner was disposed; create a new one");
    checkRgbaImage(image);
    const { signal, onProgress } = options;
    throwIfAborted(signal);
    if (this.dead) throw this.dead;
    const id = this.nextId++;
    // One copy, made here: a view into a larger buffer would otherwise be cloned with all of it.
    const data = image.data.slice();
    const onAbort = () => this.worker.postMessage({ type: "gl-abort", id } satisfies ToGlWorker);
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      return await new Promise<UpscaledImage>((resolve, reject) => {
        this.jobs.set(id, { resolve, reject, signal, onProgress });
        this.worker.postMessage({ type: "gl-upscale", id, image: { data, width: image.width, height: image.height } } satisfies ToGlWorker, [data.buffer]);
      });
    } finally {
      signal?.removeEventListener("abort", onAbort);
      this.jobs.delete(id);
    }
  }

  stats(): WebglStats {
    return this.latest;
  }

  /** Ends the worker (its context goes with it); running jobs fail with ERR_DISPOSED. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.worker.terminate();
    this.failAll(new SrganError("ERR_DISPOSED", "the upscaler was disposed while a WebGL job ran"));
    this.latest = { ...this.latest, currentBytes: 0, inUseBytes: 0, weightBytes: 0, textures: 0, activeTextures: 0, buffers: 0, programs: 0 };
  }

  /** @internal Tests: lose the worker's context, as a GPU reset would. */
  loseContext(): void {
    this.worker.postMessage({ type: "gl-lose-context" } satisfies ToGlWorker);
  }

  private receive(m: FromGlWorker): void {
    if (m.type === "gl-lost") { this.lostFlag = true; return; }
    if (m.type === "gl-restored") { this.lostFlag = false; return; }
    if (m.type !== "gl-progress" && m.type !== "gl-done" && m.type !== "gl-error") return;
    const job = this.jobs.get(m.id);
    if (!job) return;
    if (m.type === "gl-progress") {
      try {
        job.onProgress?.(m.progress);
      } catch (e) {
        // As on the page's thread: a throwing progress callback fails the job (and stops the worker's).
        this.worker.postMessage({ type: "gl-abort", id: m.id } satisfies ToGlWorker);
        job.reject(e);
      }
      return;
    }
    if (m.stats) this.latest = m.stats;
    if (m.type === "gl-done") job.resolve(m.image);
    else job.reject(revivedError(m.error, job.signal));
  }

  /** The worker is gone: its jobs fail as a lost context would, so the upscaler reruns them on wasm. */
  private die(why: string): void {
    if (this.dead || this.disposed) return;
    this.dead = new ContextLostError(why, false);
    this.worker.terminate();
    this.failAll(this.dead);
  }

  private failAll(e: Error): void {
    for (const job of this.jobs.values()) job.reject(e);
    this.jobs.clear();
  }
}
