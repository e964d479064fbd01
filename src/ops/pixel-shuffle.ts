// SPDX-License-Identifier: MIT
// PixelShuffle (depth-to-space): [h, w, c·r²] → [h·r, w·r, c].
// attrs.order 'tf' (default; TensorFlow and srgan-rust): input channel (dy·r + dx)·c + k;
// 'torch' (PyTorch nn.PixelShuffle): input channel k·r² + dy·r + dx.
import { ModelFormatError } from "../errors.js";
import { GRAD_ACCUMULATE, ShuffleOrder } from "../backends/wasm/abi.js";
import { pixelShuffleProgram } from "../backends/webgl/programs/pixel-shuffle.js";
import type { GraphNode, Shape } from "../model/types.js";
import type { OpDef } from "./op.js";

const factor = (node: GraphNode) => node.attrs.r as number;
const order = (node: GraphNode) => (node.attrs.order ?? "tf") as keyof typeof ShuffleOrder;

export const PixelShuffle: OpDef = {
  name: "PixelShuffle",
  bandable: true,
  inferShape(node, [x]): Shape {
    const r = factor(node);
    if (!Number.isInteger(r) || r < 1 || r > 8) throw new ModelFormatError(`r must be an integer in [1, 8], got ${r}`);
    if (!(order(node) in ShuffleOrder)) throw new ModelFormatError(`order must be 'tf' or 'torch', got '${String(node.attrs.order)}'`);
    if (x.c % (r * r) !== 0) throw new ModelFormatError(`input has ${x.c} channels, not a multiple of r² = ${r * r}`);
    return { h: x.h * r, w: x.w * r, c: x.c / (r * r) };
  },
  halo: () => 0,
  scale: (node) => factor(node),
  wasm(k, { node, inputs: [x], output, y0, y1 }) {
    k.pixel_shuffle_f32(x.ptr, x.shape.h, x.shape.w, output.shape.c, factor(node), ShuffleOrder[order(node)], output.ptr, y0, y1);
  },
  reference({ node, inputs: [x], output, y0, y1 }) {
    const r = factor(node);
    const { w: ow, c } = output.shape;
    const cin = x.shape.c;
    for (let oy = y0; oy < y1; oy++)
      for (let ox = 0; ox < ow; ox++)
        for (let k = 0; k < c; k++) {
          const dy = oy % r, dx = ox % r;
          const ch = order(node) === "tf" ? (dy * r + dx) * c + k : k * r * r + dy * r + dx;
          output.data[(oy * ow + ox) * c + k] = x.data[(Math.floor(oy / r) * x.shape.w + Math.floor(ox / r)) * cin + ch];
        }
  },
  webgl: pixelShuffleProgram,
  backward: {
    check() {},
    wasm({ k, node, inputs: [x], output, dOutPtr, dInputs: [dx] }) {
      if (!dx) return;
      k.pixel_shuffle_grad_f32(dOutPtr, x.shape.h, x.shape.w, output.shape.c, factor(node), ShuffleOrder[order(node)], dx.ptr, 0, x.shape.h, dx.accumulate ? GRAD_ACCUMULATE : 0);
    },
    reference({ node, inputs: [x], output, dOut, dInputs: [dx] }) {
      if (!dx) return;
      const r = factor(node), tf = order(node) === "tf";
      const { w: ow, c } = output.shape, cin = x.shape.c;
      for (let oy = 0; oy < output.shape.h; oy++)
        for (let ox = 0; ox < ow; ox++)
          for (let k = 0; k < c; k++) {
            const dy = oy % r, dxx = ox % r;
            const ch = tf ? (dy * r + dxx) * c + k : k * r * r + dy * r + dxx;
            dx[(Math.floor(oy / r) * x.shape.w + Math.floor(ox / r)) * cin + ch] += dOut[(oy * ow + ox) * c + k];
          }
    },
  },
};
