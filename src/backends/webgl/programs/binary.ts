// SPDX-License-Identifier: MIT
// Add and Mul on the GPU (src/ops/add.ts, src/ops/mul.ts): a ∘ b of one shape, or a ∘ a [1, 1, c] vector
// broadcast to every pixel (the second input's texel (0, 0) of the same layer). Add may scale its
// inputs (attrs.coefficients: α·a + β·b).
import type { GraphNode, Shape } from "../../../model/types.js";
import { FRAGMENT_HEADER } from "../context.js";
import { FRAG_XY, layerwiseProgram, samplersGlsl, type ProgramFactory } from "./common.js";

const isVector = (s: Shape) => s.h === 1 && s.w === 1;

function binaryProgram(expr: string): ProgramFactory {
  return (env, node: GraphNode, _weights, [a, b]: Shape[]) => {
    const [alpha, beta] = (node.attrs.coefficients as [number, number] | undefined) ?? [1, 1];
    const source = `${FRAGMENT_HEADER}
${samplersGlsl(2)}uniform float u_alpha;
uniform float u_beta;
out vec4 o;
void main() {
  ivec2 p = ${FRAG_XY};
  vec4 a = texelFetch(u_in0, ivec3(p, u_layer), 0);
  vec4 b = texelFetch(u_in1, ivec3(${isVector(b) && !isVector(a) ? "0, 0" : "p"}, u_layer), 0);
  o = ${expr};
}
`;
    return layerwiseProgram(env, source, (u) => u.float("u_alpha", alpha).float("u_beta", beta), 2);
  };
}

export const addProgram = binaryProgram("u_alpha * a + u_beta * b");
export const mulProgram = binaryProgram("a * b");
