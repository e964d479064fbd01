// SPDX-License-Identifier: MIT
// Conv2D: NHWC, stride 1, odd square kernel, zero "same" padding, fused bias and activation.
// A node may read several image inputs, one kernel each (roles kernel0, kernel1, …, layout
// [cout, k, k, cin_i]); the output is the sum of the convolutions, as srgan-rust's layers are.
// Bias: a static weight (role `bias`, [cout]) or, with attrs.dynamicBias, a [1, 1, cout] tensor as the
// last input (a bias computed by a global pathway). The activation (attrs.act) applies to the sum.
import { ModelFormatError } from "../errors.js";
import { CONV_ACCUMULATE } from "../backends/wasm/abi.js";
import type { GraphNode, Shape, Weight } from "../model/types.js";
import { activateRef, actCode, checkActivation, packActivation } from "./activation.js";
import { pad4, type ConvAlgorithm, type OpDef, type PackOptions } from "./op.js";

export interface Conv2DAttrs { k: number; cout: number; dynamicBias?: boolean; act?: string; alpha?: number }

const attrsOf = (node: GraphNode) => node.attrs as unknown as Conv2DAttrs;
const imageInputCount = (node: GraphNode) => node.inputs.length - (attrsOf(node).dynamicBias ? 1 : 0);

/**
 * 'auto' takes Winograd when input and output channels are both at least this: in bench/kernels.bench.ts
 * (one run, 128×128, c → c) it was 1.3× the direct kernel at 12 channels and 0.9× at 8.
 */
export const WINOGRAD_AUTO_MIN_CHANNELS = 12;
/** Tiles per chunk of the Winograd kernel (WINO_TILES in assembly/kernels/winograd.ts). */
const WINO_TILES = 16;

/** Winograd F(2×2,3×3) applies: 3×3, one image input, a static (or no) bias. */
const winogradApplies = (node: GraphNode) => attrsOf(node).k === 3 && imageInputCount(node) === 1 && !attrsOf(node).dynamicBias;

function useWinograd(node: GraphNode, cin: number, algo: ConvAlgorithm): boolean {
  if (!winogradApplies(node) || algo === "direct") return false;
  return algo === "winograd" || Math.min(cin, attrsOf(node).cout) >= WINOGRAD_AUTO_MIN_CHANNELS;
}

/**
 * The Winograd kernel's scratch: V [16][WINO_TILES][cin padded to 4] and M [16][WINO_TILES][cout padded
 * to 8]; both padded to 8 here, so the same region serves the transposed conv (training's input gradient).
 */
const winogradScratchBytes = (cin: number, cout: number) => 16 * WINO_TILES * (((cin + 7) & ~7) + ((cout + 7) & ~7)) * 4;

// Winograd's G (4×3): U = G g Gᵀ.
const G = [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]];

/**
 * [cout][3][3][cin] → U = G g Gᵀ per (co, ci), in f64, laid out [cout/8][kl][ci][8] (cout zero padded
 * to a multiple of 8): the Winograd GEMM walks one 8-channel block of one kl with a constant stride.
 */
export function packWinograd(src: Float32Array, cout: number, cin: number): Float32Array {
  const blocks = (cout + 7) >> 3;
  const u = new Float32Array(blocks * 16 * cin * 8);
  const t = new Float64Array(12); // G g (4×3); training repacks every step, so this stays cheap
  for (let o = 0; o < cout; o++) {
    for (let c = 0; c < cin; c++) {
      for (let k = 0; k < 4; k++) {
        for (let j = 0; j < 3; j++) {
          let s = 0;
          for (let i = 0; i < 3; i++) s += G[k][i] * src[((o * 3 + i) * 3 + j) * cin + c];
          t[k * 3 + j] = s;
        }
      }
      for (let k = 0; k < 4; k++) {
        for (let l = 0; l < 4; l++) {
          const s = t[k * 3] * G[l][0] + t[k * 3 + 1] * G[l][1] + t[k * 3 + 2] * G[l][2];
          u[(((o >> 3) * 16 + k * 4 + l) * cin + c) * 8 + (o & 7)] = s;
        }
      }
    }
  }
  return u;
}

