// SPDX-License-Identifier: MIT
// Resize: nearest, bilinear or bicubic (Keys, a = −0.5) resampling with half-pixel centres and
// MATLAB imresize semantics (symmetric edge extension; antialiased kernel widening when shrinking).
// attrs: { method, scale } to enlarge by an integer factor, or { method, factor } to shrink by one
// (output ⌈n / factor⌉, as imresize(img, 1/factor)). Runs on any channel count.
import { ModelFormatError } from "../errors.js";
import type { GraphNode, Shape } from "../model/graph.js";
import type { OpDef } from "./op.js";

export type ResizeMethod = "nearest" | "bilinear" | "bicubic";
const METHODS: ResizeMethod[] = ["nearest", "bilinear", "bicubic"];

const support = (m: ResizeMethod) => (m === "bicubic" ? 2 : m === "bilinear" ? 1 : 0.5);

export const Resize: OpDef = {
  name: "Resize",
  bandable: true,
  inferShape(node, [x]): Shape {
    const { method, scale, factor } = node.attrs as { method: ResizeMethod; scale?: number; factor?: number };
    if (!METHODS.includes(method)) throw new ModelFormatError(`method must be one of ${METHODS.join(", ")}, got '${method}'`);
    if ((scale === undefined) === (factor === undefined)) throw new ModelFormatError("give exactly one of attrs.scale (enlarge) or attrs.factor (shrink)");
    const s = scale ?? factor!;
    if (!Number.isInteger(s) || s < 1 || s > 16) throw new ModelFormatError(`scale/factor must be an integer in [1, 16], got ${s}`);
    return scale ? { h: x.h * scale, w: x.w * scale, c: x.c } : { h: Math.ceil(x.h / factor!), w: Math.ceil(x.w / factor!), c: x.c };
  },
  halo: (node) => Math.ceil(support(node.attrs.method as ResizeMethod) * ((node.attrs.factor as number) ?? 1)) + 1,
  scale: (node) => (node.attrs.scale as number) ?? 1 / (node.attrs.factor as number),
  wasm() {
    throw new ModelFormatError("Resize wasm kernel not built yet");
  },
  reference() {
    throw new ModelFormatError("Resize reference not built yet");
  },
};
