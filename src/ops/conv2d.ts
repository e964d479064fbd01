// SPDX-License-Identifier: MIT
// Conv2D: NHWC, stride 1, odd square kernel, zero "same" padding, fused bias and activation.
// A node may read several image inputs, one kernel each (roles kernel0, kernel1, …, layout
// [cout, k, k, cin_i]); the output is the sum of the convolutions, as srgan-rust's layers are.
// Bias: a static weight (role `bias`, [cout]) or, with attrs.dynamicBias, a [1, 1, cout] tensor as the
// last input (a bias computed by a global pathway). The activation (attrs.act) applies to the sum.
import { ModelFormatError } from "../errors.js";
import { CONV_ACCUMULATE } from "../backends/wasm/abi.js";
import type { GraphNode, Shape, Weight } from "../model/graph.js";
import { activateRef, actCode, checkActivation, packActivation } from "./activation.js";
import { pad4, type OpDef } from "./op.js";

export interface Conv2DAttrs { k: number; cout: number; dynamicBias?: boolean; act?: string; alpha?: number }

const attrsOf = (node: GraphNode) => node.attrs as unknown as Conv2DAttrs;
const imageInputCount = (node: GraphNode) => node.inputs.length - (attrsOf(node).dynamicBias ? 1 : 0);

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
  pack(node, weights) {
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
    }
    if (node.weights.bias) {
      const b = new Float32Array(cp);
      b.set(weights[node.weights.bias].data);
      out.bias = b;
    }
    return { ...out, ...packActivation(node, cout, weights) };
  },
  wasm(kn, { node, inputs, output, packed, y0, y1 }) {
    const { k, cout, dynamicBias } = attrsOf(node);
    const n = imageInputCount(node);
    const { h, w } = output.shape;
    const bias = dynamicBias ? inputs[n].ptr : (packed.bias ?? 0);
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
