// SPDX-License-Identifier: MIT
// Browsers and Deno: a fixed set of module Web Workers on the engine's shared memory, speaking the
// typed protocol of worker/protocol.ts. A worker that dies is replaced;
// one that cannot start fails the pool (at create) or its task (later) once, never in a respawn loop.
// On a page that cannot share memory, `privateMemory` gives the one worker its own copy of the engine's
// layout with the weights in it, and each tile's input and output are copied through the messages, so
// the page stays responsive while the tile runs.
import type { Engine } from "../runtime/engine.js";
import type { Lease } from "../runtime/buffer-pool.js";
import { InlineRunner, type TileRunner } from "../runtime/runner.js";
import { tileBuffers } from "../runtime/tile-task.js";
import type { FromWorker, TileDone, WorkerTask, ToWorker } from "../worker/protocol.js";
import { SrganError, WorkerError, type ErrorCode } from "../errors.js";
import { workerUrlOverride } from "./assets.js";
import { isDeno } from "./features.js";

const START_TIMEOUT_MS = 60_000;

interface Pending {
  id: number;
  task: WorkerTask;
  resolve(d: TileDone): void;
  reject(e: unknown): void;
}

interface Slot {
  worker: Worker;
  workerId: number;
  /** Settles when the worker has joined the engine (or could not). */
  ready: Promise<void>;
  started: boolean;
  /** Why the worker could not start; such a slot is respawned on its next use. */
  failed?: unknown;
  /** Claimed by a run() call (set before awaiting `ready`, so two calls never share a slot). */
  claimed: boolean;
  pending?: Pending;
  /** Cancels the start-up timeout. */
  stop?: () => void;
}

export class WebPool implements TileRunner {
  private readonly slots: Slot[] = [];
  private readonly waiting: Array<() => void> = [];
  private nextId = 1;
  private nextWorkerId = 1;
  private disposed = false;
  /** Whole-image bands read the whole arena: with private memory they run here instead. */
  private readonly inline: InlineRunner | null;

  private constructor(private readonly engine: Engine, readonly concurrency: number, private readonly privateMemory?: { regions: Lease[] }) {
    this.inline = privateMemory ? new InlineRunner(engine) : null;
  }

  static async create(engine: Engine, threads: number, privateMemory?: { regions: Lease[] }): Promise<WebPool> {
    const pool = new WebPool(engine, threads, privateMemory);
    for (let i = 0; i < threads; i++) pool.slots.push(pool.spawn());
    try {
      await Promise.all(pool.slots.map((s) => s.ready));
    } catch (e) {
      await pool.dispose();
      throw e;
    }
    return pool;
  }

  private spawn(): Slot {
    const override = workerUrlOverride();
    const url = override ?? new URL("../worker/web-entry.js", import.meta.url);
    const workerId = this.nextWorkerId++;
    let readyResolve!: () => void, readyReject!: (e: unknown) => void;
    const ready = new Promise<void>((res, rej) => { readyResolve = res; readyReject = rej; });
    ready.catch(() => {}); // observed by run()/create(); a slot nobody uses must not raise an unhandled rejection
    let worker: Worker;
    try {
      // The literal `new Worker(new URL(…, import.meta.url), { type: "module" })` is the pattern Vite and
      // webpack recognise to bundle the worker; keep it in this exact shape.
      worker = override
        ? new Worker(override, { type: "module", name: "srgan-wasm" })
        : new Worker(new URL("../worker/web-entry.js", import.meta.url), { type: "module", name: "srgan-wasm" });
    } catch (cause) {
      const failed = startError(url, (cause as Error).message, cause);
      readyReject(failed);
      return { workerId, ready, started: false, claimed: false, failed, worker: undefined as unknown as Worker };
    }
    const slot: Slot = { worker, workerId, ready, started: false, claimed: false };
    const fail = (err: unknown) => {
      slot.stop?.();
      if (!slot.started) {
        slot.failed = err;
        this.retire(slot);
        readyReject(err);
        slot.pending?.reject(err);
        slot.pending = undefined;
        return;
      }
      this.replace(slot, err);
    };
    // A script that loads but never answers (a wrong workerUrl) would otherwise hang create() forever.
    const startTimer = setTimeout(() => fail(startError(url, `no answer within ${START_TIMEOUT_MS / 1000} s (is it the srgan-wasm worker script, srgan-wasm/worker?)`)), START_TIMEOUT_MS);
    slot.stop = () => clearTimeout(startTimer);
    worker.onmessage = (e: MessageEvent<FromWorker>) => {
      const m = e.data;
      if (m.type === "ready") { slot.stop?.(); slot.started = true; readyResolve(); return; }
      if (m.type === "error" && m.id === 0) {
        fail(startError(url, m.error.message));
        return;
      }
      const pending = slot.pending;
      if (!pending || pending.id !== m.id) return;
      slot.pending = undefined;
      if (m.type === "done") {
        if (m.output && pending.task.kind === "tile") this.engine.u8(pending.task.job.outPtr, m.output.length).set(m.output);
        pending.resolve(m.result);
      }
      else pending.reject(new SrganError((m.error.code ?? "ERR_WORKER") as ErrorCode, m.error.message));
    };
    worker.onerror = (e: ErrorEvent) => {
      e.preventDefault?.(); // Deno rethrows an unhandled worker error in the parent and exits
      const what = e.message || "the script failed to load or threw";
      fail(slot.started ? new WorkerError(`a worker died: ${what}`) : startError(url, what));
    };
    worker.onmessageerror = () => fail(new WorkerError("a worker's message could not be read (structured clone failed)"));
    try {
      const { memory, module, layout } = this.engine.shared;
      worker.postMessage(this.privateMemory
        ? {
          type: "init-private", module, layout, workerId, pages: memory.buffer.byteLength / 65536,
          regions: this.privateMemory.regions.map((l) => ({ ptr: l.ptr, bytes: this.engine.u8(l.ptr, l.bytes).slice() })),
        } satisfies ToWorker
        : { type: "init", shared: this.engine.shared, workerId } satisfies ToWorker);
    } catch (cause) {
      // A DataCloneError: this realm cannot share the memory (a page without cross-origin isolation).
      fail(startError(url, (cause as Error).message, cause));
    }
    return slot;
  }

