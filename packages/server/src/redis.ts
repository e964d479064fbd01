// SPDX-License-Identifier: MIT
// `--redis URL`: the jobs of `srgan serve` on a BullMQ queue, run by `srgan worker` processes on any
// machines. The server side (RedisBackend) queues and follows jobs; the worker side (createWorker)
// runs them. A job's input travels in its BullMQ data; its result is a Redis key with a real expiry
// (EX), so results vanish on time even when BullMQ's own clean-up (done lazily, when later jobs
// finish) has not run yet. A worker that dies mid-job stops renewing its lock; BullMQ's stalled-job
// check in the other workers then puts the job back on the queue.
import { randomUUID } from "node:crypto";
import { Queue, QueueEvents, Worker, type Job as BullJob } from "bullmq";
import { Redis } from "ioredis";
import { AbortError, BUILTIN_NAMES, ServiceError, SrganError, type ErrorCode, type ImageFormat, type UpscalerOptions } from "srgan-wasm";
import { AUTO_MODEL, resolveOptions } from "srgan-wasm/internal";
import { checkRedisUrl, type JobBackend, type JobCounts, type JobView } from "./backend.js";
import type { JobState } from "./queue.js";
import { runJob, Upscalers, type JobInput, type JobResult } from "./work.js";

/** The BullMQ queue both sides use. */
export const QUEUE_NAME = "srgan-upscale";
const resultKey = (id: string) => `srgan:result:${id}`;
/** How long creating a server or worker waits for Redis to answer before failing. */
const CONNECT_MS = 10_000;

/** A job's BullMQ data: JobInput with the image as base64 (the data is JSON), and the result's TTL. */
interface JobData extends Omit<JobInput, "image" | "scale" | "quality"> {
  image: string;
  scale?: number;
  quality?: number;
  resultTtl: number;
}

/** What a worker returns (stored by BullMQ; the image itself is under resultKey). */
interface JobReturn {
  format: ImageFormat;
  /** The network that ran. */
  model: string;
  seconds: number;
}

/** The URL without its password, for messages. */
const shown = (url: string) => { const u = new URL(url); if (u.password) u.password = "***"; return u.href; };

const unreachable = (url: string, cause: unknown) =>
  new ServiceError("ERR_QUEUE_UNAVAILABLE", 503, `the job queue (Redis at ${shown(url)}) cannot be reached: ${(cause as Error)?.message ?? cause}`, 5);

/**
 * Fails fast (ERR_QUEUE_UNAVAILABLE) when Redis cannot be reached or refuses us, before any BullMQ
 * object exists: those retry forever, and one that never connected cannot even be closed.
 */
async function probe(url: string): Promise<void> {
  const client = new Redis(url, { lazyConnect: true, retryStrategy: () => null, connectTimeout: CONNECT_MS, maxRetriesPerRequest: 0 });
  let cause: unknown; // the socket's error (ECONNREFUSED…), more telling than connect()'s "Connection is closed"
  client.on("error", (e) => { cause ??= e; });
  try {
    await client.connect();
    await client.ping();
  } catch (e) {
    throw unreachable(url, cause ?? e);
  } finally {
    client.disconnect();
  }
}

/** A failure crosses Redis as BullMQ's failedReason text: "ERR_CODE: message". */
function failureText(e: unknown): string {
  return `${e instanceof SrganError ? e.code : "ERR_UNEXPECTED"}: ${(e as Error)?.message ?? String(e)}`;
}

function parseFailure(text: string | undefined): Error {
  const m = /^(ERR_[A-Z_]+): ([\s\S]*)$/.exec(text ?? "");
  if (!m) return new Error(text || "the job failed without a reason");
  return m[1] === "ERR_UNEXPECTED" ? new Error(m[2]) : new SrganError(m[1] as ErrorCode, m[2]);
}

type Outcome = { value: JobReturn } | { error: Error };

