// SPDX-License-Identifier: MIT
// Networks that ship with the package: our trained `natural` (the default, ×4 and ×2), `natural-fast` and
// `natural-real` (for JPEG photos), and
// the classic resamplers as graphs like any other, so the API, CLI, tiling and threads treat them all alike.
// A built-in name plus a scale picks one network: `natural` at ×2 is models/natural-x2.srnet.
import type { Graph, ValidatedGraph } from "./types.js";
import { validateGraph } from "./graph.js";
import type { ResizeMethod } from "../ops/resize-taps.js";
import type { AssetName } from "../platform/assets.js";
import type { ImageFormat } from "../image/codec.js";

/** Resamplers: graphs without weights. */
const RESAMPLERS = ["nearest", "bilinear", "bicubic"] as const;
/** Networks trained by this package (`srgan train`), per scale, shipped in models/ (see docs/models.md). */
export const TRAINED: Readonly<Record<string, Readonly<Partial<Record<number, AssetName>>>>> = {
  natural: { 4: "natural-x4.srnet", 2: "natural-x2.srnet" },
  "natural-fast": { 4: "natural-fast-x4.srnet" },
  "natural-real": { 4: "natural-real-x4.srnet" },
};
export const BUILTIN_NAMES = [...Object.keys(TRAINED), ...RESAMPLERS] as readonly string[];
/** The network used when none is named. */
export const DEFAULT_MODEL = "natural";
/** The scale of a built-in when none is asked for. */
export const DEFAULT_SCALE = 4;

/**
 * What `--model auto` runs for an input file: `natural-real` for JPEG (compressed, often noisy: the
 * network trained to remove that), `natural` for PNG and other lossless input (`natural-real` smooths
 * a little of the finest clean detail there). At a scale without `natural-real`, `natural`.
 */
export function autoModel(format: ImageFormat | undefined, scale = DEFAULT_SCALE): string {
  return format === "jpeg" && TRAINED["natural-real"][scale] !== undefined ? "natural-real" : DEFAULT_MODEL;
}
export const AUTO_MODEL = "auto";

/** Built-in names that have a network at `scale` (resamplers run at any integer scale). */
export function builtinNamesAt(scale: number): string[] {
  return [...Object.keys(TRAINED).filter((name) => TRAINED[name][scale] !== undefined), ...RESAMPLERS];
}

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

/**
 * How the alpha plane of an image with transparency is resized: bicubic at the network's scale, on
 * one channel (it never goes through the network). Every backend is given this graph.
 */
export function alphaGraph(scale: number): ValidatedGraph {
  return validateGraph(resizeGraph("bicubic", scale, 1));
}

export function builtinGraph(name: string, scale = DEFAULT_SCALE): Graph | undefined {
  return (RESAMPLERS as readonly string[]).includes(name) ? resizeGraph(name as ResizeMethod, scale) : undefined;
}
