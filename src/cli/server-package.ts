// SPDX-License-Identifier: MIT
// `srgan serve` and `srgan worker` run the HTTP service and the Redis queue of the package
// srgan-wasm-server, which is installed on its own (npm install srgan-wasm-server) so that a library
// install carries no Fastify, BullMQ or Redis client. This is what the two commands call in it; the
// server package checks at build time that it provides exactly this (packages/server/src/index.ts).
import { SrganError } from "../errors.js";
import type { UpscalerOptions } from "../api/options.js";

export const SERVER_PACKAGE = "srgan-wasm-server";

type Shared = Pick<UpscalerOptions, "threads" | "tileSize" | "memoryLimit" | "convAlgorithm">;

/** What `srgan serve` passes to createServer. */
export interface ServeFlags extends Shared {
  model: string;
  scale?: number;
  maxPixels?: number;
  maxBody?: number;
  queue?: number;
  resultTtl?: number;
  redis?: string;
  onError: (error: unknown) => void;
}

/** What `srgan worker` passes to createWorker. */
export interface WorkerFlags extends Shared {
  model: string;
  redis: string;
  stalledAfter?: number;
  onJob: (id: string, state: "completed" | "failed", seconds: number, error?: string) => void;
  onError: (error: unknown) => void;
}

export interface ServerPackage {
  createServer: (options: ServeFlags) => Promise<{ listen(options: { host: string; port: number }): Promise<string>; close(): Promise<unknown> }>;
  createWorker: (options: WorkerFlags) => Promise<{ close(): Promise<void> }>;
  /** Throws a TypeError naming `name` unless `url` is a redis:// or rediss:// URL. */
  checkRedisUrl: (name: string, url: unknown) => string;
}

/** The server package, or ERR_MISSING_PACKAGE saying how to install it when it is not there. */
export async function loadServerPackage(command: string): Promise<ServerPackage> {
  try {
    // A variable, not a literal: the main package's build must not need the server package's types.
    const name: string = SERVER_PACKAGE;
    return await import(name) as ServerPackage;
  } catch (e) {
    const missing = (e as { code?: string }).code === "ERR_MODULE_NOT_FOUND" && new RegExp(`'${SERVER_PACKAGE}'`).test((e as Error).message);
    if (!missing) throw e;
    throw new SrganError("ERR_MISSING_PACKAGE", `srgan ${command} needs the package ${SERVER_PACKAGE} (the HTTP service and the Redis job queue), which is not installed here: npm install ${SERVER_PACKAGE} (beside srgan-wasm; npm install -g ${SERVER_PACKAGE} for a global srgan)`, { cause: e });
  }
}