export class RedisBackend implements JobBackend {
  private closed = false;
  /** Smoothed seconds per job, from the workers' own timings, for Retry-After. */
  private secondsPerJob = 1;
  /** Synchronous requests waiting for their job, by id. */
  private readonly waiters = new Map<string, (outcome: Outcome) => void>();

  private constructor(
    private readonly url: string,
    private readonly queue: Queue,
    private readonly events: QueueEvents,
    private readonly store: Redis,
    private readonly limit: number,
    private readonly resultTtl: number,
  ) {}

  /** Connects (or fails with ERR_QUEUE_UNAVAILABLE within 10 s). */
  static async connect(url: string, limit: number, resultTtl: number, onSettled: (state: JobState) => void, onError: (e: unknown) => void): Promise<RedisBackend> {
    await probe(url);
    // Requests must fail fast while Redis is down (503), not queue up in the client.
    const queue = new Queue(QUEUE_NAME, { connection: { url, enableOfflineQueue: false } });
    const events = new QueueEvents(QUEUE_NAME, { connection: { url } });
    const store = new Redis(url, { enableOfflineQueue: false, lazyConnect: true });
    // Unhandled 'error' events would throw; connection trouble shows up as 503s and is reported here.
    queue.on("error", onError);
    events.on("error", onError);
    store.on("error", onError);
    await Promise.all([queue.waitUntilReady(), events.waitUntilReady(), store.connect()]);
    const backend = new RedisBackend(url, queue, events, store, limit, resultTtl);
    events.on("completed", ({ jobId, returnvalue }) => {
      const value = returnvalue as unknown as JobReturn;
      if (typeof value?.seconds === "number") backend.secondsPerJob = 0.8 * backend.secondsPerJob + 0.2 * value.seconds;
      backend.settle(jobId, { value });
      onSettled("completed");
    });
    events.on("failed", ({ jobId, failedReason }) => {
      backend.settle(jobId, { error: parseFailure(failedReason) });
      onSettled("failed");
    });
    return backend;
  }

  private settle(id: string, outcome: Outcome): void {
    this.waiters.get(id)?.(outcome);
    this.waiters.delete(id);
  }

  /** Redis trouble becomes a 503 the client can retry; our own errors pass. */
  private async redis<T>(op: Promise<T>): Promise<T> {
    try {
      return await op;
    } catch (e) {
      throw e instanceof SrganError ? e : unreachable(this.url, e);
    }
  }

  private async add(input: JobInput): Promise<BullJob> {
    if (this.closed) throw new ServiceError("ERR_SHUTTING_DOWN", 503, "the server is shutting down", await this.retryAfter());
    // Checked, then added: concurrent requests to several servers may overshoot the limit by a few.
    const waiting = await this.redis(this.queue.getWaitingCount());
    if (waiting >= this.limit) {
      throw new ServiceError("ERR_QUEUE_FULL", 429, `${waiting} job${waiting === 1 ? " is" : "s are"} waiting already, the most this server queues; retry later`, await this.retryAfter());
    }
    const data: JobData = { ...input, image: Buffer.from(input.image).toString("base64"), resultTtl: this.resultTtl };
    const keep = { age: this.resultTtl };
    return this.redis(this.queue.add("upscale", data, { jobId: randomUUID(), removeOnComplete: keep, removeOnFail: keep }));
  }

  async submit(input: JobInput): Promise<string> {
    return (await this.add(input)).id!;
  }

