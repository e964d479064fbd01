// SPDX-License-Identifier: MIT
// Conv2D: NHWC, stride 1, odd square kernel k, attrs.pad zero pixels per side (default k >> 1, "same";
// 0 is "valid", as waifu2x's unpadded networks: the output k − 1 smaller), fused bias and activation.
// A node may read several image inputs, one kernel each (roles kernel0, kernel1, …, layout
// [cout, k, k, cin_i]); the output is the sum of the convolutions, as srgan-rust's layers are.
// Bias: a static weight (role `bias`, [cout]) or, with attrs.dynamicBias, a [1, 1, cout] tensor as the
// last input (a bias computed by a global pathway). The activation (attrs.act) applies to the sum.
import { ModelFormatError } from "../errors.js";
import { CONV_ACCUMULATE, GRAD_ACCUMULATE, WGRAD_TILES, WINO_KL_PAD, WINO_TILES } from "../backends/wasm/abi.js";
import { conv2dProgram } from "../backends/webgl/programs/conv2d.js";
import type { GraphNode, Shape } from "../model/types.js";
import { activateRef, actCode, checkActivation, packActivation } from "./activations.js";
import { pad4, unsupportedInTraining, type BackwardDef, type ConvAlgorithm, type OpDef, type PackOptions } from "./op.js";

export interface Conv2DAttrs { k: number; cout: number; pad?: number; dynamicBias?: boolean; act?: string; alpha?: number }

const attrsOf = (node: GraphNode) => node.attrs as unknown as Conv2DAttrs;
const imageInputCount = (node: GraphNode) => node.inputs.length - (attrsOf(node).dynamicBias ? 1 : 0);
/** Zero pixels added per side. */
const padOf = (node: GraphNode) => attrsOf(node).pad ?? attrsOf(node).k >> 1;

/**
 * 'auto' takes Winograd when input and output channels are both at least this: in bench/kernels.bench.ts
 * (one run, 128×128, c → c) it was 1.3× the direct kernel at 12 channels and 0.9× at 8.
 */
export const WINOGRAD_AUTO_MIN_CHANNELS = 12;

/**
 * Per image input: Winograd F(2×2,3×3) or the direct kernel. A node with several inputs (srgan-rust's
 * layers) runs one call per input, adding into the output, so each input takes its own choice.
 */
function useWinograd(node: GraphNode, cin: number, algo: ConvAlgorithm): boolean {
  if (attrsOf(node).k !== 3 || algo === "direct") return false;
  return algo === "winograd" || Math.min(cin, attrsOf(node).cout) >= WINOGRAD_AUTO_MIN_CHANNELS;
}

/**
 * The Winograd kernel's scratch: V [16][WINO_TILES][cin padded to 4] and M [16][WINO_TILES][cout padded
 * to 8], each kl slice followed by WINO_KL_PAD bytes (both constants from the kernel, through the
 * bindings); channels padded to 8 here, so the same region serves the transposed conv (training's input
 * gradient).
 */
const winogradScratchBytes = (cin: number, cout: number) => 16 * (WINO_TILES * (((cin + 7) & ~7) + ((cout + 7) & ~7)) * 4 + 2 * WINO_KL_PAD);

/**
 * [cout][3][3][cin] → U = G g Gᵀ per (co, ci), in f64, laid out [cout/8][kl][ci][8] (cout zero padded
 * to a multiple of 8): the Winograd GEMM walks one 8-channel block of one kl with a constant stride.
 * G's rows are (1, 0, 0), ½(1, 1, 1), ½(1, −1, 1), (0, 0, 1); training repacks every step, so the
 * rows are written out rather than multiplied through.
 */
export function packWinograd(src: Float32Array, cout: number, cin: number): Float32Array {
  const blocks = (cout + 7) >> 3;
  const u = new Float32Array(blocks * 16 * cin * 8);
  const t = new Float64Array(12); // G g (4×3)
  const tap = cin; // next kernel column in src
  for (let o = 0; o < cout; o++) {
    const dst = (o >> 3) * 16 * cin * 8 + (o & 7);
    for (let c = 0; c < cin; c++) {
      const g = o * 9 * cin + c;
      for (let j = 0; j < 3; j++) {
        const g0 = src[g + j * tap], g1 = src[g + (3 + j) * tap], g2 = src[g + (6 + j) * tap];
        t[j] = g0; t[3 + j] = 0.5 * (g0 + g1 + g2); t[6 + j] = 0.5 * (g0 - g1 + g2); t[9 + j] = g2;
      }
      for (let k = 0; k < 4; k++) {
        const t0 = t[k * 3], t1 = t[k * 3 + 1], t2 = t[k * 3 + 2];
        const at = dst + (k * 4 * cin + c) * 8;
        u[at] = t0; u[at + cin * 8] = 0.5 * (t0 + t1 + t2); u[at + 2 * cin * 8] = 0.5 * (t0 - t1 + t2); u[at + 3 * cin * 8] = t2;
      }
    }
  }
  return u;
}

