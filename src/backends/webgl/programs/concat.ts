// SPDX-License-Identifier: MIT
// Concat on the GPU (src/ops/concat.ts): the inputs' channels one after another. Each output component is
// one fetch from the input, and the layer of it, that holds its channel (the boundaries are constants).
import type { Shape } from "../../../model/types.js";
import { FRAGMENT_HEADER } from "../context.js";
import { FRAG_XY, layerwiseProgram, samplersGlsl, type ProgramFactory } from "./common.js";

export const concatProgram: ProgramFactory = (env, _node, _weights, inputs: Shape[], out: Shape) => {
  let at = 0;
  // GLSL cannot index samplers by a variable: one branch per input, channel ranges fixed at compile time.
  const pick = inputs.map((s, i) => {
    const from = at;
    at += s.c;
    return `${i === 0 ? "" : "else "}if (ch < ${at}) { int k = ch - ${from}; v[j] = texelFetch(u_in${i}, ivec3(p, k >> 2), 0)[k & 3]; }`;
  }).join("\n    ");
  return layerwiseProgram(env, `${FRAGMENT_HEADER}
${samplersGlsl(inputs.length)}out vec4 o;
void main() {
  ivec2 p = ${FRAG_XY};
  vec4 v = vec4(0.0);
  for (int j = 0; j < 4; j++) {
    int ch = u_layer * 4 + j;
    if (ch >= ${out.c}) break;
    ${pick}
  }
  o = v;
}
`, undefined, 4);
};
