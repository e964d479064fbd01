// SPDX-License-Identifier: MIT
// `srgan serve` as a library: a Fastify app with a synchronous and an asynchronous upscale endpoint on
// one job backend (in-process, or BullMQ on Redis with `redis`: backend.ts, redis.ts); the HTTP API
// is the same over both. Everything that can be refused is refused before a job is queued: the key
// and its limits (auth.ts, limits.ts), the options (route schemas, schemas.ts), the body size
// (Fastify, from Content-Length), the image's size (from its header, before any pixel is decoded) and
// a webhook's target (webhook-target.ts). Requests share one upscaler per network: the server's own
// is made at start, others (`?model=`, `?scale=`) on first use.
import { randomUUID } from "node:crypto";
import cors from "@fastify/cors";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { BUILTIN_NAMES, ImageTooLargeError, readImageInfo, ServiceError, SrganError, type ImageFormat } from "srgan-wasm";
import { AUTO_MODEL } from "srgan-wasm/internal";
import { KeyRing, presentedKey, type ApiKey, type Scope } from "./auth.js";
import { LocalBackend, type EndedJob, type JobBackend } from "./backend.js";
import { Limits } from "./limits.js";
import { Counter, gauge, Histogram } from "./metrics.js";
import { registerOpenApi } from "./openapi.js";
import { checkOptions, type ServerOptions } from "./options.js";
import { badRequest, queryError, routeSchemas, toHttp } from "./schemas.js";
import { WebhookTargets } from "./webhook-target.js";
import { LocalWebhooks, WebhookSender, type Delivery } from "./webhooks.js";
import { runJob, Upscalers, type JobInput, type JobResult } from "./work.js";

export type { ServerOptions } from "./options.js";

/** The Fastify instance createServer makes, and what it adds. */
export type SrganServer = FastifyInstance & {
  /**
   * Re-reads the apiKeys file (`srgan serve` does on SIGHUP): keys gone from it are refused from the
   * next request on, jobs keep running. Returns how many keys it holds; throws, keeping the keys it
   * had, when the file cannot be read or is malformed. 0 without apiKeys.
   */
  reloadApiKeys(): Promise<number>;
};

declare module "fastify" {
  interface FastifyRequest {
    /** The key the request carried (with apiKeys), set in onRequest. */
    apiKey?: ApiKey;
  }
  interface FastifyContextConfig {
    /** Who may call the route: no key (healthz), any valid key (absent), or a key with that scope. */
    scope?: Scope | "none";
  }
}

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** A request id from a reverse proxy (X-Request-Id) is kept if it looks like one; else a UUID is made. */
const REQUEST_ID = /^[\w.:@-]{1,128}$/;

/**
 * Builds the service (not yet listening): `await (await createServer()).listen({ port: 8080 })`.
 * `close()` stops accepting, lets every accepted job finish, then disposes the upscalers.
 */
