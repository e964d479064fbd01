// SPDX-License-Identifier: MIT
// `srgan serve` as a library: a Fastify app with a synchronous and an asynchronous upscale endpoint on
// one job backend (in-process, or BullMQ on Redis with `redis`: backend.ts, redis.ts); the HTTP API
// is the same over both. Everything that can be refused is refused before a job is queued: the
// options, the body size (Fastify, from Content-Length) and the image's size (from its header, before
// any pixel is decoded). Requests share one upscaler per network: the server's own is made at start,
// others (`?model=`, `?scale=`) on first use.
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { BUILTIN_NAMES, ImageTooLargeError, MAX_IMAGE_PIXELS, readImageInfo, ServiceError, SrganError, type ImageFormat, type UpscalerOptions } from "srgan-wasm";
import { AUTO_MODEL, resolveOptions } from "srgan-wasm/internal";
import { checkRedisUrl, LocalBackend, type JobBackend } from "./backend.js";
import { runJob, Upscalers, type JobInput, type JobResult } from "./work.js";
import { Counter, gauge, Histogram } from "./metrics.js";

export interface ServerOptions extends Pick<UpscalerOptions, "threads" | "tileSize" | "memoryLimit" | "convAlgorithm" | "wasmVariant"> {
  /**
   * The network for requests that name none: a built-in name, 'auto' (natural-real for JPEG inputs,
   * natural for the rest) or a network file. Default: 'auto'. Answers name the network in `Srgan-Model`.
   */
  model?: string;
  /** Its scale (requests may ask for another with `?scale=`). Default: the network's own, ×4 for built-ins. */
  scale?: number;
  /** Largest input, in pixels, read from the image header. Default 2^22 (e.g. 2048×2048). */
  maxPixels?: number;
  /** Largest request body, in bytes. Default 50 MiB. */
  maxBody?: number;
  /** Jobs that may wait behind the running one before requests get 429. Default 16. */
  queue?: number;
  /** Seconds a finished job (and its result) is kept for GET /v1/jobs/:id. Default 600. */
  resultTtl?: number;
  /**
   * Redis URL (redis://host:port): jobs go to a BullMQ queue there and `srgan worker` processes run
   * them; results are kept in Redis for resultTtl. Default: none, jobs run in this process.
   */
  redis?: string;
  /** Told about unexpected (status 500) failures and Redis connection errors; default: none. */
  onError?: (error: unknown) => void;
}

const DEFAULTS = { maxPixels: 2 ** 22, maxBody: 50 * 2 ** 20, queue: 16, resultTtl: 600 };
const QUERY = ["model", "scale", "format", "quality"];
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/**
 * Builds the service (not yet listening): `await (await createServer()).listen({ port: 8080 })`.
 * `close()` stops accepting, lets every accepted job finish, then disposes the upscalers.
 */
