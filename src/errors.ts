// SPDX-License-Identifier: MIT
// Every error this package throws on purpose lives here: one base class with a stable `code`, and
// message builders that say what went wrong, why, and how to fix it.

export type ErrorCode =
  | "ERR_MODEL_FORMAT"      // a network file or graph is malformed, truncated or inconsistent
  | "ERR_IMAGE_DECODE"      // an input image cannot be decoded
  | "ERR_IMAGE_ENCODE"      // an output image cannot be encoded
  | "ERR_INVALID_INPUT"     // pixels/dimensions handed to the API are inconsistent
  | "ERR_OUT_OF_MEMORY"     // the shared memory pool cannot hold what a job needs
  | "ERR_KERNEL"            // a wasm kernel trapped or returned a non-zero code
  | "ERR_UNSUPPORTED"       // the runtime lacks a required feature (SIMD, threads, WebGL2…)
  | "ERR_ABORTED"           // the caller's AbortSignal fired
  | "ERR_WORKER"            // a worker died or misbehaved
  | "ERR_DISPOSED"          // the upscaler was used after dispose()
  | "ERR_CONTEXT_LOST"      // the WebGL context was lost (the job falls back to wasm where allowed)
  | "ERR_POOL"              // buffer-pool misuse (double release, foreign lease)
  | "ERR_IMAGE_TOO_LARGE"   // an image's declared size is beyond what we agree to decode
  | "ERR_SCALE"             // no network at the scale asked for, or the named network has another scale
  | "ERR_USAGE"             // the command line is wrong (unknown command or flag, missing argument)
  | "ERR_IO"                // a file or directory cannot be read or written
  | "ERR_MISSING_PACKAGE"   // `srgan serve`/`srgan worker` without the package srgan-wasm-server installed
  // `srgan serve` (HTTP status in ServiceError.status):
  | "ERR_BAD_REQUEST"       // 400: a query parameter or body the service does not take
  | "ERR_BODY_TOO_LARGE"    // 413: the request body is over --max-body
  | "ERR_NOT_FOUND"         // 404: no such job or route
  | "ERR_JOB_PENDING"       // 409: the job's result is not ready yet
  | "ERR_QUEUE_FULL"        // 429: --queue jobs are waiting already
  | "ERR_SHUTTING_DOWN"     // 503: the server is draining its jobs before it stops
  | "ERR_QUEUE_UNAVAILABLE"; // 503: Redis (the --redis job queue) cannot be reached

export class SrganError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = "SrganError";
  }
}

export class ModelFormatError extends SrganError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("ERR_MODEL_FORMAT", message, options);
    this.name = "ModelFormatError";
  }
}

export class ImageDecodeError extends SrganError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("ERR_IMAGE_DECODE", message, options);
    this.name = "ImageDecodeError";
  }
}

/**
 * The header declares a size we refuse before allocating anything: a hostile or broken file must not
 * be able to ask for gigabytes. A subclass of ImageDecodeError so one catch handles every bad input.
 */
export class ImageTooLargeError extends ImageDecodeError {
  readonly width: number;
  readonly height: number;
  constructor(width: number, height: number, limit: string) {
    super(`image header declares ${width}×${height} pixels, over the limit of ${limit}. ` +
      "If the file is genuine, split or downscale it with another tool first; otherwise it is corrupt");
    (this as { code: ErrorCode }).code = "ERR_IMAGE_TOO_LARGE";
    this.name = "ImageTooLargeError";
    this.width = width;
    this.height = height;
  }
}

export class ImageEncodeError extends SrganError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("ERR_IMAGE_ENCODE", message, options);
    this.name = "ImageEncodeError";
  }
}

/** A malformed command line; the CLI exits with status 2 for these and 1 for everything else. */
export class UsageError extends SrganError {
  constructor(message: string) {
    super("ERR_USAGE", message);
    this.name = "UsageError";
  }
}

export class IoError extends SrganError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("ERR_IO", message, options);
    this.name = "IoError";
  }
}

const IO_REASONS: Record<string, string> = {
  ENOENT: "no such file or directory",
  EACCES: "permission denied",
  EPERM: "permission denied",
  EISDIR: "it is a directory",
  ENOTDIR: "a parent is not a directory",
  ENOSPC: "no space left on the device",
  EROFS: "the file system is read-only",
  EEXIST: "it already exists",
};

