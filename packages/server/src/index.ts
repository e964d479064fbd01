// SPDX-License-Identifier: MIT
// srgan-wasm-server: the HTTP service and Redis job queue behind `srgan serve` and `srgan worker`, for
// Node only (Fastify, BullMQ, ioredis). A package of its own so that installing the library (in a
// browser app, say) brings none of them.
import type { ServerPackage } from "srgan-wasm/internal";
import { createServer } from "./app.js";
import { checkRedisUrl } from "./backend.js";
import { createWorker } from "./redis.js";

export { createServer, type ServerOptions } from "./app.js";
export { createWorker, type SrganWorker, type WorkerOptions } from "./redis.js";
export { checkRedisUrl } from "./backend.js";
export type { JobState } from "./queue.js";

// What srgan-wasm's CLI calls in this package (src/cli/server-package.ts): checked when this builds.
({ createServer, createWorker, checkRedisUrl }) satisfies ServerPackage;