  async run(input: JobInput, signal: AbortSignal): Promise<JobResult> {
    const job = await this.add(input);
    const id = job.id!;
    const outcome = await new Promise<Outcome>((resolve) => {
      const done = (o: Outcome) => { signal.removeEventListener("abort", abort); resolve(o); };
      // A job already started elsewhere cannot be stopped from here: it finishes and its result expires.
      const abort = () => { this.waiters.delete(id); void job.remove().catch(() => {}); done({ error: new AbortError(signal.reason) }); };
      this.waiters.set(id, done);
      if (signal.aborted) return abort();
      signal.addEventListener("abort", abort, { once: true });
      // The job may have ended before the waiter was set: look once now (QueueEvents is already listening).
      void this.outcome(id).then((o) => { if (o && this.waiters.get(id) === done) this.settle(id, o); }, () => {});
    });
    if ("error" in outcome) throw outcome.error;
    const bytes = await this.redis(this.store.getBuffer(resultKey(id)));
    void this.store.del(resultKey(id)).catch(() => {});
    void job.remove().catch(() => {});
    if (!bytes) throw new ServiceError("ERR_QUEUE_UNAVAILABLE", 503, `job '${id}' completed but its result is gone from Redis (evicted?)`, 1);
    return { bytes, format: outcome.value.format, model: outcome.value.model };
  }

  /** A finished job's outcome, or undefined while it waits or runs. */
  private async outcome(id: string): Promise<Outcome | undefined> {
    const state = await (await this.queue.getJob(id))?.getState();
    if (state !== "completed" && state !== "failed") return undefined;
    // Read the job after its state: a copy fetched before it finished has no returnvalue/failedReason.
    const job = await this.queue.getJob(id);
    return state === "completed" ? { value: job!.returnvalue as JobReturn } : { error: parseFailure(job!.failedReason) };
  }

  private async find(id: string): Promise<BullJob | undefined> {
    const job = await this.redis(this.queue.getJob(id));
    // BullMQ removes finished jobs lazily; past their TTL they are gone for us.
    const ttl = (job?.data as JobData | undefined)?.resultTtl ?? this.resultTtl;
    return job && !(job.finishedOn && Date.now() - job.finishedOn > ttl * 1000) ? job : undefined;
  }

  async get(id: string): Promise<JobView | undefined> {
    const job = await this.find(id);
    if (!job) return undefined;
    const bull = await this.redis(job.getState());
    if (bull === "unknown") return undefined;
    const state: JobState = bull === "active" || bull === "completed" || bull === "failed" ? bull : "waiting";
    const progress = state === "completed" ? 1 : typeof job.progress === "number" ? job.progress : 0;
    if (state !== "failed") return { id, state, progress };
    // The copy above may predate the failure (no failedReason yet): read it again.
    const failed = (await this.redis(this.queue.getJob(id))) ?? job;
    return { id, state, progress, error: parseFailure(failed.failedReason) };
  }

  async result(id: string): Promise<JobResult | undefined> {
    const job = await this.find(id);
    const bytes = job && await this.redis(this.store.getBuffer(resultKey(id)));
    const { format, model } = (job?.returnvalue ?? {}) as JobReturn;
    return bytes ? { bytes, format, model } : undefined;
  }

  async counts(): Promise<JobCounts> {
    const c = await this.redis(this.queue.getJobCounts("waiting", "prioritized", "delayed", "active", "completed", "failed"));
    const waiting = c.waiting + c.prioritized + c.delayed;
    return { waiting, active: c.active, held: { waiting, active: c.active, completed: c.completed, failed: c.failed } };
  }

  async retryAfter(): Promise<number> {
    try {
      const [c, workers] = await Promise.all([this.counts(), this.queue.getWorkersCount()]);
      return Math.max(1, Math.ceil((c.waiting + c.active) * this.secondsPerJob / Math.max(1, workers)));
    } catch {
      return 5;
    }
  }

  /** Waits for the synchronous requests in flight (their jobs run on the workers), then disconnects. */
  async close(): Promise<void> {
    this.closed = true;
    for (const t0 = Date.now(); this.waiters.size > 0 && Date.now() - t0 < 10 * 60_000;) await new Promise((r) => setTimeout(r, 50));
    if (this.store.status === "ready") {
      await Promise.allSettled([this.events.close(), this.queue.close(), this.store.quit()]);
    } else {
      // Redis is down: BullMQ's close (and the 'end' its disconnect awaits) would wait for ever on
      // clients that go on reconnecting; ending them is all that is left to do.
      this.store.disconnect();
      for (const c of [this.queue, this.events]) void c.disconnect().catch(() => {});
    }
  }
}

