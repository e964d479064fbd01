// SPDX-License-Identifier: MIT
// What the per-op programs share: the tensor-on-texture convention, the interface a compiled node
// implements, parameter textures (weights laid out linearly in RGBA texels), and the GLSL of the
// activations (the same formulas as src/ops/activation.ts and assembly/kernels/activation.ts).
import { UnsupportedError } from "../../../errors.js";
import type { GraphNode, Shape, Weight } from "../../../model/types.js";
import type { GlContext } from "../context.js";
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

export type ActName = "none" | "relu" | "leaky" | "prelu" | "spline";

/** The node's activation (attrs.act) and its parameter texels: PReLU 1 per layer, Spline 3 (L, C, R). */
export function activationParams(node: GraphNode, weights: Record<string, Weight>, c: number): { act: ActName; texels: Float32Array } {
  const act = (node.attrs.act ?? "none") as ActName;
  const L = layersOf(c);
  if (act === "prelu") {
    const t = new Float32Array(L * 4);
    t.set(weights[node.weights.slope].data);
    return { act, texels: t };
  }
  if (act === "spline") {
    const src = weights[node.weights.spline].data;
    const t = new Float32Array(L * 3 * 4);
    for (let ch = 0; ch < c; ch++) {
      const l = ch >> 2, j = ch & 3;
      for (let row = 0; row < 3; row++) t[(l * 3 + row) * 4 + j] = src[row * c + ch];
    }
    return { act, texels: t };
  }
  return { act, texels: new Float32Array(0) };
}

/** Parameter texels per output layer an activation needs: PReLU 1 (slopes), Spline 3 (L, C, R). */
export const actTexelsPerLayer = (act: ActName): number => (act === "prelu" ? 1 : act === "spline" ? 3 : 0);

/**
 * GLSL `vec4 act(vec4 x, int l)` for output layer l. `param(k)` is the GLSL expression of that layer's
 * k-th parameter texel (it may use l). Selections use mix(…, bvec4), an exact per-component select,
 * as the kernels' bitselect is.
 */
export function activationGlsl(act: ActName, param: (k: number) => string): string {
  const head = `uniform float u_alpha;\nvec4 act(vec4 x, int l) {\n`;
  switch (act) {
    case "none": return `${head}  return x;\n}\n`;
    case "relu": return `${head}  return max(x, vec4(0.0));\n}\n`;
    case "leaky": return `${head}  return mix(x * u_alpha, x, greaterThan(x, vec4(0.0)));\n}\n`;
    case "prelu": return `${head}  return mix(x * ${param(0)}, x, greaterThan(x, vec4(0.0)));\n}\n`;
    case "spline": return `${head}  vec4 L = ${param(0)}, C = ${param(1)}, R = ${param(2)};
  vec4 x2 = x * x, x3 = x2 * x;
  vec4 left = (-2.0 / 3.0) * (C - 1.5 * L * x - 0.875 * L - 0.125 * R);
  vec4 right = (2.0 / 3.0) * (C + 1.5 * R * x - 0.125 * L - 0.875 * R);
  vec4 mid = (-1.0 / 3.0) * (C * x3 - 3.0 * C * x - 0.5 * (L + R) * x3 + 0.75 * (L - R) * x2);
  return mix(mix(mid, right, greaterThanEqual(x, vec4(1.0))), left, lessThanEqual(x, vec4(-1.0)));
}
`;
    default: throw new UnsupportedError(`activation '${String(act)}' has no WebGL implementation`);
  }
}

/** param() for parameters in a ParamTexture at texel `off`, `perLayer` texels per layer. */
export const textureParam = (off: number, perLayer: number) => (k: number): string => `W(${off} + ${perLayer} * l + ${k})`;

/** Output texel of this fragment: gl_FragCoord is at the texel centre (x + 0.5, y + 0.5). */
export const FRAG_XY = "ivec2(gl_FragCoord.xy)";