export async function createServer(options: ServerOptions = {}): Promise<SrganServer> {
  const o = checkOptions(options);
  const model = o.model ?? AUTO_MODEL;
  const targets = o.webhookAllow?.length ? new WebhookTargets(o.webhookAllow, "options.webhookAllow") : undefined;
  const keys = o.apiKeys === undefined ? undefined : await KeyRing.load(o.apiKeys);

  const app = Fastify({
    bodyLimit: o.maxBody,
    return503OnClosing: false,
    // The router's own limit (default 100) answers 414 in Fastify's format; the schema's (100) answers ours.
    routerOptions: { maxParamLength: 1000 },
    logger: {
      level: o.logLevel ?? "silent",
      ...(o.logStream ? { stream: o.logStream } : {}),
      // Fastify logs no headers; should a serializer ever add them, the keys stay out.
      redact: ["req.headers.authorization", 'req.headers["x-api-key"]'],
    },
    genReqId: (req) => {
      const given = req.headers["x-request-id"];
      return typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID();
    },
    // Query errors in our words (schemas.ts); Ajv's verbose mode gives them the value and its schema.
    schemaErrorFormatter: queryError,
    ajv: { customOptions: { removeAdditional: false, verbose: true } },
  }) as unknown as SrganServer;

  // With Redis the workers upscale; the server's upscalers only check sizes, so they need no threads.
  const upscalers = new Upscalers({ threads: o.redis ? 0 : o.threads, tileSize: o.tileSize, memoryLimit: o.memoryLimit, convAlgorithm: o.convAlgorithm, wasmVariant: o.wasmVariant });
  const finished = new Counter("srgan_jobs_finished_total", "Jobs (synchronous and queued) that ended, by state.");
  const sender = targets && new WebhookSender(targets, o.webhookSecret!);
  const gaveUp = (d: Delivery, e: Error, attempts: number) => app.log.warn({ job: d.payload.id, attempts, err: e.message }, "webhook not delivered");
  const localWebhooks = sender && !o.redis ? new LocalWebhooks(sender, gaveUp) : undefined;
  const onEnded = (job: EndedJob) => {
    finished.inc({ state: job.state });
    if (job.input.callback) localWebhooks?.enqueue({ callback: job.input.callback, payload: { id: job.id, state: job.state, ...(job.state === "failed" ? { error: toHttp(job.error).body } : {}) } });
  };
  let backend: JobBackend;
  try {
    // The server's own network is made now: a wrong model or scale fails here, not as every request's 400.
    await upscalers.get(model, o.scale);
    backend = o.redis === undefined
      ? new LocalBackend((input, signal, onProgress) => runJob(upscalers, input, signal, onProgress), o.queue, o.resultTtl, onEnded)
      : await (await import("./redis.js")).RedisBackend.connect(o.redis, o.queue, o.resultTtl, (state) => finished.inc({ state }), o.onError ?? (() => {}), sender && { sender, onGiveUp: gaveUp });
  } catch (e) {
    await upscalers.dispose();
    throw e;
  }
  const limits = new Limits(backend.counters, { rateLimit: o.rateLimit, pixelQuota: o.pixelQuota });
  const requests = new Counter("srgan_http_requests_total", "HTTP requests answered, by route, method and status.");
  const latency = new Histogram("srgan_http_request_duration_seconds", "Time from request to response, by route.", LATENCY_BUCKETS);
  let closing = false;

  app.decorate("reloadApiKeys", async () => (keys ? keys.reload() : 0));
  app.decorateRequest("apiKey", undefined);

  // Before the hooks below: a preflight carries no key, and is answered here.
  if (o.corsOrigins?.length) {
    await app.register(cors, {
      origin: o.corsOrigins.includes("*") ? "*" : o.corsOrigins,
      methods: ["GET", "POST"],
      allowedHeaders: ["authorization", "x-api-key", "content-type", "x-request-id"],
      exposedHeaders: ["location", "retry-after", "srgan-model", "x-request-id"],
      maxAge: 600,
    });
  }
  await registerOpenApi(app, keys !== undefined);

  // The body is the image: take every content type as bytes and tell the format by its magic bytes.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer" }, (_req, body, done) => done(null, body));

  app.addHook("onRequest", async (req, reply) => {
    reply.header("X-Request-Id", req.id);
    if (closing) throw new ServiceError("ERR_SHUTTING_DOWN", 503, "the server is shutting down", await backend.retryAfter());
    if (keys) await admit(req);
  });

  /** The key's checks: known (401), allowed here (403), under its request rate (429). */
  async function admit(req: FastifyRequest): Promise<void> {
    const scope = req.routeOptions.config?.scope;
    if (scope === "none") return;
    const presented = presentedKey(req.headers);
    const key = presented === undefined ? undefined : keys!.find(presented);
    if (!key) {
      throw new ServiceError("ERR_UNAUTHORIZED", 401, presented === undefined
        ? "this server needs an API key: send it as 'Authorization: Bearer KEY' (or 'x-api-key: KEY'); its operator gives them out"
        : "this API key is not valid here (mistyped, or revoked); ask the server's operator for a key");
    }
    if (scope !== undefined && !key.scopes.has(scope)) {
      throw new ServiceError("ERR_FORBIDDEN", 403, `API key '${key.label}' may call ${[...key.scopes].join(" and ")} endpoints, not ${scope} ones; its operator sets this (scope= in the key file)`);
    }
    req.apiKey = key;
    req.log = req.log.child({ apiKey: key.label });
    await limits.request(key);
  }

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
    await localWebhooks?.close();
    await upscalers.dispose();
  });

  app.setErrorHandler((error, req, reply) => {
    const { status, retryAfter, body } = toHttp(error);
    if (status >= 500 && !(error instanceof ServiceError)) {
      req.log.error({ err: error }, "request failed");
      o.onError?.(error);
    } else {
      req.log.info({ code: body.code, status }, body.message);
    }
    if (retryAfter !== undefined) reply.header("Retry-After", String(retryAfter));
    return reply.code(status).type("application/json").send({ ...body, requestId: req.id });
  });
  app.setNotFoundHandler((req) => {
    throw new ServiceError("ERR_NOT_FOUND", 404, `no route ${req.method} ${req.url.split("?")[0]}; see docs/serve.md or GET /openapi.json`);
  });

  const models = [...new Set([...BUILTIN_NAMES, AUTO_MODEL, model])];
  const schemas = routeSchemas(models, keys !== undefined);
  type Query = { model?: string; scale?: number; format?: ImageFormat; quality?: number; callback?: string };

  /**
   * Checks the request and decides everything it can from the image header: the job to queue, and
   * what gives its pixels back to the key's quota if the job is refused after all.
   */
  async function check(req: FastifyRequest): Promise<{ input: JobInput; refund: () => Promise<void> }> {
    const q = req.query as Query;
    const body = req.body;
    if (!(body instanceof Uint8Array) || body.length === 0) throw badRequest("the request body must be the image's bytes (PNG or JPEG)");
    let callback: string | undefined;
    if (q.callback !== undefined) {
      if (!targets) throw badRequest("callback refused: this server sends no webhooks (its operator enables them with --webhook-allow)");
      callback = await targets.check(q.callback);
    }
    const info = readHeader(body, o.maxPixels);
    const scale = q.scale ?? (q.model === undefined || q.model === model ? o.scale : undefined);
    const up = await upscalers.get(q.model ?? model, scale);
    try {
      up.checkSize(info.width, info.height);
    } catch (e) {
      throw e instanceof SrganError ? new ServiceError(e.code, 413, e.message) : e;
    }
    const refund = req.apiKey ? await limits.pixels(req.apiKey, info.width * info.height) : async () => {};
    const input: JobInput = { image: body, source: info.format, model: q.model ?? model, scale, format: q.format ?? "png", quality: q.quality, maxPixels: o.maxPixels, owner: req.apiKey?.id, callback };
    return { input, refund };
  }

  /** Runs `queue` for a checked job; a job refused before it was queued gives its pixels back. */
  async function queued<T>({ refund }: { refund: () => Promise<void> }, queue: () => Promise<T>): Promise<T> {
    try {
      return await queue();
    } catch (e) {
      if (e instanceof ServiceError && (e.code === "ERR_QUEUE_FULL" || e.code === "ERR_SHUTTING_DOWN")) await refund();
      throw e;
    }
  }

  const sendResult = (reply: FastifyReply, r: JobResult) => reply.type(`image/${r.format}`).header("Srgan-Model", r.model).send(r.bytes);
  const upscaleConfig = { scope: "upscale", imageBody: true } as const;

  app.post("/v1/upscale", { schema: schemas.upscale, config: upscaleConfig }, async (req, reply) => {
    const job = await check(req);
    // A client that hangs up no longer wants the image: drop its job (in-process: or stop it between tiles).
    const gone = new AbortController();
    reply.raw.once("close", () => { if (!reply.raw.writableFinished) gone.abort(new Error("the client closed the connection")); });
    return sendResult(reply, await queued(job, () => backend.run(job.input, gone.signal)));
  });

  app.post("/v1/jobs", { schema: schemas.submit, config: upscaleConfig }, async (req, reply) => {
    const job = await check(req);
    const id = await queued(job, () => backend.submit(job.input));
    return reply.code(202).header("Location", `/v1/jobs/${id}`).send({ id });
  });

  /** A job this request may see: another key's job is answered as if it did not exist. */
  const findJob = async (req: FastifyRequest<{ Params: { id: string } }>) => {
    const id = req.params.id;
    const job = await backend.get(id);
    if (!job || (keys && job.owner !== req.apiKey?.id)) throw new ServiceError("ERR_NOT_FOUND", 404, `no job '${id}': it never existed, was submitted with another API key, or finished over ${o.resultTtl} s ago and expired`);
    return job;
  };

  app.get<{ Params: { id: string } }>("/v1/jobs/:id", { schema: schemas.job, config: { scope: "upscale" } }, async (req) => {
    const job = await findJob(req);
    return { id: job.id, state: job.state, progress: job.progress, ...(job.state === "failed" ? { error: toHttp(job.error).body } : {}) };
  });

  app.get<{ Params: { id: string } }>("/v1/jobs/:id/result", { schema: schemas.result, config: { scope: "upscale" } }, async (req, reply) => {
    const job = await findJob(req);
    if (job.state === "failed") throw job.error;
    if (job.state !== "completed") throw new ServiceError("ERR_JOB_PENDING", 409, `job '${job.id}' is ${job.state}; poll GET /v1/jobs/${job.id} until it is completed`, await backend.retryAfter());
    const result = await backend.result(job.id);
    if (!result) throw new ServiceError("ERR_NOT_FOUND", 404, `job '${job.id}': its result expired`);
    return sendResult(reply, result);
  });

  app.get("/healthz", { schema: schemas.healthz, config: { scope: "none" } }, async () => {
    const { waiting, active } = await backend.counts();
    return { status: "ok", waiting, active };
  });

  app.get("/metrics", { schema: schemas.metrics, config: { scope: "metrics" } }, async (_req, reply) => {
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

  app.get("/openapi.json", { schema: schemas.openapi, config: {} }, async () => app.swagger());

  return app;
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