export interface WorkerOptions extends Pick<UpscalerOptions, "threads" | "tileSize" | "memoryLimit" | "convAlgorithm" | "wasmVariant"> {
  /** Redis, as redis://[user:password@]host[:port][/db] or rediss://. */
  redis: string;
  /** A network file (or built-in, or 'auto') this worker may run besides the built-ins; made at start. Default 'auto'. */
  model?: string;
  /**
   * Seconds without a lock renewal after which a job counts as stalled (its worker died) and is
   * handed to another worker; also how often this worker checks for such jobs. Default 30.
   */
  stalledAfter?: number;
  /** Told when a job ends. */
  onJob?: (id: string, state: "completed" | "failed", seconds: number, error?: string) => void;
  /** Told about connection and other unexpected errors. */
  onError?: (error: unknown) => void;
}

export interface SrganWorker {
  /** Takes no more jobs, lets the running one finish, then disconnects and disposes the upscalers. */
  close(): Promise<void>;
}

/** Starts taking jobs from the queue of `srgan serve --redis`: one at a time, each on every thread. */
export async function createWorker(options: WorkerOptions): Promise<SrganWorker> {
  if (options === null || typeof options !== "object") throw new TypeError("createWorker(options): options must be an object");
  const url = checkRedisUrl("options.redis", options.redis);
  const stalledAfter = options.stalledAfter ?? 30;
  if (!Number.isFinite(stalledAfter) || stalledAfter < 1 || stalledAfter > 3600) throw new RangeError(`options.stalledAfter must be seconds in [1, 3600], got ${String(options.stalledAfter)}`);
  const { threads, tileSize, memoryLimit, convAlgorithm, wasmVariant } = options;
  resolveOptions({ threads, tileSize, memoryLimit, convAlgorithm, wasmVariant });
  const model = options.model ?? AUTO_MODEL;
  const models = new Set([...BUILTIN_NAMES, AUTO_MODEL, model]);
  await probe(url);
  const upscalers = new Upscalers({ threads, tileSize, memoryLimit, convAlgorithm, wasmVariant });
  await upscalers.get(model, undefined); // a bad network fails now, not at the first job
  const onError = options.onError ?? (() => {});

  const store = new Redis(url, { lazyConnect: true });
  store.on("error", onError);
  const worker = new Worker<JobData, JobReturn>(QUEUE_NAME, async (job, _token, signal) => {
    const t0 = performance.now();
    const d = job.data;
    try {
      // A job names its network; this worker runs only the built-ins and its own --model (never any path).
      if (!models.has(d.model)) throw new SrganError("ERR_BAD_REQUEST", `this worker runs ${[...models].join(", ")}; the job asks for '${d.model}' (start the worker with --model ${d.model})`);
      let reported = 0;
      const result = await runJob(upscalers, { ...d, image: Buffer.from(d.image, "base64"), scale: d.scale, quality: d.quality },
        signal ?? new AbortController().signal,
        (p) => { if (p - reported >= 0.05) { reported = p; void job.updateProgress(p).catch(() => {}); } });
      await store.set(resultKey(job.id!), result.bytes, "EX", d.resultTtl);
      const seconds = (performance.now() - t0) / 1000;
      options.onJob?.(job.id!, "completed", seconds);
      return { format: result.format, model: result.model, seconds };
    } catch (e) {
      options.onJob?.(job.id!, "failed", (performance.now() - t0) / 1000, failureText(e));
      throw new Error(failureText(e));
    }
  }, { connection: { url }, concurrency: 1, lockDuration: stalledAfter * 1000, stalledInterval: stalledAfter * 1000, autorun: false });
  worker.on("error", onError);
  await Promise.all([worker.waitUntilReady(), store.connect()]);
  void worker.run().catch(onError);
  return {
    async close() {
      await worker.close(); // waits for the running job
      await Promise.allSettled([store.quit(), upscalers.dispose()]);
    },
  };
}
