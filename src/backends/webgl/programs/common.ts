// SPDX-License-Identifier: MIT
// What the per-op programs share: the tensor-on-texture convention, the interface a compiled node
// implements, and parameter textures (weights laid out linearly in RGBA texels). The activations' GLSL
// comes from the activation table, src/ops/activations.ts.
import { UnsupportedError } from "../../../errors.js";
import type { GraphNode, Shape, Weight } from "../../../model/types.js";
import type { GlContext, Uniforms } from "../context.js";
import type { GpuTexture, TexFormat, TexturePool } from "../texture-pool.js";

/**
 * A tensor [h, w, c] on the GPU: a 2D-array texture of ⌈c/4⌉ layers, channel 4l + j in component j of
 * layer l at texel (x, y). Components past c are always 0 (every program writes them as 0), so packed
 * weights can treat them as ordinary channels. The texture may be larger than w×h (see texture-pool).
 */
export interface GpuTensor {
  tex: GpuTexture;
  h: number;
  w: number;
  c: number;
}

export const layersOf = (c: number): number => Math.ceil(c / 4);

/** Everything a program needs to run: the context, the pool, and the activation storage format. */
export interface GlEnv {
  ctx: GlContext;
  pool: TexturePool;
  /** rgba32f, or rgba16f when the caller opted into half precision. */
  floatFormat: TexFormat;
  /** @internal Force one conv weight layout (tests cover both); default: per layer, by size. */
  convWeights?: "block" | "texture";
}

/** One graph node compiled for the GPU: weights uploaded once, shaders compiled once. */
export interface NodeProgram {
  /** Writes `output` (already acquired, sized to the node's output shape) from `inputs`. */
  run(inputs: GpuTensor[], output: GpuTensor): void;
  /** Temporary bytes run() acquires beyond its output (for memory planning). */
  scratchBytes?(inputs: Shape[], output: Shape): number;
  /** Returns the node's pinned textures to the pool. */
  dispose(): void;
}

export type ProgramFactory = (env: GlEnv, node: GraphNode, weights: Record<string, Weight>, inputs: Shape[], output: Shape) => NodeProgram;

/** Acquires a float tensor texture of shape s from the pool. */
export function acquireTensor(env: GlEnv, s: Shape): GpuTensor {
  return { tex: env.pool.acquire(env.floatFormat, s.w, s.h, layersOf(s.c)), h: s.h, w: s.w, c: s.c };
}

/**
 * Parameters of one node (conv kernels, biases, activation parameters) as one linear array of RGBA
 * texels in a pinned 2D-array texture (1 layer) that is TEXW texels wide. TEXW is a multiple of 4
 * and every 4-texel group starts at a multiple of 4, so a group never straddles two rows.
 */
export interface ParamTexture {
  tex: GpuTexture;
  texW: number;
}

export function uploadParams(env: GlEnv, texels: Float32Array): ParamTexture {
  const n = Math.max(1, Math.ceil(texels.length / 4));
  const max = env.ctx.caps.maxTextureSize & ~3;
  const texW = Math.min(Math.ceil(n / 4) * 4, max);
  const rows = Math.ceil(n / texW);
  if (rows > env.ctx.caps.maxTextureSize) {
    throw new UnsupportedError(`a layer's ${texels.length} parameters do not fit one ${max}² texture on this GPU. Use backend: 'wasm'.`);
  }
  const data = new Float32Array(texW * rows * 4);
  data.set(texels);
  // Parameters stay full float32 even when activations are float16: weights are small, precision is not.
  const tex = env.pool.acquirePinned("rgba32f", texW, rows, 1);
  const gl = env.ctx.gl;
  gl.bindTexture(gl.TEXTURE_2D_ARRAY, tex.tex);
  gl.pixelStorei(gl.UNPACK_ALIGNMENT, 4);
  gl.texSubImage3D(gl.TEXTURE_2D_ARRAY, 0, 0, 0, 0, texW, rows, 1, gl.RGBA, gl.FLOAT, data);
  return { tex, texW };
}

/** GLSL: W(i) is parameter texel i of u_w (a ParamTexture of width texW). */
export function paramFetchGlsl(texW: number): string {
  return `uniform sampler2DArray u_w;
const int TEXW = ${texW};
vec4 W(int i) { return texelFetch(u_w, ivec3(i % TEXW, i / TEXW, 0), 0); }
`;
}

/** param() for parameters in a ParamTexture at texel `off`, `perLayer` texels per layer. */
export const textureParam = (off: number, perLayer: number) => (k: number): string => `W(${off} + ${perLayer} * l + ${k})`;

/** Output texel of this fragment: gl_FragCoord is at the texel centre (x + 0.5, y + 0.5). */
export const FRAG_XY = "ivec2(gl_FragCoord.xy)";

/**
 * A program drawn once per output layer, its inputs bound as samplers u_in0, u_in1, … and u_layer the
 * layer being drawn: what every elementwise and data-movement op needs. `set` sets its other uniforms;
 * `fetches` is its texel fetches per output texel (the cost a draw is split by).
 */
export function layerwiseProgram(env: GlEnv, source: string, set?: (u: Uniforms) => void, fetches = 1): NodeProgram {
  const { ctx } = env;
  ctx.program(source); // compile now: a driver that rejects it fails at creation, not mid-job
  return {
    run(inputs: GpuTensor[], output: GpuTensor) {
      const u = ctx.use(ctx.program(source));
      inputs.forEach((t, i) => { ctx.bindTexture(i, t.tex.tex); u.int(`u_in${i}`, i); });
      set?.(u);
      for (let l = 0; l < layersOf(output.c); l++) {
        u.int("u_layer", l);
        ctx.drawToLayer(output.tex.tex, l, output.w, output.h, fetches);
      }
    },
    dispose() {},
  };
}

/** GLSL declarations of n input samplers u_in0…, and u_layer. */
export const samplersGlsl = (n: number): string =>
  `${Array.from({ length: n }, (_, i) => `uniform sampler2DArray u_in${i};`).join("\n")}\nuniform int u_layer;\n`;