export const Conv2D: OpDef = {
  name: "Conv2D",
  bandable: true,
  inferShape(node, inputs, weights): Shape {
    const { k, cout, dynamicBias } = attrsOf(node);
    if (!Number.isInteger(k) || k < 1 || k % 2 === 0 || k > 15) throw new ModelFormatError(`kernel size k must be odd in [1, 15], got ${k}`);
    if (!Number.isInteger(cout) || cout < 1 || cout > 4096) throw new ModelFormatError(`cout must be in [1, 4096], got ${cout}`);
    const n = imageInputCount(node);
    if (n < 1) throw new ModelFormatError("needs at least one image input");
    const { h, w } = inputs[0];
    for (let i = 0; i < n; i++) {
      const x = inputs[i];
      if (x.h !== h || x.w !== w) throw new ModelFormatError(`input ${i} is ${x.h}×${x.w}, input 0 is ${h}×${w}`);
      const kw = weights[node.weights[`kernel${i}`]];
      if (!kw) throw new ModelFormatError(`missing weight role kernel${i}`);
      const want = [cout, k, k, x.c];
      if (kw.shape.length !== 4 || kw.shape.some((d, j) => d !== want[j])) {
        throw new ModelFormatError(`kernel${i} has shape [${kw.shape}], expected [${want}] (cout, k, k, cin)`);
      }
    }
    if (dynamicBias) {
      const b = inputs[n];
      if (b.h !== 1 || b.w !== 1 || b.c !== cout) throw new ModelFormatError(`dynamic bias input must be [1, 1, ${cout}], got [${b.h}, ${b.w}, ${b.c}]`);
      if (node.weights.bias) throw new ModelFormatError("has both a static and a dynamic bias");
    } else if (node.weights.bias) {
      const b = weights[node.weights.bias];
      if (b.data.length !== cout) throw new ModelFormatError(`bias has ${b.data.length} values, expected ${cout}`);
    }
    checkActivation(node, cout, weights);
    return { h, w, c: cout };
  },
  halo: (node) => attrsOf(node).k >> 1,
  scale: () => 1,
  scratchBytes: (node, inputs, out) => winogradApplies(node) ? winogradScratchBytes(inputs[0].c, out.c) : 0,
  pack(node, weights, options?: PackOptions) {
    const { k, cout } = attrsOf(node);
    const cp = pad4(cout);
    const out: Record<string, Float32Array> = {};
    for (let i = 0; i < imageInputCount(node); i++) {
      const kw = weights[node.weights[`kernel${i}`]];
      const cin = kw.shape[3];
      // [cout][ky][kx][ci] → [cout/8][ky][kx][ci][8], cout zero padded to a multiple of 8: the kernel
      // walks one 8-channel block's taps with a constant stride (assembly/kernels/conv2d.ts).
      const blocks = (cout + 7) >> 3;
      const p = new Float32Array(blocks * k * k * cin * 8);
      const src = kw.data;
      for (let o = 0; o < cout; o++)
        for (let t = 0; t < k * k; t++)
          for (let c = 0; c < cin; c++) p[(((o >> 3) * k * k + t) * cin + c) * 8 + (o & 7)] = src[(o * k * k + t) * cin + c];
      out[`kernel${i}`] = p;
      // Winograd weights are packed beside the direct ones; their presence selects the kernel.
      if (useWinograd(node, cin, options?.conv ?? "direct")) out.winograd0 = packWinograd(src, cout, cin);
    }
    if (node.weights.bias) {
      const b = new Float32Array(cp);
      b.set(weights[node.weights.bias].data);
      out.bias = b;
    }
    return { ...out, ...packActivation(node, cout, weights) };
  },
  wasm(kn, { node, inputs, output, packed, scratchPtr, y0, y1 }) {
    const { k, cout, dynamicBias } = attrsOf(node);
    const n = imageInputCount(node);
    const { h, w } = output.shape;
    const bias = dynamicBias ? inputs[n].ptr : (packed.bias ?? 0);
    if (packed.winograd0 !== undefined) {
      kn.winograd_f23_f32(inputs[0].ptr, h, w, inputs[0].shape.c, packed.winograd0, bias, cout, output.ptr, y0, y1,
        actCode(node), packed.actParams ?? 0, scratchPtr);
      return;
    }
    for (let i = 0; i < n; i++) {
      const last = i === n - 1;
      kn.conv2d_f32(inputs[i].ptr, h, w, inputs[i].shape.c, packed[`kernel${i}`], i === 0 ? bias : 0, k, cout,
        output.ptr, y0, y1, i === 0 ? 0 : CONV_ACCUMULATE, last ? actCode(node) : 0, last ? (packed.actParams ?? 0) : 0);
    }
  },
  reference({ node, inputs, output, weights, y0, y1 }) {
    const { k, cout, dynamicBias } = attrsOf(node);
    const n = imageInputCount(node);
    const { h, w } = output.shape;
    const pad = k >> 1;
    const bias = dynamicBias ? inputs[n].data : weights.bias;
    const acc = new Float64Array(cout);
    for (let y = y0; y < y1; y++) {
      for (let x = 0; x < w; x++) {
        for (let o = 0; o < cout; o++) acc[o] = bias ? bias[o] : 0;
        for (let i = 0; i < n; i++) {
          const { data, shape: { c: cin } } = inputs[i];
          const kw = weights[`kernel${i}`];
          for (let ky = 0; ky < k; ky++) {
            const iy = y + ky - pad;
            if (iy < 0 || iy >= h) continue;
            for (let kx = 0; kx < k; kx++) {
              const ix = x + kx - pad;
              if (ix < 0 || ix >= w) continue;
              const base = (iy * w + ix) * cin;
              for (let o = 0; o < cout; o++) {
                const wb = ((o * k + ky) * k + kx) * cin;
                let s = 0;
                for (let c = 0; c < cin; c++) s += kw[wb + c] * data[base + c];
                acc[o] += s;
              }
            }
          }
        }
        const ob = (y * w + x) * cout;
        for (let o = 0; o < cout; o++) output.data[ob + o] = activateRef(acc[o], node, o, cout, weights);
      }
    }
  },
};
