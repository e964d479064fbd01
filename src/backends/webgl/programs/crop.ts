// SPDX-License-Identifier: MIT
// Crop on the GPU (src/ops/crop.ts): output (x, y) is input (x + m, y + m), layer for layer.
import type { GraphNode } from "../../../model/types.js";
import { FRAGMENT_HEADER } from "../context.js";
import { FRAG_XY, layerwiseProgram, samplersGlsl, type ProgramFactory } from "./common.js";

export const cropProgram: ProgramFactory = (env, node: GraphNode) => layerwiseProgram(env, `${FRAGMENT_HEADER}
${samplersGlsl(1)}out vec4 o;
void main() {
  o = texelFetch(u_in0, ivec3(${FRAG_XY} + ${node.attrs.margin as number}, u_layer), 0);
}
`);
