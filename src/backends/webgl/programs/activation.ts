// SPDX-License-Identifier: MIT
// Activation on the GPU (src/ops/activation.ts semantics) over any tensor, image or [1, 1, c]:
// one draw per layer, the same GLSL act() the conv epilogue uses.
import type { GraphNode, Shape, Weight } from "../../../model/types.js";
import { actTexelsPerLayer, activationGlsl, activationTexels } from "../../../ops/activations.js";
import { FRAGMENT_HEADER } from "../context.js";
import {
  textureParam, FRAG_XY, layersOf, paramFetchGlsl, uploadParams, type GpuTensor, type ProgramFactory, type ParamTexture,
} from "./common.js";

export const activationProgram: ProgramFactory = (env, node: GraphNode, weights: Record<string, Weight>, [x]: Shape[]) => {
  const { act, texels } = activationTexels(node, weights, x.c);
  const params: ParamTexture | null = texels.length ? uploadParams(env, texels) : null;
  const source = `${FRAGMENT_HEADER}
${params ? paramFetchGlsl(params.texW) : ""}
uniform sampler2DArray u_in;
uniform int u_layer;
${activationGlsl(act, textureParam(0, actTexelsPerLayer(act)))}
out vec4 o;
void main() {
  o = act(texelFetch(u_in, ivec3(${FRAG_XY}, u_layer), 0), u_layer);
}
`;
  const { ctx } = env;
  ctx.program(source);
  const alpha = (node.attrs.alpha as number | undefined) ?? 0;
  return {
    run([input]: GpuTensor[], output: GpuTensor) {
      const u = ctx.use(ctx.program(source));
      if (params) { ctx.bindTexture(0, params.tex.tex); u.int("u_w", 0); }
      ctx.bindTexture(1, input.tex.tex);
      u.int("u_in", 1).float("u_alpha", alpha);
      for (let l = 0; l < layersOf(output.c); l++) {
        u.int("u_layer", l);
        ctx.drawToLayer(output.tex.tex, l, output.w, output.h);
      }
    },
    dispose() {
      if (params) env.pool.release(params.tex);
    },
  };
};