// ---- Backward (training): single-input convs with a static bias and act none (the trainer splits a
// fused activation into its own Activation node) ----

/**
 * The input-gradient kernel of a [cout, k, k, cin] kernel W: T[ci][ky][kx][co] = W[co][k−1−ky][k−1−kx][ci].
 * With stride 1 and "same" zero padding, dX = conv(dZ, T): the forward kernel, packed by Conv2D.pack,
 * computes it, so the input gradient runs as fast as the forward and follows its packing.
 */
export function transposeKernel(w: Float32Array, cout: number, k: number, cin: number): Float32Array {
  const t = new Float32Array(w.length);
  for (let co = 0; co < cout; co++)
    for (let ky = 0; ky < k; ky++)
      for (let kx = 0; kx < k; kx++) {
        const src = ((co * k + ky) * k + kx) * cin;
        const fy = k - 1 - ky, fx = k - 1 - kx;
        for (let ci = 0; ci < cin; ci++) t[((ci * k + fy) * k + fx) * cout + co] = w[src + ci];
      }
  return t;
}

/** The Conv2D node that runs the input gradient of `node` (cin and cout swapped, no bias or activation). */
export function transposedNode(node: GraphNode, cin: number): GraphNode {
  return { op: "Conv2D", inputs: ["dz"], output: "dx", attrs: { k: node.attrs.k, cout: cin }, weights: { kernel0: "t" } };
}

/** Packs the input-gradient kernels exactly as the forward packs kernels (so a change of packing follows). */
export function packTransposed(node: GraphNode, w: Float32Array, cin: number, conv: ConvAlgorithm = "direct"): Record<string, Float32Array> {
  const k = node.attrs.k as number, cout = node.attrs.cout as number;
  const t = transposeKernel(w, cout, k, cin);
  return Conv2D.pack!(transposedNode(node, cin), { t: { shape: [cin, k, k, cout], data: t } }, { conv });
}

/**
 * winograd_grad_weight_f23_f32's scratch: V [16][WGRAD_TILES][cin padded to 8], A dY Aᵀ [16][WGRAD_TILES][cout
 * padded to 4], dU [16][cout4][cin8] (WGRAD_TILES from the kernel, through the bindings).
 */
export function winogradGradScratchBytes(cin: number, cout: number): number {
  const cin8 = (cin + 7) & ~7, co4 = (cout + 3) & ~3;
  return 16 * (WGRAD_TILES * (cin8 + co4) + co4 * cin8) * 4;
}

const Conv2DGrad: BackwardDef = {
  check(node) {
    if (node.inputs.length !== 1 || node.attrs.dynamicBias) throw unsupportedInTraining(node, "has several inputs or a dynamic bias; only single-input convs with a static bias train");
    if ((node.attrs.act ?? "none") !== "none") throw new ModelFormatError(`training: Conv2D '${node.output}' still has a fused activation (the program splits them)`);
  },
  scratchBytes: (node, [x], out) => (node.attrs.k === 3 ? winogradGradScratchBytes(x.c, out.c) : 0),
  wasm(call) {
    const { k, node, inputs: [x], dOutPtr, dInputs: [dx], packed, paramGrads } = call;
    const { h, w, c: cin } = x.shape;
    const kk = node.attrs.k as number, cout = node.attrs.cout as number;
    // The weight gradient follows the forward's 3×3 algorithm (Winograd weights packed: Winograd).
    if (packed.winograd0 !== undefined) {
      k.winograd_grad_weight_f23_f32(x.ptr, h, w, cin, dOutPtr, cout, paramGrads.kernel0, paramGrads.bias ?? 0, GRAD_ACCUMULATE, call.scratchPtr);
    } else {
      k.conv2d_grad_weight_f32(x.ptr, h, w, cin, dOutPtr, cout, kk, paramGrads.kernel0, paramGrads.bias ?? 0, GRAD_ACCUMULATE);
    }
    if (!dx) return;
    const target = dx.accumulate ? call.tmpPtr : dx.ptr;
    Conv2D.wasm(k, {
      node: transposedNode(node, cin),
      inputs: [{ ptr: dOutPtr, shape: { h, w, c: cout } }],
      output: { ptr: target, shape: { h, w, c: cin } },
      packed: packed.winograd0T === undefined ? { kernel0: packed.kernel0T } : { kernel0: packed.kernel0T, winograd0: packed.winograd0T },
      scratchPtr: call.scratchPtr, y0: 0, y1: h,
    });
    if (dx.accumulate) k.add_f32(dx.ptr, target, dx.ptr, 0, h * w * cin);
  },
  reference({ node, inputs: [x], dOut, dInputs: [dx], weights, dWeights }) {
    const { h, w, c: cin } = x.shape;
    const k = node.attrs.k as number, cout = node.attrs.cout as number;
    const pad = k >> 1;
    const W = weights.kernel0, dW = dWeights.kernel0, db = dWeights.bias;
    for (let y = 0; y < h; y++)
      for (let xx = 0; xx < w; xx++) {
        const o = (y * w + xx) * cout;
        if (db) for (let co = 0; co < cout; co++) db[co] += dOut[o + co];
        for (let ky = 0; ky < k; ky++) {
          const iy = y + ky - pad;
          if (iy < 0 || iy >= h) continue;
          for (let kx = 0; kx < k; kx++) {
            const ix = xx + kx - pad;
            if (ix < 0 || ix >= w) continue;
            const xi = (iy * w + ix) * cin;
            for (let co = 0; co < cout; co++) {
              const g = dOut[o + co];
              const wi = ((co * k + ky) * k + kx) * cin;
              for (let ci = 0; ci < cin; ci++) {
                dW[wi + ci] += g * x.data[xi + ci];
                if (dx) dx[xi + ci] += g * W[wi + ci];
              }
            }
          }
        }
      }
  },
};

