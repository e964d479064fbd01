// SPDX-License-Identifier: MIT
// The route schemas of `srgan serve`: Fastify validates requests with them (query and path, with our
// messages: queryError) and serialises answers with them, and the OpenAPI document is generated from
// them (openapi.ts), so the document cannot drift from what the server does. Also the one table of
// which HTTP status answers which error code, and the error answer itself.
import type { FastifySchema, FastifySchemaValidationError } from "fastify";
import { ERROR_CODES, ServiceError, SrganError, type ErrorCode } from "srgan-wasm";

/** ERR_UNEXPECTED: the code of a 500 that is no SrganError (a bug); not a library code. */
export type AnswerCode = ErrorCode | "ERR_UNEXPECTED";

const STATUS_CODES = {
  400: ["ERR_BAD_REQUEST", "ERR_IMAGE_DECODE", "ERR_IMAGE_ENCODE", "ERR_INVALID_INPUT", "ERR_SCALE"],
  401: ["ERR_UNAUTHORIZED"],
  403: ["ERR_FORBIDDEN"],
  404: ["ERR_NOT_FOUND"],
  409: ["ERR_JOB_PENDING"],
  // ERR_INVALID_INPUT here: a size the upscaler refuses (checkSize), answered from the header.
  413: ["ERR_BODY_TOO_LARGE", "ERR_IMAGE_TOO_LARGE", "ERR_OUT_OF_MEMORY", "ERR_INVALID_INPUT"],
  429: ["ERR_QUEUE_FULL", "ERR_RATE_LIMITED", "ERR_QUOTA_EXCEEDED"],
  503: ["ERR_SHUTTING_DOWN", "ERR_QUEUE_UNAVAILABLE", "ERR_ABORTED", "ERR_DISPOSED"],
} as const satisfies Record<number, readonly ErrorCode[]>;

type Status = keyof typeof STATUS_CODES | 500;

/** The codes each status answers with; 500 has every other code, and ERR_UNEXPECTED. */
export function codesOf(status: Status): AnswerCode[] {
  if (status !== 500) return [...STATUS_CODES[status]];
  const named = new Set<string>(Object.values(STATUS_CODES).flat());
  return [...(Object.keys(ERROR_CODES) as ErrorCode[]).filter((c) => !named.has(c)), "ERR_UNEXPECTED"];
}

/** The status of a library error that reaches HTTP (a job's failure): the first status that lists its code. */
function statusOf(code: ErrorCode): number {
  return Number(Object.entries(STATUS_CODES).find(([, codes]) => (codes as readonly string[]).includes(code))?.[0] ?? 500);
}

export interface ErrorBody {
  code: AnswerCode;
  message: string;
}

/** The HTTP answer for an error: our codes keep their code; Fastify's 4xx (body too large, bad headers) become ours. */
export function toHttp(e: unknown): { status: number; retryAfter?: number; body: ErrorBody } {
  const message = (e as Error)?.message ?? String(e);
  let status = 500, code: AnswerCode = "ERR_UNEXPECTED", retryAfter: number | undefined;
  if (e instanceof ServiceError) ({ status, code, retryAfter } = e);
  else if (e instanceof SrganError) ({ status, code } = { status: statusOf(e.code), code: e.code });
  else {
    const fastify = e as { statusCode?: number; code?: string };
    if (fastify.code === "FST_ERR_CTP_BODY_TOO_LARGE") ({ status, code } = { status: 413, code: "ERR_BODY_TOO_LARGE" });
    else if (fastify.statusCode && fastify.statusCode >= 400 && fastify.statusCode < 500) ({ status, code } = { status: fastify.statusCode, code: "ERR_BAD_REQUEST" });
  }
  return { status, retryAfter, body: { code, message } };
}

const describeCodes = (codes: AnswerCode[]) =>
  codes.map((c) => `\`${c}\`: ${c === "ERR_UNEXPECTED" ? "a failure that is a bug (reported to the operator)" : ERROR_CODES[c].replace(/^\d{3}: /, "")}`).join("; ");

/** An error answer's schema: `{ code, message, requestId }`, `code` one of the status's. */
function errorAnswer(status: Status) {
  const codes = codesOf(status);
  return {
    description: describeCodes(codes),
    type: "object",
    required: ["code", "message", "requestId"],
    additionalProperties: false,
    properties: {
      code: { type: "string", enum: codes },
      message: { type: "string", description: "what went wrong, and what to do about it" },
      requestId: { type: "string", description: "this request's id, as in the server's logs and the X-Request-Id header" },
    },
  };
}

const errors = (...statuses: Status[]) => Object.fromEntries([...statuses, 500 as const].map((s) => [s, errorAnswer(s)]));

const image = (description: string) => ({
  description,
  headers: { "Srgan-Model": { type: "string", description: "the network that ran (with model 'auto': the one it picked)" } },
  content: Object.fromEntries(["image/png", "image/jpeg"].map((type) => [type, { schema: { type: "string", contentMediaType: type } }])),
});

const jobView = {
  type: "object",
  required: ["id", "state", "progress"],
  additionalProperties: false,
  properties: {
    id: { type: "string" },
    state: { type: "string", enum: ["waiting", "active", "completed", "failed"] },
    progress: { type: "number", minimum: 0, maximum: 1 },
    error: { type: "object", required: ["code", "message"], additionalProperties: false, properties: { code: { type: "string" }, message: { type: "string" } } },
  },
};

