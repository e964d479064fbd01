// SPDX-License-Identifier: MIT
// createServer's options: what each means, its default, and the check made when the server is
// created (TypeError/RangeError naming the option), so nothing is found wrong at the first request.
import { MAX_IMAGE_PIXELS, type UpscalerOptions } from "srgan-wasm";
import { resolveOptions } from "srgan-wasm/internal";
import { checkRedisUrl } from "./backend.js";

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

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
  /**
   * A key file (auth.ts: `sha256:HEX [label=…] [scope=…] [rate=N] [pixels=N]` a line): every endpoint
   * but /healthz then needs one of its keys. Re-read by `reloadApiKeys()`. Default: none, no keys.
   */
  apiKeys?: string;
  /** Requests per minute per key (the file's rate= overrides it). Needs apiKeys. Default: unlimited. */
  rateLimit?: number;
  /** Input pixels per UTC day per key (the file's pixels= overrides it). Needs apiKeys. Default: unlimited. */
  pixelQuota?: number;
  /** Origins (https://app.example.com, or '*') that browsers may call from; default none (no CORS headers). */
  corsOrigins?: string[];
  /** Hosts webhooks may go to (webhook-target.ts); default none: ?callback= is refused. */
  webhookAllow?: string[];
  /** The HMAC secret webhooks are signed with (at least 16 characters); needed with webhookAllow. */
  webhookSecret?: string;
  /** Pino level of Fastify's JSON logs. Default 'silent' (`srgan serve`: 'info'). */
  logLevel?: LogLevel;
  /** Where the log lines go; default stdout. */
  logStream?: { write(line: string): void };
  /** Told about unexpected (status 500) failures and Redis connection errors; default: none. */
  onError?: (error: unknown) => void;
}

const DEFAULTS = { maxPixels: 2 ** 22, maxBody: 50 * 2 ** 20, queue: 16, resultTtl: 600 };

export type CheckedOptions = Required<Pick<ServerOptions, keyof typeof DEFAULTS>> & ServerOptions;

export function checkOptions(options: ServerOptions): CheckedOptions {
  if (options === null || typeof options !== "object") throw new TypeError("createServer(options): options must be an object");
  const o = { ...DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as CheckedOptions;
  const int = (name: keyof ServerOptions, min: number, max: number) => {
    const v = o[name] as number | undefined;
    if (v !== undefined && (!Number.isInteger(v) || v < min || v > max)) throw new RangeError(`options.${name} must be an integer in [${min}, ${max}], got ${String(v)}`);
  };
  int("maxPixels", 1, MAX_IMAGE_PIXELS);
  int("maxBody", 1, 2 ** 31);
  int("queue", 0, 100_000);
  int("resultTtl", 1, 7 * 24 * 3600);
  int("rateLimit", 1, 1e9);
  int("pixelQuota", 1, Number.MAX_SAFE_INTEGER);
  const fn = (name: "onError") => { if (o[name] !== undefined && typeof o[name] !== "function") throw new TypeError(`options.${name} must be a function`); };
  fn("onError");
  if (o.model !== undefined && typeof o.model !== "string") throw new TypeError("options.model must be a built-in name or a network file's path");
  if (o.redis !== undefined) checkRedisUrl("options.redis", o.redis);
  if (o.apiKeys !== undefined && (typeof o.apiKeys !== "string" || o.apiKeys === "")) throw new TypeError("options.apiKeys must be the path of a key file");
  for (const name of ["rateLimit", "pixelQuota"] as const) {
    if (o[name] !== undefined && o.apiKeys === undefined) throw new TypeError(`options.${name} needs options.apiKeys: limits are counted per key`);
  }
  const list = (name: "corsOrigins" | "webhookAllow") => {
    if (o[name] !== undefined && (!Array.isArray(o[name]) || !o[name].every((v) => typeof v === "string"))) throw new TypeError(`options.${name} must be an array of strings`);
  };
  list("corsOrigins");
  for (const origin of o.corsOrigins ?? []) {
    if (origin !== "*" && !isOrigin(origin)) throw new TypeError(`options.corsOrigins: '${origin}' is not an origin (scheme://host[:port], no path), nor '*'`);
  }
  list("webhookAllow");
  if (o.webhookAllow?.length && (typeof o.webhookSecret !== "string" || o.webhookSecret.length < 16)) {
    throw new TypeError("options.webhookSecret must be a string of at least 16 characters when options.webhookAllow is set: webhooks are signed with it");
  }
  if (o.logLevel !== undefined && !LOG_LEVELS.includes(o.logLevel)) throw new TypeError(`options.logLevel must be one of ${LOG_LEVELS.join(", ")}, got ${String(o.logLevel)}`);
  if (o.logStream !== undefined && typeof o.logStream?.write !== "function") throw new TypeError("options.logStream must have a write(line) method");
  resolveOptions(options); // the upscaler options, checked now rather than at the first request
  return o;
}

function isOrigin(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === "http:" || url.protocol === "https:") && url.origin === text;
  } catch {
    return false;
  }
}
