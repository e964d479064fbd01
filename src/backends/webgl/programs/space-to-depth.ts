// SPDX-License-Identifier: MIT
// SpaceToDepth on the GPU (src/ops/space-to-depth.ts): [h·r, w·r, c] → [h, w, c·r²], the inverse of
// PixelShuffle in either channel order. Each output component is one fetch from the input layer that
// holds its source channel.
import type { GraphNode, Shape } from "../../../model/types.js";
import { FRAGMENT_HEADER } from "../context.js";
import { FRAG_XY, layerwiseProgram, samplersGlsl, type ProgramFactory } from "./common.js";

export const spaceToDepthProgram: ProgramFactory = (env, node: GraphNode, _weights, [x]: Shape[], out: Shape) => {
  const r = node.attrs.r as number;
  const torch = (node.attrs.order ?? "tf") === "torch";
  return layerwiseProgram(env, `${FRAGMENT_HEADER}
${samplersGlsl(1)}const int R = ${r};
const int C = ${x.c};
const int OUT_C = ${out.c};
out vec4 o;
void main() {
  ivec2 p = ${FRAG_XY};
  vec4 v = vec4(0.0);
  for (int j = 0; j < 4; j++) {
    int ch = u_layer * 4 + j;
    if (ch >= OUT_C) break;
    // Output channel ch holds input channel k of sub-pixel (dy, dx).
    int k = ${torch ? "ch / (R * R)" : "ch % C"};
    int sub = ${torch ? "ch % (R * R)" : "ch / C"};
    ivec2 src = p * R + ivec2(sub % R, sub / R);
    v[j] = texelFetch(u_in0, ivec3(src, k >> 2), 0)[k & 3];
  }
  o = v;
}
`, undefined, 4);
};
