// SPDX-License-Identifier: MIT
// `srgan-wasm/internal`: what srgan-wasm-server (packages/server) uses from this package beyond the
// public API. Not public: it may change in any release; the server package pins this package's version.
export { resolveOptions } from "./api/options.js";
export { encodePngStreaming } from "./image/png-stream.js";
export { AUTO_MODEL } from "./model/builtin.js";
export type { ServerPackage, ServeFlags, WorkerFlags } from "./cli/server-package.js";
