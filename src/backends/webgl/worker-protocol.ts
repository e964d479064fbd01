// SPDX-License-Identifier: MIT
// The messages between a page and the worker that runs its WebGL runner on an OffscreenCanvas
// (./worker-host.ts ↔ ./worker-entry.ts), and how errors cross: by name and code, rebuilt on the page as
// the same classes (ContextLostError, OutOfMemoryError, AbortError…) so callers can tell them apart.
// There is no dispose message: the page terminates the worker, and its context goes with it.
// The messages travel on the package's one worker script (src/worker/web-entry.ts), which hands every
// message whose type starts with "gl-" to ./worker-entry.ts.
import { AbortError, ContextLostError, OutOfMemoryError, SrganError, UnsupportedError, type ErrorCode } from "../../errors.js";
import type { ValidatedGraph } from "../../model/types.js";
import type { RgbaImage } from "../../image/rgba.js";
import type { Progress, UpscaledImage } from "../../runtime/scheduler.js";
import type { WebglRunnerOptions } from "./options.js";
import type { WebglStats } from "./runner.js";

/** Runner options that can be posted (no canvas, no callbacks: the worker makes and watches its own). */
export type WorkerRunnerOptions = Omit<WebglRunnerOptions, "canvas" | "onContextLost" | "onContextRestored">;

export type ToGlWorker =
  | { type: "gl-create"; graph: ValidatedGraph; alphaGraph: ValidatedGraph; options: WorkerRunnerOptions }
  /** The image is copied by the post (the caller keeps it); the output comes back transferred. */
  | { type: "gl-upscale"; id: number; image: RgbaImage }
  | { type: "gl-abort"; id: number }
  /** @internal Tests: lose the worker's context (WEBGL_lose_context), as a GPU reset would. */
  | { type: "gl-lose-context" };

export type FromGlWorker =
  | { type: "gl-ready"; stats: WebglStats }
  /** This worker has no WebGL2 on an OffscreenCanvas (the page falls back to its own thread). */
  | { type: "gl-no-webgl"; reason: string }
  | { type: "gl-progress"; id: number; progress: Progress }
  | { type: "gl-done"; id: number; image: UpscaledImage; stats: WebglStats }
  /** id 0: creation failed. */
  | { type: "gl-error"; id: number; error: PostedError; stats?: WebglStats }
  | { type: "gl-lost" }
  | { type: "gl-restored" };

export interface PostedError {
  name: string;
  code?: string;
  message: string;
  restorable?: boolean;
  requestedBytes?: number;
  availableBytes?: number;
}

export function postedError(e: unknown): PostedError {
  const { name, code, message, restorable, requestedBytes, availableBytes } = (e ?? {}) as Partial<PostedError>;
  return { name: name ?? "Error", code, message: message ?? String(e), restorable, requestedBytes, availableBytes };
}

/**
 * The worker's error as the page's class. An abort carries the page's `signal.reason` as its cause; an
 * out-of-memory error keeps its sizes (the message is the worker's, hint included).
 */
export function revivedError(e: PostedError, signal?: AbortSignal): Error {
  if (e.code === "ERR_ABORTED") return new AbortError(signal?.reason);
  if (e.name === "ContextLostError") {
    const err = new ContextLostError("", e.restorable === true);
    err.message = e.message;
    return err;
  }
  if (e.code === "ERR_OUT_OF_MEMORY") {
    const err = new OutOfMemoryError(e.requestedBytes ?? 0, e.availableBytes ?? 0, "");
    err.message = e.message;
    return err;
  }
  if (e.code === "ERR_UNSUPPORTED") return new UnsupportedError(e.message);
  if (e.code) {
    const err = new SrganError(e.code as ErrorCode, e.message);
    err.name = e.name;
    return err;
  }
  const err = new Error(e.message);
  err.name = e.name;
  return err;
}
