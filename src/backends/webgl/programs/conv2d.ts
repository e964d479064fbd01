// SPDX-License-Identifier: MIT
// Conv2D on the GPU (src/ops/conv2d.ts semantics): stride 1, odd k, `pad` zero pixels per side, several image
// inputs summed, static or dynamic ([1, 1, cout]) bias, fused activation. One draw per output layer
// (4 output channels); each fragment walks taps × input layers and adds a 4×4 block of weights times
// one input texel. Dense reuses this shader as a k = 1 convolution on a 1×1 image (programs/dense.ts).
//
// Weights live where they are cheapest to read. When one output layer's weights fit a uniform block
// (3×3 convs up to ~100 input channels) they go into a uniform buffer, one aligned range per layer,
// bound per draw: uniform reads cost far less than texture fetches (4 per input texel otherwise), on
// GPUs and much more so on SwiftShader. Larger layers (9×9 heads, k = 15) read a parameter texture.
import { UnsupportedError } from "../../../errors.js";
import type { GraphNode, Shape, Weight } from "../../../model/types.js";
import { FRAGMENT_HEADER } from "../context.js";
import { actTexelsPerLayer, activationGlsl, activationTexels, type ActName } from "../../../ops/activations.js";
import {
  FRAG_XY, layersOf, paramFetchGlsl, textureParam, uploadParams, type GlEnv, type GpuTensor, type NodeProgram, type ProgramFactory,
} from "./common.js";

export interface ConvSpec {
  k: number;
  /** Zero pixels per side (k >> 1: same size; 0: valid, k − 1 smaller). */
  pad: number;
  cout: number;
  /** Channels of each image input. */
  cins: number[];
  /** kernel(i, o, ky, kx, ci): the weight of input i's channel ci at tap (ky, kx) for output o. */
  kernel: (i: number, o: number, ky: number, kx: number, ci: number) => number;
  staticBias?: Float32Array;
  dynamicBias: boolean;
  act: ActName;
  /** activationTexels(): actTexelsPerLayer(act) texels per output layer, layer-major. */
  actTexels: Float32Array;
  alpha: number;
}

export type ConvMode = "block" | "texture";

/**
 * Where each parameter texel goes. Per input i the 4 texels (j = 0..3) of input layer s at tap t hold,
 * in component m, the weight of output channel 4l + m for input channel 4s + j: a mat4 whose columns
 * are those texels turns one input texel into 4 output channels.
 * - block:   layer l owns texels [l·stride, l·stride + perLayer): kernels of each input, bias, act.
 * - texture: each input's kernels for all layers, then one bias texel per layer, then act texels.
 */
export interface ConvLayout {
  mode: ConvMode;
  /** Texels of one layer's parameters (block mode: the uniform array's length). */
  perLayer: number;
  /** Texels between layers' ranges (block mode; a multiple of the buffer offset alignment). */
  stride: number;
  offsets: number[];
  biasOff: number;
  actOff: number;
  total: number;
}

export function convLayout(spec: ConvSpec, mode: ConvMode, alignTexels = 1): ConvLayout {
  const L = layersOf(spec.cout), kk = spec.k * spec.k;
  const apl = actTexelsPerLayer(spec.act);
  const offsets: number[] = [];
  let at = 0;
  const layerFactor = mode === "block" ? 1 : L;
  for (const c of spec.cins) { offsets.push(at); at += layerFactor * kk * layersOf(c) * 4; }
  const biasOff = at;
  if (spec.staticBias) at += layerFactor;
  const actOff = at;
  at += layerFactor * apl;
  if (mode === "texture") return { mode, perLayer: at, stride: 0, offsets, biasOff, actOff, total: at };
  const stride = Math.ceil(at / alignTexels) * alignTexels;
  return { mode, perLayer: at, stride, offsets, biasOff, actOff, total: stride * L };
}

/** Fills the parameter texels for `layout` (see ConvLayout). */
export function packConv(spec: ConvSpec, layout: ConvLayout): Float32Array {
  const { k, cout, cins } = spec;
  const L = layersOf(cout), kk = k * k, apl = actTexelsPerLayer(spec.act);
  const block = layout.mode === "block";
  const base = (l: number) => (block ? l * layout.stride : 0);
  const t = new Float32Array(layout.total * 4);
  cins.forEach((cin, i) => {
    const S = layersOf(cin);
    for (let o = 0; o < cout; o++) {
      const l = o >> 2, m = o & 3;
      for (let ky = 0; ky < k; ky++) for (let kx = 0; kx < k; kx++) {
        const tap = ky * k + kx;
        for (let ci = 0; ci < cin; ci++) {
          const texel = base(l) + layout.offsets[i] + ((block ? tap : l * kk + tap) * S + (ci >> 2)) * 4 + (ci & 3);
          t[texel * 4 + m] = spec.kernel(i, o, ky, kx, ci);
        }
      }
    }
  });
  for (let l = 0; l < L; l++) {
    if (spec.staticBias) {
      const at = (base(l) + layout.biasOff + (block ? 0 : l)) * 4;
      for (let m = 0; m < 4 && 4 * l + m < cout; m++) t[at + m] = spec.staticBias[4 * l + m];
    }
    for (let q = 0; q < apl; q++) {
      const at = (base(l) + layout.actOff + (block ? 0 : l * apl) + q) * 4;
      t.set(spec.actTexels.subarray((l * apl + q) * 4, (l * apl + q + 1) * 4), at);
    }
  }
  return t;
}