export async function createServer(options: ServerOptions = {}): Promise<FastifyInstance> {
  const o = checkOptions(options);
  const model = options.model ?? AUTO_MODEL;
  // With Redis the workers upscale; the server's upscalers only check sizes, so they need no threads.
  const upscalers = new Upscalers({ threads: options.redis ? 0 : o.threads, tileSize: o.tileSize, memoryLimit: o.memoryLimit, convAlgorithm: o.convAlgorithm, wasmVariant: o.wasmVariant });
  // The server's own network is made now: a wrong model or scale fails here, not as every request's 400.
  await upscalers.get(model, options.scale);
  const finished = new Counter("srgan_jobs_finished_total", "Jobs (synchronous and queued) that ended, by state.");
  const onSettled = (state: string) => finished.inc({ state });
  let backend: JobBackend;
  try {
    backend = options.redis === undefined
      ? new LocalBackend((input, signal, onProgress) => runJob(upscalers, input, signal, onProgress), o.queue, o.resultTtl, onSettled)
      : await (await import("./redis.js")).RedisBackend.connect(options.redis, o.queue, o.resultTtl, onSettled, options.onError ?? (() => {}));
  } catch (e) {
    await upscalers.dispose();
    throw e;
  }
  const requests = new Counter("srgan_http_requests_total", "HTTP requests answered, by route, method and status.");
  const latency = new Histogram("srgan_http_request_duration_seconds", "Time from request to response, by route.", LATENCY_BUCKETS);
  let closing = false;

  const app = Fastify({ logger: false, bodyLimit: o.maxBody, return503OnClosing: false });

  // The body is the image: take every content type as bytes and tell the format by its magic bytes.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer" }, (_req, body, done) => done(null, body));

  app.addHook("onRequest", async () => {
    if (closing) {
      throw new ServiceError("ERR_SHUTTING_DOWN", 503, "the server is shutting down", await backend.retryAfter());
    }
  });
  app.addHook("onSend", async (_req, reply) => {
    // While draining, answered connections close instead of idling in keep-alive until its timeout.
    if (closing) reply.header("Connection", "close");
  });
  app.addHook("onResponse", async (req, reply) => {
    const route = req.routeOptions.url ?? "unmatched";
    requests.inc({ route, method: req.method, status: reply.statusCode });
    latency.observe({ route }, reply.elapsedTime / 1000);
  });
  app.addHook("preClose", async () => { closing = true; });
  app.addHook("onClose", async () => {
    await backend.close();
    await upscalers.dispose();
  });

  app.setErrorHandler((error, _req, reply) => {
    const { status, code, message, retryAfter } = toHttp(error);
    if (status >= 500 && !(error instanceof ServiceError)) options.onError?.(error);
    if (retryAfter !== undefined) reply.header("Retry-After", String(retryAfter));
    return reply.code(status).type("application/json").send({ code, message });
  });
  app.setNotFoundHandler((req) => {
    throw new ServiceError("ERR_NOT_FOUND", 404, `no route ${req.method} ${req.url.split("?")[0]}; see docs/serve.md`);
  });

  /** Checks the request and decides everything it can from the image header: the job to queue. */
  async function check(req: FastifyRequest): Promise<JobInput> {
    const q = readQuery(req.query, model, options.scale);
    const body = req.body;
    if (!(body instanceof Uint8Array) || body.length === 0) throw badRequest("the request body must be the image's bytes (PNG or JPEG)");
    const info = readHeader(body, o.maxPixels);
    const up = await upscalers.get(q.model, q.scale);
    try {
      up.checkSize(info.width, info.height);
    } catch (e) {
      throw e instanceof SrganError ? new ServiceError(e.code, 413, e.message) : e;
    }
    return { image: body, source: info.format, ...q, maxPixels: o.maxPixels };
  }

  const sendResult = (reply: FastifyReply, r: JobResult) => reply.type(`image/${r.format}`).header("Srgan-Model", r.model).send(r.bytes);

  app.post("/v1/upscale", async (req, reply) => {
    const input = await check(req);
    // A client that hangs up no longer wants the image: drop its job (in-process: or stop it between tiles).
    const gone = new AbortController();
    reply.raw.once("close", () => { if (!reply.raw.writableFinished) gone.abort(new Error("the client closed the connection")); });
    return sendResult(reply, await backend.run(input, gone.signal));
  });

  app.post("/v1/jobs", async (req, reply) => {
    const id = await backend.submit(await check(req));
    return reply.code(202).header("Location", `/v1/jobs/${id}`).send({ id });
  });

  const findJob = async (id: string) => {
    const job = await backend.get(id);
    if (!job) throw new ServiceError("ERR_NOT_FOUND", 404, `no job '${id}': it never existed, or it finished over ${o.resultTtl} s ago and expired`);
    return job;
  };

  app.get<{ Params: { id: string } }>("/v1/jobs/:id", async (req) => {
    const job = await findJob(req.params.id);
    return { id: job.id, state: job.state, progress: job.progress, ...(job.state === "failed" ? { error: toHttp(job.error).body } : {}) };
  });

  app.get<{ Params: { id: string } }>("/v1/jobs/:id/result", async (req, reply) => {
    const job = await findJob(req.params.id);
    if (job.state === "failed") throw job.error;
    if (job.state !== "completed") throw new ServiceError("ERR_JOB_PENDING", 409, `job '${job.id}' is ${job.state}; poll GET /v1/jobs/${job.id} until it is completed`, await backend.retryAfter());
    const result = await backend.result(job.id);
    if (!result) throw new ServiceError("ERR_NOT_FOUND", 404, `job '${job.id}': its result expired`);
    return sendResult(reply, result);
  });

  app.get("/healthz", async () => {
    const { waiting, active } = await backend.counts();
    return { status: "ok", waiting, active };
  });

  app.get("/metrics", async (_req, reply) => {
    const { waiting, active, held } = await backend.counts();
    const pools = upscalers.ready().map(({ up, stats }) => [{ model: up.info().model, scale: up.scale }, stats] as const);
    const text = requests.text() + latency.text() + finished.text()
      + gauge("srgan_queue_depth", "Jobs waiting to run.", [[{}, waiting]])
      + gauge("srgan_queue_active", "Jobs running (in-process: at most 1; with Redis: on every worker).", [[{}, active]])
      + gauge("srgan_jobs", "Jobs held (until they expire), by state.", Object.entries(held).map(([state, n]) => [{ state }, n]))
      + gauge("srgan_pool_bytes", "Bytes leased from an upscaler's shared-memory pool now (weights included).", pools.map(([l, s]) => [l, s.currentBytes]))
      + gauge("srgan_pool_peak_bytes", "Most bytes ever leased from an upscaler's pool at once.", pools.map(([l, s]) => [l, s.peakBytes]))
      + gauge("srgan_pool_active_leases", "Leases held from an upscaler's pool now.", pools.map(([l, s]) => [l, s.activeLeases]));
    return reply.type("text/plain; version=0.0.4; charset=utf-8").send(text);
  });

  return app;
}

interface Query {
  model: string;
  scale: number | undefined;
  format: ImageFormat;
  quality: number | undefined;
}