export const Conv2D: OpDef = {
  name: "Conv2D",
  bandable: true,
  inferShape(node, inputs, weights): Shape {
    const { k, cout, dynamicBias } = attrsOf(node);
    if (!Number.isInteger(k) || k < 1 || k % 2 === 0 || k > 15) throw new ModelFormatError(`kernel size k must be odd in [1, 15], got ${k}`);
    if (!Number.isInteger(cout) || cout < 1 || cout > 4096) throw new ModelFormatError(`cout must be in [1, 4096], got ${cout}`);
    const pad = padOf(node);
    if (!Number.isInteger(pad) || pad < 0 || pad > k >> 1) throw new ModelFormatError(`pad must be an integer in [0, ${k >> 1}], got ${pad}`);
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
    const shrink = 2 * ((k >> 1) - pad);
    if (h <= shrink || w <= shrink) throw new ModelFormatError(`a ${h}×${w} input is too small for an unpadded ${k}×${k} convolution`);
    return { h: h - shrink, w: w - shrink, c: cout };
  },
  halo: (node) => attrsOf(node).k >> 1,
  scale: () => 1,
  offset: (node) => (attrsOf(node).k >> 1) - padOf(node),
  scratchBytes: (node, inputs, out) =>
    attrsOf(node).k === 3 ? winogradScratchBytes(Math.max(...inputs.slice(0, imageInputCount(node)).map((x) => x.c)), out.c) : 0,
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
      if (useWinograd(node, cin, options?.conv ?? "direct")) out[`winograd${i}`] = packWinograd(src, cout, cin);
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
    const pad = padOf(node);
    const { h, w } = inputs[0].shape;
    const bias = dynamicBias ? inputs[n].ptr : (packed.bias ?? 0);
    for (let i = 0; i < n; i++) {
      const last = i === n - 1;
      const [biasPtr, flags, act, actParams] = [i === 0 ? bias : 0, i === 0 ? 0 : CONV_ACCUMULATE, last ? actCode(node) : 0, last ? (packed.actParams ?? 0) : 0];
      const { ptr, shape: { c: cin } } = inputs[i];
      const wino = packed[`winograd${i}`];
      if (wino !== undefined) kn.winograd_f23_f32(ptr, h, w, cin, pad, wino, biasPtr, cout, output.ptr, y0, y1, flags, act, actParams, scratchPtr);
      else kn.conv2d_f32(ptr, h, w, cin, packed[`kernel${i}`], biasPtr, k, pad, cout, output.ptr, y0, y1, flags, act, actParams);
    }
  },
  reference({ node, inputs, output, weights, y0, y1 }) {
    const { k, cout, dynamicBias } = attrsOf(node);
    const n = imageInputCount(node);
    const { h, w } = inputs[0].shape;
    const ow = output.shape.w;
    const pad = padOf(node);
    const bias = dynamicBias ? inputs[n].data : weights.bias;
    const acc = new Float64Array(cout);
    for (let y = y0; y < y1; y++) {
      for (let x = 0; x < ow; x++) {
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
        const ob = (y * ow + x) * cout;
        for (let o = 0; o < cout; o++) output.data[ob + o] = activateRef(acc[o], node, o, cout, weights);
      }
    }
  },
  webgl: conv2dProgram,
  backward: Conv2DGrad,
};