/**
 * The shader for `outs` output layers per draw (multiple render targets): every input texel fetched is
 * used for 4·outs output channels, so a 64-channel layer fetches its input 4 times instead of 16.
 * u_layer is the first output layer of the draw; output m is layer u_layer + m.
 */
export function convShader(spec: ConvSpec, layout: ConvLayout, texW: number, outs: number): string {
  const { k, cins } = spec;
  const n = cins.length;
  const block = layout.mode === "block";
  const apl = actTexelsPerLayer(spec.act);
  const M = Array.from({ length: outs }, (_, m) => m);
  let body = "";
  for (let i = 0; i < n; i++) {
    const S = layersOf(cins[i]);
    // wi: first texel of this tap's weights for output 0 of the draw; output m's are a constant away.
    const first = block ? `${layout.offsets[i]} + (ky * K + kx) * ${S * 4}` : `${layout.offsets[i]} + ((u_layer * K * K + ky * K + kx) * ${S}) * 4`;
    const mac = M.map((m) => block
      ? `        acc${m} += mat4(u_wt[${m * layout.stride} + wi], u_wt[${m * layout.stride + 1} + wi], u_wt[${m * layout.stride + 2} + wi], u_wt[${m * layout.stride + 3} + wi]) * x;`
      : `        q = ivec3((wi + ${m * k * k * S * 4}) % TEXW, (wi + ${m * k * k * S * 4}) / TEXW, 0);
        acc${m} += mat4(texelFetch(u_w, q, 0), texelFetch(u_w, q + ivec3(1, 0, 0), 0), texelFetch(u_w, q + ivec3(2, 0, 0), 0), texelFetch(u_w, q + ivec3(3, 0, 0), 0)) * x;`).join("\n");
    body += `
  for (int ky = 0; ky < K; ky++) {
    int iy = p.y + ky - PAD;
    if (iy < 0 || iy >= u_inSize.y) continue;
    for (int kx = 0; kx < K; kx++) {
      int ix = p.x + kx - PAD;
      if (ix < 0 || ix >= u_inSize.x) continue;
      int wi = ${first};
      for (int s = 0; s < ${S}; s++, wi += 4) {
        vec4 x = texelFetch(u_in${i}, ivec3(ix, iy, s), 0);${block ? "" : "\n        ivec3 q;"}
${mac}
      }
    }
  }`;
  }
  const bias = (m: number) => spec.dynamicBias ? `texelFetch(u_bias, ivec3(0, 0, u_layer + ${m}), 0)`
    : !spec.staticBias ? "vec4(0.0)"
    : block ? `u_wt[${m * layout.stride + layout.biasOff}]` : `W(${layout.biasOff} + u_layer + ${m})`;
  // act(x, l): in block mode l is the draw-local output index, in texture mode the layer.
  const param = block ? (q: number) => `u_wt[l * ${layout.stride} + ${layout.actOff + q}]` : textureParam(layout.actOff, apl);
  return `${FRAGMENT_HEADER}
${block ? `layout(std140) uniform Weights { vec4 u_wt[${outs * layout.stride}]; };` : paramFetchGlsl(texW)}
${Array.from({ length: n }, (_, i) => `uniform sampler2DArray u_in${i};`).join("\n")}
${spec.dynamicBias ? "uniform sampler2DArray u_bias;" : ""}
uniform ivec2 u_inSize;
uniform int u_layer;
const int K = ${k};
const int PAD = ${spec.pad};
${activationGlsl(spec.act, param)}
${M.map((m) => `layout(location = ${m}) out vec4 o${m};`).join("\n")}
void main() {
  ivec2 p = ${FRAG_XY};
${M.map((m) => `  vec4 acc${m} = ${bias(m)};`).join("\n")}${body}
${M.map((m) => `  o${m} = act(acc${m}, ${block ? m : `u_layer + ${m}`});`).join("\n")}
}
`;
}

/** Uniform-block bytes this layout may use here: the device's block limit, capped at 64 KiB. */
const blockLimit = (env: GlEnv) => Math.min(env.ctx.caps.maxUniformBlockSize, 65536);

