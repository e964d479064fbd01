// SPDX-License-Identifier: MIT
// PixelShuffle on the GPU (src/ops/pixel-shuffle.ts semantics): [h, w, c·r²] → [h·r, w·r, c], channel
// order 'tf' ((dy·r + dx)·c + k) or 'torch' (k·r² + dy·r + dx). Each output component is one fetch
// from the input layer that holds its source channel.
import type { GraphNode, Shape } from "../../../model/types.js";
import { FRAGMENT_HEADER } from "../context.js";
import { FRAG_XY, layerwiseProgram, samplersGlsl, type ProgramFactory } from "./common.js";

export const pixelShuffleProgram: ProgramFactory = (env, node: GraphNode, _weights, _inputs: Shape[], out: Shape) => {
  const r = node.attrs.r as number;
  const torch = (node.attrs.order ?? "tf") === "torch";
  return layerwiseProgram(env, `${FRAGMENT_HEADER}
${samplersGlsl(1)}const int R = ${r};
const int C = ${out.c};
out vec4 o;
void main() {
  ivec2 p = ${FRAG_XY};
  ivec2 src = p / R;
  int dy = p.y - src.y * R, dx = p.x - src.x * R;
  vec4 v = vec4(0.0);
  for (int j = 0; j < 4; j++) {
    int k = u_layer * 4 + j;
    if (k >= C) break;
    int ch = ${torch ? "k * R * R + dy * R + dx" : "(dy * R + dx) * C + k"};
    v[j] = texelFetch(u_in0, ivec3(src, ch >> 2), 0)[ch & 3];
  }
  o = v;
}
`, undefined, 4);
};
