// SPDX-License-Identifier: MIT
// Activation: ReLU, LeakyReLU, PReLU (per-channel slope) and srgan-rust's 3-parameter Spline, on any
// tensor (image or [1,1,c] vector). The same epilogue is fused into Conv2D (attrs.act there).
import { ModelFormatError } from "../errors.js";
import { Act, type ActName } from "../backends/wasm/abi.js";
import type { GraphNode, Shape, Weight } from "../model/types.js";
import { pad4, type OpDef } from "./op.js";

export interface ActSpec { act: ActName; alpha?: number }

/** Checks an activation spec (`attrs.act`, `attrs.alpha`, weight role `slope`/`spline`) against c channels. */
export function checkActivation(node: GraphNode, c: number, weights: Record<string, Weight>): void {
  const act = (node.attrs.act ?? "none") as string;
  if (!(act in Act)) throw new ModelFormatError(`unknown activation '${act}' (known: ${Object.keys(Act).join(", ")})`);
  if (act === "leaky" && typeof node.attrs.alpha !== "number") throw new ModelFormatError("leaky activation needs a numeric attrs.alpha");
  if (act === "prelu") {
    const s = weights[node.weights.slope];
    if (!s || s.data.length !== c) throw new ModelFormatError(`prelu needs a 'slope' weight of ${c} values`);
  }
  if (act === "spline") {
    const s = weights[node.weights.spline];
    if (!s || s.data.length !== 3 * c) throw new ModelFormatError(`spline needs a 'spline' weight of 3×${c} values (L, Ce, R rows)`);
  }
}

/** Packs activation parameters for the kernels: PReLU slopes to cPad, Spline rows to [3][cPad]. */
export function packActivation(node: GraphNode, c: number, weights: Record<string, Weight>): Record<string, Float32Array> {
  const act = node.attrs.act as ActName | undefined;
  const cp = pad4(c);
  if (act === "leaky") return { actParams: Float32Array.of(node.attrs.alpha as number) };
  if (act === "prelu") {
    const p = new Float32Array(cp);
    p.set(weights[node.weights.slope].data);
    return { actParams: p };
  }
  if (act === "spline") {
    const src = weights[node.weights.spline].data;
    const p = new Float32Array(3 * cp);
    for (let r = 0; r < 3; r++) p.set(src.subarray(r * c, (r + 1) * c), r * cp);
    return { actParams: p };
  }
  return {};
}

export const actCode = (node: GraphNode): number => Act[(node.attrs.act ?? "none") as ActName];

/** Reference activation of one value (channel ch); JS doubles, the oracle for the f32 kernels. */
export function activateRef(x: number, node: GraphNode, ch: number, c: number, weights: Record<string, Float32Array>): number {
  switch (node.attrs.act ?? "none") {
    case "none": return x;
    case "relu": return x > 0 ? x : 0;
    case "leaky": return x > 0 ? x : x * (node.attrs.alpha as number);
    case "prelu": return x > 0 ? x : x * weights.slope[ch];
    case "spline": {
      const s = weights.spline;
      const L = s[ch], C = s[c + ch], R = s[2 * c + ch];
      if (x <= -1) return -(2 / 3) * (C - 1.5 * L * x - 0.875 * L - 0.125 * R);
      if (x >= 1) return (2 / 3) * (C + 1.5 * R * x - 0.125 * L - 0.875 * R);
      return -(1 / 3) * (C * x ** 3 - 3 * C * x - 0.5 * (L + R) * x ** 3 + 0.75 * (L - R) * x * x);
    }
    default: throw new ModelFormatError(`unknown activation '${String(node.attrs.act)}'`);
  }
}

export const Activation: OpDef = {
  name: "Activation",
  bandable: true,
  inferShape(node, [x], weights): Shape {
    checkActivation(node, x.c, weights);
    return x;
  },
  halo: () => 0,
  scale: () => 1,
  pack: (node, weights) => packActivation(node, channelsOf(node, weights), weights),
  wasm(k, { node, inputs: [x], output, packed, y0, y1 }) {
    const w = x.shape.w;
    k.activation_f32(x.ptr, output.ptr, y0 * w, y1 * w, x.shape.c, actCode(node), packed.actParams ?? 0);
  },
  reference({ node, inputs: [x], output, weights, y0, y1 }) {
    const { w, c } = x.shape;
    for (let i = y0 * w * c; i < y1 * w * c; i++) output.data[i] = activateRef(x.data[i], node, i % c, c, weights);
  },
};

// The channel count is only known from the weights for prelu/spline; leaky/relu need none.
function channelsOf(node: GraphNode, weights: Record<string, Weight>): number {
  if (node.attrs.act === "prelu") return weights[node.weights.slope].data.length;
  if (node.attrs.act === "spline") return weights[node.weights.spline].data.length / 3;
  return 0;
}
