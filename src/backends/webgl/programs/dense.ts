// SPDX-License-Identifier: MIT
// Dense on the GPU (src/ops/dense.ts semantics): [1, 1, K_i] vectors times [K_i, N] matrices, summed,
// plus an optional bias and activation. That is exactly a k = 1 convolution of 1×1 images, so the
// matrices are repacked into the conv layout and the conv shader runs it (one draw per 4 units).
import type { GraphNode, Shape, Weight } from "../../../model/types.js";
import { activationTexels } from "../../../ops/activations.js";
import type { ProgramFactory } from "./common.js";
import { compileConv } from "./conv2d.js";

export const denseProgram: ProgramFactory = (env, node: GraphNode, weights: Record<string, Weight>, inputs: Shape[]) => {
  const n = node.attrs.units as number;
  const matrices = inputs.map((_, i) => weights[node.weights[`matrix${i}`]].data);
  const { act, texels } = activationTexels(node, weights, n);
  return compileConv(env, {
    k: 1, pad: 0, cout: n, cins: inputs.map((s) => s.c),
    // Graph layout [K, N], input-major: m[q·N + j] is input q's weight for unit j.
    kernel: (i, o, _ky, _kx, q) => matrices[i][q * n + o],
    staticBias: node.weights.bias ? weights[node.weights.bias].data : undefined,
    dynamicBias: false,
    act, actTexels: texels, alpha: (node.attrs.alpha as number | undefined) ?? 0,
  });
};
