// SPDX-License-Identifier: MIT
// Deno entry (the "deno" export condition): the public API, with threads on module Web Workers, and
// the asset escape hatch. Deno needs --allow-read for the package's wasm and worker files.
export * from "./index.js";