function readQuery(query: unknown, defaultModel: string, defaultScale: number | undefined): Query {
  const q = (query ?? {}) as Record<string, unknown>;
  for (const [key, value] of Object.entries(q)) {
    if (!QUERY.includes(key)) throw badRequest(`unknown query parameter '${key}'; this endpoint takes ${QUERY.join(", ")}`);
    if (typeof value !== "string") throw badRequest(`query parameter '${key}' is given more than once`);
  }
  const s = q as Record<string, string | undefined>;
  // Only built-ins and the server's own network: a request must not make the server open a file.
  const models = [...new Set([...BUILTIN_NAMES, AUTO_MODEL, defaultModel])];
  if (s.model !== undefined && !models.includes(s.model)) throw badRequest(`model must be one of ${models.join(", ")}, got '${s.model}'`);
  const format = s.format ?? "png";
  if (format !== "png" && format !== "jpeg") throw badRequest(`format must be png or jpeg, got '${format}'`);
  return {
    model: s.model ?? defaultModel,
    scale: s.scale === undefined ? (s.model === undefined || s.model === defaultModel ? defaultScale : undefined) : intParam("scale", s.scale, 1, 8),
    format,
    quality: s.quality === undefined ? undefined : intParam("quality", s.quality, 1, 100),
  };
}

/**
 * The image's format and size from its header. Over the pixel limit is a 413 that names the server's
 * setting (an HTTP client cannot raise decodeImage's option; the operator can raise --max-pixels).
 */
function readHeader(body: Uint8Array, maxPixels: number) {
  try {
    return readImageInfo(body, { maxPixels });
  } catch (e) {
    if (!(e instanceof ImageTooLargeError) || e.width * e.height <= maxPixels) throw e;
    throw new ServiceError("ERR_IMAGE_TOO_LARGE", 413, `the image header declares ${e.width}×${e.height} pixels, over this server's limit of ${maxPixels} pixels; send a smaller image, or ask its operator to raise it (srgan serve --max-pixels N, createServer's maxPixels)`);
  }
}

function intParam(name: string, value: string, min: number, max: number): number {
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) throw badRequest(`${name} must be an integer in [${min}, ${max}], got '${value}'`);
  return Number(value);
}

const badRequest = (message: string) => new ServiceError("ERR_BAD_REQUEST", 400, message);

const STATUS_BY_CODE: Record<string, number> = {
  ERR_IMAGE_TOO_LARGE: 413, ERR_OUT_OF_MEMORY: 413,
  ERR_IMAGE_DECODE: 400, ERR_IMAGE_ENCODE: 400, ERR_INVALID_INPUT: 400, ERR_SCALE: 400,
  ERR_ABORTED: 503, ERR_DISPOSED: 503,
  ERR_BAD_REQUEST: 400, ERR_QUEUE_UNAVAILABLE: 503, // failures that came back from a Redis worker
};

/** The HTTP answer for an error: our codes keep their code; Fastify's 4xx (body too large, bad headers) become ours. */
function toHttp(e: unknown): { status: number; code: string; message: string; retryAfter?: number; body: { code: string; message: string } } {
  const message = (e as Error)?.message ?? String(e);
  let status = 500, code = "ERR_UNEXPECTED", retryAfter: number | undefined;
  if (e instanceof ServiceError) ({ status, code, retryAfter } = e);
  else if (e instanceof SrganError) {
    status = STATUS_BY_CODE[e.code] ?? 500;
    code = e.code;
  } else {
    const fastify = e as { statusCode?: number; code?: string };
    if (fastify.code === "FST_ERR_CTP_BODY_TOO_LARGE") ({ status, code } = { status: 413, code: "ERR_BODY_TOO_LARGE" });
    else if (fastify.statusCode && fastify.statusCode >= 400 && fastify.statusCode < 500) ({ status, code } = { status: fastify.statusCode, code: "ERR_BAD_REQUEST" });
  }
  return { status, code, message, retryAfter, body: { code, message } };
}

function checkOptions(options: ServerOptions) {
  if (options === null || typeof options !== "object") throw new TypeError("createServer(options): options must be an object");
  const o = { ...DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as Required<ServerOptions>;
  const int = (name: keyof typeof DEFAULTS, min: number, max: number) => {
    if (!Number.isInteger(o[name]) || o[name] < min || o[name] > max) throw new RangeError(`options.${name} must be an integer in [${min}, ${max}], got ${String(o[name])}`);
  };
  int("maxPixels", 1, MAX_IMAGE_PIXELS);
  int("maxBody", 1, 2 ** 31);
  int("queue", 0, 100_000);
  int("resultTtl", 1, 7 * 24 * 3600);
  if (options.onError !== undefined && typeof options.onError !== "function") throw new TypeError("options.onError must be a function");
  if (options.model !== undefined && typeof options.model !== "string") throw new TypeError("options.model must be a built-in name or a network file's path");
  if (options.redis !== undefined) checkRedisUrl("options.redis", options.redis);
  resolveOptions(options); // the upscaler options, checked now rather than at the first request
  return o;
}
