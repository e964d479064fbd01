// SPDX-License-Identifier: MIT
// Networks that ship with the package: our trained `natural` (the default) and `natural-fast`, and the classic
// resamplers as graphs like any other, so the API, CLI, tiling and threads treat them all alike.
import type { Graph } from "./graph.js";
import type { ResizeMethod } from "../ops/resize.js";

/** Resamplers: graphs without weights. */
const RESAMPLERS = ["nearest", "bilinear", "bicubic"] as const;
/** Networks trained by this package (`srgan train`), shipped in models/ (see docs/models.md). */
export const TRAINED = { natural: "natural-x4.srnet", "natural-fast": "natural-fast-x4.srnet" } as const;
export const BUILTIN_NAMES = [...Object.keys(TRAINED), ...RESAMPLERS] as readonly string[];
/** The network used when none is named. */
export const DEFAULT_MODEL = "natural";

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
  return (RESAMPLERS as readonly string[]).includes(name) ? resizeGraph(name as ResizeMethod) : undefined;
}