/** Compiles a ConvSpec: uploads its parameters and returns a program over (images…, [bias]). */
export function compileConv(env: GlEnv, spec: ConvSpec, mode: ConvMode | undefined = env.convWeights): NodeProgram {
  const { ctx } = env;
  const { gl, caps } = ctx;
  if (spec.cins.length + 2 > caps.maxTextureUnits) {
    throw new UnsupportedError(`a convolution with ${spec.cins.length} image inputs needs more texture units than this GPU has (${caps.maxTextureUnits}). Use backend: 'wasm'.`);
  }
  const L = layersOf(spec.cout);
  const alignTexels = Math.max(1, Math.ceil(caps.uniformOffsetAlignment / 16));
  let layout = convLayout(spec, "block", alignTexels);
  // Outputs per draw: up to 4 layers, and (block mode) as many layers' weights as fit one uniform block.
  let group = Math.min(4, caps.maxDrawBuffers, L);
  const blockGroup = Math.min(group, Math.floor(blockLimit(env) / (layout.stride * 16)));
  const useBlock = mode === "block" ? true : mode === "texture" ? false : blockGroup >= 1;
  if (useBlock) group = Math.max(1, blockGroup);
  else layout = convLayout(spec, "texture");
  if (useBlock && layout.stride * 16 > caps.maxUniformBlockSize) throw new UnsupportedError("conv weights do not fit a uniform block");
  const texels = packConv(spec, layout);
  const params = useBlock ? null : uploadParams(env, texels);
  const buffer = useBlock ? env.pool.acquireBuffer(texels) : null;
  // One program for full groups, one for the remainder when the layers do not divide evenly.
  const sources = new Map<number, string>();
  for (const outs of new Set([group, L % group || group])) sources.set(outs, convShader(spec, layout, params?.texW ?? 0, outs));
  // Texel fetches per fragment: per tap and input layer one input texel (+ 4 weight texels per output).
  const perTap = spec.k * spec.k * spec.cins.reduce((t, c) => t + layersOf(c), 0);
  // Compile now, so a driver that rejects a shader fails at creation, not mid-job.
  for (const src of sources.values()) ctx.program(src);
  const n = spec.cins.length;
  return {
    run(inputs: GpuTensor[], output: GpuTensor) {
      for (let l = 0; l < L; l += group) {
        const outs = Math.min(group, L - l);
        const prog = ctx.program(sources.get(outs)!);
        const u = ctx.use(prog);
        if (params) { ctx.bindTexture(0, params.tex.tex); u.int("u_w", 0); }
        for (let i = 0; i < n; i++) { ctx.bindTexture(1 + i, inputs[i].tex.tex); u.int(`u_in${i}`, 1 + i); }
        if (spec.dynamicBias) { ctx.bindTexture(1 + n, inputs[n].tex.tex); u.int("u_bias", 1 + n); }
        u.ivec2("u_inSize", inputs[0].w, inputs[0].h).float("u_alpha", spec.alpha).int("u_layer", l);
        if (buffer) {
          gl.uniformBlockBinding(prog.program, gl.getUniformBlockIndex(prog.program, "Weights"), 0);
          gl.bindBufferRange(gl.UNIFORM_BUFFER, 0, buffer.buf, l * layout.stride * 16, outs * layout.stride * 16);
        }
        ctx.drawToLayers(output.tex.tex, l, outs, output.w, output.h, perTap * (1 + (buffer ? outs : 4 * outs)));
      }
    },
    dispose() {
      if (params) env.pool.release(params.tex);
      if (buffer) env.pool.releaseBuffer(buffer);
    },
  };
}

interface Conv2DAttrs { k: number; cout: number; pad?: number; dynamicBias?: boolean; alpha?: number }

export const conv2dProgram: ProgramFactory = (env, node: GraphNode, weights: Record<string, Weight>, inputs: Shape[]) => {
  const { k, cout, pad, dynamicBias, alpha } = node.attrs as unknown as Conv2DAttrs;
  const nImages = node.inputs.length - (dynamicBias ? 1 : 0);
  const kernels = Array.from({ length: nImages }, (_, i) => weights[node.weights[`kernel${i}`]].data);
  const cins = inputs.slice(0, nImages).map((s) => s.c);
  const { act, texels } = activationTexels(node, weights, cout);
  return compileConv(env, {
    k, pad: pad ?? k >> 1, cout, cins,
    // Graph layout [cout, k, k, cin_i].
    kernel: (i, o, ky, kx, ci) => kernels[i][((o * k + ky) * k + kx) * cins[i] + ci],
    staticBias: !dynamicBias && node.weights.bias ? weights[node.weights.bias].data : undefined,
    dynamicBias: !!dynamicBias,
    act, actTexels: texels, alpha: alpha ?? 0,
  });
};
