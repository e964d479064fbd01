// SPDX-License-Identifier: MIT
// Browsers and Deno: a fixed set of module Web Workers on the engine's shared memory, speaking the
// typed protocol of worker/protocol.ts. A worker that dies (or is stopped by an abort) is replaced.
import type { Engine } from "../runtime/engine.js";
import type { TileRunner } from "../runtime/runner.js";
import type { FromWorker, TileDone, WorkerTask, ToWorker } from "../worker/protocol.js";
import { AbortError, SrganError, WorkerError, type ErrorCode } from "../errors.js";

const WORKER_URL = new URL("../worker/web-entry.js", import.meta.url);

interface Slot {
  worker: Worker;
  workerId: number;
  ready: Promise<void>;
  busy?: { id: number; resolve(d: TileDone): void; reject(e: unknown): void };
}

export class WebPool implements TileRunner {
  private readonly slots: Slot[] = [];
  private readonly waiting: Array<() => void> = [];
  private nextId = 1;
  private nextWorkerId = 1;

  private constructor(private readonly engine: Engine, readonly concurrency: number) {}

  static async create(engine: Engine, threads: number): Promise<WebPool> {
    const pool = new WebPool(engine, threads);
    for (let i = 0; i < threads; i++) pool.slots.push(pool.spawn());
    await Promise.all(pool.slots.map((s) => s.ready));
    return pool;
  }

  private spawn(): Slot {
    const worker = new Worker(WORKER_URL, { type: "module" });
    const workerId = this.nextWorkerId++;
    let readyResolve!: () => void, readyReject!: (e: unknown) => void;
    const slot: Slot = { worker, workerId, ready: new Promise((res, rej) => { readyResolve = res; readyReject = rej; }) };
    worker.onmessage = (e: MessageEvent<FromWorker>) => {
      const m = e.data;
      if (m.type === "ready") { readyResolve(); return; }
      const busy = slot.busy;
      if (!busy || busy.id !== m.id) return;
      slot.busy = undefined;
      if (m.type === "done") busy.resolve(m.result);
      else busy.reject(new SrganError((m.error.code ?? "ERR_WORKER") as ErrorCode, m.error.message));
      this.waiting.shift()?.();
    };
    worker.onerror = (e: ErrorEvent) => {
      e.preventDefault?.();
      const err = new WorkerError(`a worker died: ${e.message}`);
      readyReject(err);
      this.replace(slot, err);
    };
    worker.postMessage({ type: "init", shared: this.engine.shared, workerId } satisfies ToWorker);
    return slot;
  }

  private replace(slot: Slot, reason: unknown): void {
    slot.worker.terminate();
    this.engine.releaseThreadSlot(slot.workerId);
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots[i] = this.spawn();
    slot.busy?.reject(reason);
    slot.busy = undefined;
    this.waiting.shift()?.();
  }

  async run(task: WorkerTask, signal?: AbortSignal): Promise<TileDone> {
    for (;;) {
      if (signal?.aborted) throw new AbortError(signal.reason);
      const slot = this.slots.find((s) => !s.busy);
      if (slot) {
        await slot.ready;
        return await new Promise<TileDone>((resolve, reject) => {
          const id = this.nextId++;
          const onAbort = () => this.replace(slot, new AbortError(signal!.reason));
          signal?.addEventListener("abort", onAbort, { once: true });
          slot.busy = {
            id,
            resolve: (d) => { signal?.removeEventListener("abort", onAbort); resolve(d); },
            reject: (e) => { signal?.removeEventListener("abort", onAbort); reject(e); },
          };
          slot.worker.postMessage({ type: "task", id, task } satisfies ToWorker);
        });
      }
      await new Promise<void>((res) => this.waiting.push(res));
    }
  }

  async dispose(): Promise<void> {
    for (const s of this.slots) {
      s.worker.terminate();
      this.engine.releaseThreadSlot(s.workerId);
      s.busy?.reject(new SrganError("ERR_DISPOSED", "the upscaler was disposed while a tile ran"));
    }
    this.slots.length = 0;
  }
}
