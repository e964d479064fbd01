// SPDX-License-Identifier: MIT
// Add on the GPU (src/ops/add.ts semantics): a + b of one shape, or a + a [1, 1, c] vector broadcast to
// every pixel (the second input's texel (0, 0) of the same layer).
import type { Shape } from "../../../model/types.js";
import { FRAGMENT_HEADER } from "../context.js";
import { FRAG_XY, layersOf, type GpuTensor, type ProgramFactory } from "./common.js";

const isVector = (s: Shape) => s.h === 1 && s.w === 1;

export const addProgram: ProgramFactory = (env, _node, _weights, [a, b]: Shape[]) => {
  const broadcast = isVector(b) && !isVector(a);
  const source = `${FRAGMENT_HEADER}
uniform sampler2DArray u_a;
uniform sampler2DArray u_b;
uniform int u_layer;
out vec4 o;
void main() {
  ivec2 p = ${FRAG_XY};
  o = texelFetch(u_a, ivec3(p, u_layer), 0) + texelFetch(u_b, ivec3(${broadcast ? "0, 0" : "p"}, u_layer), 0);
}
`;
  const { ctx } = env;
  ctx.program(source);
  return {
    run([x, y]: GpuTensor[], output: GpuTensor) {
      const u = ctx.use(ctx.program(source));
      ctx.bindTexture(0, x.tex.tex);
      ctx.bindTexture(1, y.tex.tex);
      u.int("u_a", 0).int("u_b", 1);
      for (let l = 0; l < layersOf(output.c); l++) {
        u.int("u_layer", l);
        ctx.drawToLayer(output.tex.tex, l, output.w, output.h);
      }
    },
    dispose() {},
  };
};
