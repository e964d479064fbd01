// SPDX-License-Identifier: MIT
// Networks that ship with the package. The classic resamplers are graphs like any other, so the API,
// CLI, tiling and threads treat them exactly as trained networks.
import type { Graph } from "./graph.js";
import type { ResizeMethod } from "../ops/resize.js";

export const BUILTIN_NAMES = ["nearest", "bilinear", "bicubic"] as const;
export type BuiltinName = (typeof BUILTIN_NAMES)[number];
/** The network used when none is named. */
export const DEFAULT_MODEL: BuiltinName = "bicubic";

/** A one-op graph that resizes by `scale` with `method`, on `channels` channels. */
export function resizeGraph(method: ResizeMethod, scale = 4, channels = 3): Graph {
  return {
    name: method,
    scale,
    channels,
    input: "x",
    output: "y",
    nodes: [{ op: "Resize", inputs: ["x"], output: "y", attrs: { method, scale }, weights: {} }],
    weights: {},
    meta: { description: `${method} interpolation (no learned weights)` },
  };
}

export function builtinGraph(name: string): Graph | undefined {
  return (BUILTIN_NAMES as readonly string[]).includes(name) ? resizeGraph(name as ResizeMethod) : undefined;
}
