// SPDX-License-Identifier: MIT
// The in-process job queue of `srgan serve`: a bounded FIFO run one job at a time. One job already
// keeps every worker thread busy (its tiles are spread over them), so running two at once would only
// make both slower and let them compete for the shared pool. A full queue refuses at once (429) and a
// closed one too (503), each with an estimate of when to retry, so no request waits without bound.
import { randomUUID } from "node:crypto";
import { AbortError, ServiceError } from "srgan-wasm";

export type JobState = "waiting" | "active" | "completed" | "failed";

export class Job<R> {
  readonly id = randomUUID();
  state: JobState = "waiting";
  /** Fraction done, 0..1. */
  progress = 0;
  result?: R;
  error?: unknown;
  readonly controller = new AbortController();
  /** Resolves (never rejects) when the job is completed or failed. */
  readonly settled: Promise<void>;
  private settle!: () => void;

  constructor(readonly work: (job: Job<R>) => Promise<R>) {
    this.settled = new Promise((resolve) => (this.settle = resolve));
  }

  /** @internal */
  finish(result: { value: R } | { error: unknown }): void {
    if ("value" in result) {
      this.result = result.value;
      this.state = "completed";
      this.progress = 1;
    } else {
      this.error = result.error;
      this.state = "failed";
    }
    this.settle();
  }
}

export class JobQueue<R> {
  private readonly waiting: Job<R>[] = [];
  private active: Job<R> | undefined;
  private closed = false;
  /** Smoothed seconds per job, for Retry-After. */
  private secondsPerJob = 1;

  /** `limit`: jobs that may wait behind the running one. */
  constructor(private readonly limit: number, private readonly onSettled: (job: Job<R>, seconds: number) => void = () => {}) {}

  get depth(): number {
    return this.waiting.length;
  }

  get running(): number {
    return this.active ? 1 : 0;
  }

  /** Seconds until a slot is likely free: the jobs ahead times the recent time per job (at least 1). */
  retryAfter(): number {
    return Math.max(1, Math.ceil((this.waiting.length + this.running) * this.secondsPerJob));
  }

  /** Queues `work`; throws ServiceError 429 when full and 503 once closing. */
  add(work: (job: Job<R>) => Promise<R>): Job<R> {
    if (this.closed) throw new ServiceError("ERR_SHUTTING_DOWN", 503, "the server is shutting down; retry against another instance or after it restarts", this.retryAfter());
    if (this.waiting.length >= this.limit) {
      throw new ServiceError("ERR_QUEUE_FULL", 429, `${this.waiting.length} job${this.waiting.length === 1 ? " is" : "s are"} waiting already, the most this server queues; retry later`, this.retryAfter());
    }
    const job = new Job(work);
    this.waiting.push(job);
    void this.pump();
    return job;
  }

  /** Stops a job: a waiting one fails at once, a running one is aborted (its tiles stop). */
  cancel(job: Job<R>, reason: unknown): void {
    const i = this.waiting.indexOf(job);
    if (i >= 0) {
      this.waiting.splice(i, 1);
      job.finish({ error: new AbortError(reason) });
      this.onSettled(job, 0);
    } else if (job === this.active) {
      job.controller.abort(reason);
    }
  }

  /** Refuses new jobs and resolves when every accepted one has finished. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([this.active, ...this.waiting].map((j) => j?.settled));
  }

  private async pump(): Promise<void> {
    if (this.active) return;
    for (let job = this.waiting.shift(); job; job = this.waiting.shift()) {
      this.active = job;
      job.state = "active";
      const t0 = performance.now();
      try {
        job.finish({ value: await job.work(job) });
      } catch (error) {
        job.finish({ error });
      }
      const seconds = (performance.now() - t0) / 1000;
      this.secondsPerJob = 0.8 * this.secondsPerJob + 0.2 * seconds;
      this.active = undefined;
      this.onSettled(job, seconds);
    }
  }
}
