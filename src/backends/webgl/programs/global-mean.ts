// SPDX-License-Identifier: MIT
// GlobalMean on the GPU (src/ops/global-pool.ts semantics): [h, w, c] → [1, 1, c]. A sum reduction in
// passes of BLOCK×BLOCK texels until one texel is left, the last pass scaling by 1/(h·w). Blocked sums
// keep float32 error near log(h·w) roundings instead of h·w (the reference sums in float64).
import type { Shape } from "../../../model/types.js";
import { FRAGMENT_HEADER } from "../context.js";
import { acquireTensor, FRAG_XY, layersOf, type GpuTensor, type ProgramFactory } from "./common.js";

const BLOCK = 8;

export const globalMeanProgram: ProgramFactory = (env) => {
  const source = `${FRAGMENT_HEADER}
uniform sampler2DArray u_in;
uniform int u_layer;
uniform ivec2 u_inSize;
uniform float u_scale;
const int B = ${BLOCK};
out vec4 o;
void main() {
  ivec2 p = ${FRAG_XY} * B;
  ivec2 e = min(p + B, u_inSize);
  vec4 s = vec4(0.0);
  for (int y = p.y; y < e.y; y++)
    for (int x = p.x; x < e.x; x++) s += texelFetch(u_in, ivec3(x, y, u_layer), 0);
  o = s * u_scale;
}
`;
  const { ctx } = env;
  ctx.program(source);
  return {
    run([input]: GpuTensor[], output: GpuTensor) {
      const scale = 1 / (input.h * input.w);
      let cur = input;
      const scratch: GpuTensor[] = [];
      try {
        for (;;) {
          const h = Math.ceil(cur.h / BLOCK), w = Math.ceil(cur.w / BLOCK);
          const last = h === 1 && w === 1;
          const dst = last ? output : acquireTensor(env, { h, w, c: cur.c });
          if (!last) scratch.push(dst);
          const u = ctx.use(ctx.program(source));
          ctx.bindTexture(0, cur.tex.tex);
          u.int("u_in", 0).ivec2("u_inSize", cur.w, cur.h).float("u_scale", last ? scale : 1);
          for (let l = 0; l < layersOf(cur.c); l++) {
            u.int("u_layer", l);
            ctx.drawToLayer(dst.tex.tex, l, w, h, BLOCK * BLOCK);
          }
          if (last) return;
          cur = dst;
        }
      } finally {
        for (const t of scratch) env.pool.release(t.tex);
      }
    },
    scratchBytes: (inputs: Shape[]) => {
      let { h, w } = inputs[0], sum = 0;
      while (h > BLOCK || w > BLOCK) { h = Math.ceil(h / BLOCK); w = Math.ceil(w / BLOCK); sum += env.pool.bytesFor(env.floatFormat, w, h, layersOf(inputs[0].c)); }
      return sum;
    },
    dispose() {},
  };
};
