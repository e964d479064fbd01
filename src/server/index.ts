// SPDX-License-Identifier: MIT
// `srgan-wasm/server`: the HTTP service behind `srgan serve`, for Node only (Fastify); kept out of the
// main entries so browser and Deno bundles never pull it in.
export { createServer, type ServerOptions } from "./app.js";
export { createWorker, type SrganWorker, type WorkerOptions } from "./redis.js";
export type { JobState } from "./queue.js";