/** `cannot <action> '<path>': <reason>`, the reason in words for the usual errno codes. */
export function ioError(action: string, path: string, cause: unknown): IoError {
  const code = (cause as { code?: string })?.code;
  const reason = (code && IO_REASONS[code]) ?? (cause as Error)?.message ?? String(cause);
  return new IoError(`cannot ${action} '${path}': ${reason}`, { cause });
}

/** A request `srgan serve` refuses: the HTTP status to answer, and for 429/503 when to retry (seconds). */
export class ServiceError extends SrganError {
  readonly status: number;
  readonly retryAfter?: number;
  constructor(code: ErrorCode, status: number, message: string, retryAfter?: number) {
    super(code, message);
    this.name = "ServiceError";
    this.status = status;
    this.retryAfter = retryAfter;
  }
}

export class OutOfMemoryError extends SrganError {
  readonly requestedBytes: number;
  readonly availableBytes: number;
  constructor(requestedBytes: number, availableBytes: number, hint: string) {
    super("ERR_OUT_OF_MEMORY",
      `needs ${mib(requestedBytes)} of working memory but only ${mib(availableBytes)} is free in the pool. ${hint}`);
    this.name = "OutOfMemoryError";
    this.requestedBytes = requestedBytes;
    this.availableBytes = availableBytes;
  }
}

/** DOM-compatible abort: `name` is 'AbortError', `cause` is `signal.reason`. */
export class AbortError extends SrganError {
  constructor(reason?: unknown) {
    super("ERR_ABORTED", "the operation was aborted", { cause: reason });
    this.name = "AbortError";
  }
}

export class UnsupportedError extends SrganError {
  constructor(message: string) {
    super("ERR_UNSUPPORTED", message);
    this.name = "UnsupportedEnvironmentError";
  }
}

/**
 * A wasm kernel returned a non-zero status: it refused its arguments (a bug in the caller, which
 * planned them). `kernel` and `args` say which call; the generated bindings throw it for every kernel.
 */
export class KernelError extends SrganError {
  readonly kernel: string;
  readonly status: number;
  readonly args: Readonly<Record<string, number>>;
  constructor(kernel: string, status: number, args: Record<string, number>) {
    const list = Object.entries(args).map(([k, v]) => `${k}=${v}`).join(", ");
    super("ERR_KERNEL", `wasm kernel ${kernel} returned status ${status} (it refused its arguments): ${kernel}(${list})`);
    this.name = "KernelError";
    this.kernel = kernel;
    this.status = status;
    this.args = args;
  }
}

export class WorkerError extends SrganError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("ERR_WORKER", message, options);
    this.name = "WorkerError";
  }
}

export const mib = (bytes: number): string => `${(bytes / 1048576).toFixed(1)} MiB`;

/** A value as a message shows it: strings quoted, so width '4' does not read as the number 4. */
export function shown(v: unknown): string {
  if (typeof v === "string") return `'${v}' (a string)`;
  if (typeof v === "function") return "a function";
  if (v !== null && typeof v === "object") return Object.prototype.toString.call(v).slice(8, -1).replace(/^Object$/, "an object");
  return String(v);
}

/** Width and height of an image handed to the API: numbers (TypeError), integers in [1, max] (ERR_INVALID_INPUT). */
export function checkImageSides(what: string, width: unknown, height: unknown, max: number): void {
  for (const [name, v] of [["width", width], ["height", height]] as const) {
    if (typeof v !== "number") throw new TypeError(`${what}image.${name} must be a number, got ${shown(v)}`);
    if (!Number.isInteger(v) || v < 1 || v > max) throw invalidInput(`${what}image.${name} is ${v}; width and height must be integers in [1, ${max}]`);
  }
}

export function invalidInput(message: string): SrganError {
  return new SrganError("ERR_INVALID_INPUT", message);
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortError(signal.reason);
}

/**
 * The WebGL context was lost (GPU reset or driver update, too many contexts, WEBGL_lose_context) while
 * or before a job ran on it; nothing drawn since is trusted, so the job's results were discarded.
 * `restorable`: the browser may hand the context back ('webglcontextrestored'); until then run on wasm.
 * (Code ERR_UNSUPPORTED: for now the GPU path is unavailable; catch by class to tell it apart.)
 */
export class ContextLostError extends SrganError {
  readonly restorable: boolean;
  constructor(message: string, restorable: boolean) {
    super("ERR_CONTEXT_LOST", `${message}. Run on backend: 'wasm'${restorable ? " until the context is restored" : ""}.`);
    this.name = "ContextLostError";
    this.restorable = restorable;
  }
}