  /** Stops a slot's worker and frees its thread index in the engine. */
  private retire(slot: Slot): void {
    slot.stop?.();
    slot.worker?.terminate();
    this.engine.releaseThreadSlot(slot.workerId);
  }

  /** Replaces a worker that had started and then died; its task fails with `reason`. */
  private replace(slot: Slot, reason: unknown): void {
    this.retire(slot);
    const i = this.slots.indexOf(slot);
    if (i >= 0 && !this.disposed) this.slots[i] = this.spawn();
    slot.pending?.reject(reason);
    slot.pending = undefined;
    this.release(slot);
  }

  private release(slot: Slot): void {
    if (!slot.claimed) return;
    slot.claimed = false;
    this.waiting.shift()?.();
  }

  // No abort here: the scheduler stops between tasks (see TileRunner.run), so a worker is never
  // terminated while it may still write into a lease that is about to be handed back.
  async run(task: WorkerTask): Promise<TileDone> {
    if (this.inline && task.kind !== "tile") return this.inline.run(task);
    let slot: Slot | undefined;
    for (;;) {
      if (this.disposed) throw new SrganError("ERR_DISPOSED", "the upscaler was disposed");
      // A started worker first: a replacement may still be loading its module for a while.
      let i = this.slots.findIndex((s) => !s.claimed && s.started);
      if (i < 0) i = this.slots.findIndex((s) => !s.claimed);
      if (i >= 0) {
        slot = this.slots[i];
        if (slot.failed !== undefined) this.slots[i] = slot = this.spawn(); // one fresh try per task
        slot.claimed = true;
        break;
      }
      await new Promise<void>((res) => this.waiting.push(res));
    }
    const claimed = slot;
    try {
      await claimed.ready;
    } catch (e) {
      this.release(claimed);
      throw e;
    }
    return await new Promise<TileDone>((resolve, reject) => {
      const id = this.nextId++;
      claimed.pending = {
        id,
        task,
        resolve: (d) => { this.release(claimed); resolve(d); },
        reject: (e) => { this.release(claimed); reject(e); },
      };
      if (this.privateMemory && task.kind === "tile") {
        const [ptr, bytes] = tileBuffers(task.job, task.net.scale).input;
        const input = this.engine.u8(ptr, bytes).slice();
        claimed.worker.postMessage({ type: "task", id, task, input } satisfies ToWorker, [input.buffer]);
      } else claimed.worker.postMessage({ type: "task", id, task } satisfies ToWorker);
    });
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    for (const s of this.slots) {
      this.retire(s);
      s.pending?.reject(new SrganError("ERR_DISPOSED", "the upscaler was disposed while a tile ran"));
      s.pending = undefined;
    }
    this.slots.length = 0;
    for (const wake of this.waiting.splice(0)) wake();
  }
}

function startError(url: URL, what: string, cause?: unknown): WorkerError {
  const hint = isDeno()
    ? "Deno needs --allow-read to start a worker from a local file (and --allow-net for one served over http)."
    : "Check that the file is served (a bundler that does not follow new URL(…, import.meta.url) needs configureAssets({ workerUrl })) and that a Content-Security-Policy allows it (worker-src).";
  return new WorkerError(`could not start a Web Worker from ${url.href}: ${what}. ${hint}`, { cause });
}
