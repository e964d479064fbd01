// SPDX-License-Identifier: MIT
// The WebGL2 backend's public face: createWebglRunner(graph, options) prepares a network on a new context
// (./runner.ts), self-tested unless told not to (./self-test.ts).
import { validateGraph } from "../../model/graph.js";
import { alphaGraph as defaultAlphaGraph } from "../../model/builtin.js";
import type { Graph, ValidatedGraph } from "../../model/types.js";
import { resolveWebglOptions, type WebglRunnerOptions } from "./options.js";
import { WebglRunner } from "./runner.js";

export { ContextLostError, UnsupportedError } from "../../errors.js";
export type { Capabilities, GlPrecision } from "./context.js";
export type { TexturePoolStats } from "./texture-pool.js";
export { resolveWebglOptions, type WebglRunnerOptions } from "./options.js";
export { WebglRunner, type WebglStats } from "./runner.js";

/**
 * Prepares `graph` (validated here if it is not already) on a new WebGL2 context. `alphaGraph` resizes
 * the alpha plane of images that have one (default: bicubic at the network's scale, as the wasm path).
 * Throws UnsupportedError where WebGL2, float render targets or some op are missing.
 * @example
 * const gl = await createWebglRunner(builtinGraph("bicubic")!);
 * const out = await gl.upscale(imageData); // RGBA8, 4× larger
 * gl.dispose();
 */
export async function createWebglRunner(graph: Graph | ValidatedGraph, options: WebglRunnerOptions = {}, alphaGraph?: ValidatedGraph): Promise<WebglRunner> {
  const opts = resolveWebglOptions(options);
  const g = "receptiveRadius" in graph ? graph : validateGraph(graph);
  const runner = new WebglRunner(g, opts, alphaGraph ?? defaultAlphaGraph(g.scale));
  try {
    runner.prepare();
    if (opts.selfTest) runner.selfTest();
  } catch (e) {
    runner.dispose();
    throw e;
  }
  return runner;
}
