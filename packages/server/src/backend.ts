// SPDX-License-Identifier: MIT
// Where `srgan serve` puts its jobs: the one interface the HTTP layer sees, and its in-process
// implementation (the bounded one-at-a-time queue of queue.ts, jobs kept in a map until they expire).
// The other implementation, BullMQ on Redis, is redis.ts; the HTTP API is the same over both.
import { Job, JobQueue, type JobState } from "./queue.js";
import type { JobInput, JobResult } from "./work.js";

export interface JobView {
  id: string;
  state: JobState;
  /** Fraction done, 0..1. */
  progress: number;
  /** A failed job's error (an SrganError where the failure was ours). */
  error?: unknown;
}

export interface JobCounts {
  /** Jobs waiting to run and running now. */
  waiting: number;
  active: number;
  /** Queued jobs held (until they expire), by state. */
  held: Record<JobState, number>;
}

export interface JobBackend {
  /** Queues a job kept for `resultTtl` seconds after it ends; throws ServiceError 429 (full) or 503. */
  submit(input: JobInput): Promise<string>;
  /** Queues a job and waits for it; throws the job's error. Aborting `signal` drops the job if it has not started. */
  run(input: JobInput, signal: AbortSignal): Promise<JobResult>;
  /** A submitted job, or undefined when unknown or expired. */
  get(id: string): Promise<JobView | undefined>;
  /** A completed job's result, or undefined when unknown or expired. */
  result(id: string): Promise<JobResult | undefined>;
  counts(): Promise<JobCounts>;
  /** Seconds until a slot is likely free (at least 1). */
  retryAfter(): Promise<number>;
  /** Refuses new jobs; resolves once the jobs this process waits on have ended. */
  close(): Promise<void>;
}

export type Work = (input: JobInput, signal: AbortSignal, onProgress: (fraction: number) => void) => Promise<JobResult>;

export class LocalBackend implements JobBackend {
  private readonly queue: JobQueue<JobResult>;
  private readonly jobs = new Map<string, Job<JobResult>>();
  private readonly expiries = new Set<NodeJS.Timeout>();

  constructor(private readonly work: Work, limit: number, private readonly resultTtl: number, onSettled: (state: JobState) => void) {
    this.queue = new JobQueue(limit, (job) => onSettled(job.state));
  }

  private add(input: JobInput): Job<JobResult> {
    return this.queue.add((job) => this.work(input, job.controller.signal, (p) => { job.progress = p; }));
  }

  async submit(input: JobInput): Promise<string> {
    const job = this.add(input);
    this.jobs.set(job.id, job);
    void job.settled.then(() => {
      const t = setTimeout(() => { this.jobs.delete(job.id); this.expiries.delete(t); }, this.resultTtl * 1000).unref();
      this.expiries.add(t);
    });
    return job.id;
  }

  async run(input: JobInput, signal: AbortSignal): Promise<JobResult> {
    const job = this.add(input);
    // In this process a running job can be stopped too (between tiles): nobody wants its image.
    const stop = () => this.queue.cancel(job, signal.reason);
    if (signal.aborted) stop();
    signal.addEventListener("abort", stop, { once: true });
    try {
      await job.settled;
    } finally {
      signal.removeEventListener("abort", stop);
    }
    if (job.state === "failed") throw job.error;
    return job.result!;
  }

  async get(id: string): Promise<JobView | undefined> {
    const job = this.jobs.get(id);
    return job && { id, state: job.state, progress: job.progress, error: job.error };
  }

  async result(id: string): Promise<JobResult | undefined> {
    return this.jobs.get(id)?.result;
  }

  async counts(): Promise<JobCounts> {
    const held: Record<JobState, number> = { waiting: 0, active: 0, completed: 0, failed: 0 };
    for (const job of this.jobs.values()) held[job.state]++;
    return { waiting: this.queue.depth, active: this.queue.running, held };
  }

  async retryAfter(): Promise<number> {
    return this.queue.retryAfter();
  }

  async close(): Promise<void> {
    await this.queue.close();
    for (const t of this.expiries) clearTimeout(t);
  }
}

/** Throws a TypeError naming `name` unless `url` is a redis:// or rediss:// URL. */
export function checkRedisUrl(name: string, url: unknown): string {
  let protocol = "";
  try { protocol = new URL(String(url)).protocol; } catch { /* reported below */ }
  if (typeof url !== "string" || (protocol !== "redis:" && protocol !== "rediss:")) {
    throw new TypeError(`${name} must be a redis:// or rediss:// URL (e.g. redis://127.0.0.1:6379), got ${JSON.stringify(url)}`);
  }
  return url;
}