const jobParams = { type: "object", required: ["id"], properties: { id: { type: "string", maxLength: 100, description: "the id POST /v1/jobs answered" } } };

export interface RouteSchemas {
  upscale: FastifySchema;
  submit: FastifySchema;
  job: FastifySchema;
  result: FastifySchema;
  healthz: FastifySchema;
  metrics: FastifySchema;
  openapi: FastifySchema;
}

/**
 * Every route's schema. `models`: what ?model= may name. `keys`: whether API keys are required
 * (then key-guarded routes also answer 401/403 and 429 ERR_RATE_LIMITED).
 */
export function routeSchemas(models: string[], keys: boolean): RouteSchemas {
  const guarded: Status[] = keys ? [401, 403, 429] : [];
  const query = (callback: boolean) => ({
    type: "object",
    additionalProperties: false,
    properties: {
      model: { type: "string", enum: models, description: "the network (default: the server's --model)" },
      scale: { type: "integer", minimum: 1, maximum: 8, description: "the scale (default: the server's --scale, else the network's own)" },
      format: { type: "string", enum: ["png", "jpeg"], description: "the output's format (default png)" },
      quality: { type: "integer", minimum: 1, maximum: 100, description: "JPEG quality (default 90)" },
      ...(callback ? { callback: { type: "string", format: "uri", maxLength: 2048, description: "a URL POSTed { id, state, error? } when the job ends, signed in the Srgan-Signature header (hosts: the server's --webhook-allow)" } } : {}),
    },
  });
  return {
    upscale: {
      summary: "Upscale an image and answer it",
      description: "The body is the image file's bytes (PNG or JPEG, told by its first bytes; any Content-Type). The answer is byte for byte what `srgan upscale` writes for the same options.",
      querystring: query(false),
      response: { 200: image("the upscaled image"), ...errors(400, 413, 429, 503, ...guarded) },
    },
    submit: {
      summary: "Queue an upscale job",
      description: "The body as for POST /v1/upscale. Follow the job with GET /v1/jobs/{id}; it is kept for the server's --result-ttl after it ends.",
      querystring: query(true),
      response: {
        202: { description: "queued", headers: { Location: { type: "string" } }, type: "object", required: ["id"], additionalProperties: false, properties: { id: { type: "string" } } },
        ...errors(400, 413, 429, 503, ...guarded),
      },
    },
    job: {
      summary: "A job's state and progress",
      params: jobParams,
      response: { 200: { description: "the job", ...jobView }, ...errors(404, 503, ...guarded) },
    },
    result: {
      summary: "A completed job's image",
      description: "409 until the job is completed; a failed job answers its own error.",
      params: jobParams,
      response: { 200: image("the upscaled image"), ...errors(400, 404, 409, 413, 503, ...guarded) },
    },
    healthz: {
      summary: "Liveness and queue depth (no key needed)",
      ...(keys ? { security: [] } : {}),
      response: {
        200: { description: "serving", type: "object", required: ["status", "waiting", "active"], additionalProperties: false, properties: { status: { type: "string", enum: ["ok"] }, waiting: { type: "integer" }, active: { type: "integer" } } },
        ...errors(503),
      },
    },
    metrics: {
      summary: "Prometheus metrics (text format 0.0.4)",
      response: { 200: { description: "the srgan_ series", content: { "text/plain": { schema: { type: "string" } } } }, ...errors(503, ...guarded) },
    },
    openapi: {
      summary: "This document",
      response: { 200: { description: "OpenAPI 3.1", type: "object", additionalProperties: true }, ...errors(503, ...guarded) },
    },
  };
}

/**
 * Fastify's schema errors as our 400s, in words that name the parameter and what it takes
 * (e.g. "scale must be an integer in [1, 8], got '9'"). Needs Ajv's `verbose` (data, parentSchema).
 */
export function queryError(errors: FastifySchemaValidationError[], where: string): Error {
  const e = errors[0] as FastifySchemaValidationError & { data?: unknown; parentSchema?: Record<string, unknown> };
  const name = e.instancePath.replace(/^\//, "");
  const part = where === "querystring" ? "query parameter" : where;
  if (e.keyword === "additionalProperties") {
    const takes = Object.keys((e.parentSchema?.properties ?? {}) as object).join(", ");
    return badRequest(`unknown ${part} '${String(e.params.additionalProperty)}'; this endpoint takes ${takes}`);
  }
  if (Array.isArray(e.data)) return badRequest(`${part} '${name}' is given more than once`);
  const s = e.parentSchema ?? {};
  const takes = s.enum ? `one of ${(s.enum as string[]).join(", ")}`
    : s.type === "integer" ? `an integer in [${String(s.minimum)}, ${String(s.maximum)}]`
    : s.format === "uri" ? `an absolute URL of at most ${String(s.maxLength)} characters`
    : s.maxLength !== undefined ? `a ${String(s.type)} of at most ${String(s.maxLength)} characters`
    : `a ${String(s.type)}`;
  return badRequest(`${name || part} must be ${takes}, got '${String(e.data)}'`);
}

export const badRequest = (message: string) => new ServiceError("ERR_BAD_REQUEST", 400, message);
