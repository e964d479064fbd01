// SPDX-License-Identifier: MIT
// SpaceToDepth: [h·r, w·r, c] → [h, w, c·r²], the inverse of PixelShuffle in either channel order
// (attrs.order as there). A k×k convolution of stride k is SpaceToDepth(k) then a 1×1 convolution, which
// is how the stride-2 downsamplings of CUNet / Real-CUGAN and PyTorch's pixel_unshuffle run here.
import { ModelFormatError } from "../errors.js";
import { ShuffleOrder } from "../backends/wasm/abi.js";
import { spaceToDepthProgram } from "../backends/webgl/programs/space-to-depth.js";
import type { GraphNode, Shape } from "../model/types.js";
import type { OpDef } from "./op.js";

const factor = (node: GraphNode) => node.attrs.r as number;
const order = (node: GraphNode) => (node.attrs.order ?? "tf") as keyof typeof ShuffleOrder;

export const SpaceToDepth: OpDef = {
  name: "SpaceToDepth",
  bandable: true,
  inferShape(node, [x]): Shape {
    const r = factor(node);
    if (!Number.isInteger(r) || r < 1 || r > 8) throw new ModelFormatError(`r must be an integer in [1, 8], got ${r}`);
    if (!(order(node) in ShuffleOrder)) throw new ModelFormatError(`order must be 'tf' or 'torch', got '${String(node.attrs.order)}'`);
    if (x.h % r !== 0 || x.w % r !== 0) throw new ModelFormatError(`a ${x.h}×${x.w} input is not a multiple of r = ${r} (the network's align must make it one)`);
    return { h: x.h / r, w: x.w / r, c: x.c * r * r };
  },
  // An output pixel covers r input pixels: r − 1 beyond the first.
  halo: (node) => factor(node) - 1,
  scale: (node) => 1 / factor(node),
  // The inverse permutation is PixelShuffle's backward kernel (it overwrites with flags 0).
  wasm(k, { node, inputs: [x], output, y0, y1 }) {
    const r = factor(node);
    k.pixel_shuffle_grad_f32(x.ptr, output.shape.h, output.shape.w, x.shape.c, r, ShuffleOrder[order(node)], output.ptr, y0, y1, 0);
  },
  reference({ node, inputs: [x], output, y0, y1 }) {
    const r = factor(node), c = x.shape.c;
    const { w, c: oc } = output.shape;
    for (let y = y0; y < y1; y++)
      for (let xo = 0; xo < w; xo++)
        for (let ch = 0; ch < oc; ch++) {
          const [k, sub] = order(node) === "tf" ? [ch % c, Math.floor(ch / c)] : [Math.floor(ch / (r * r)), ch % (r * r)];
          const sy = y * r + Math.floor(sub / r), sx = xo * r + (sub % r);
          output.data[(y * w + xo) * oc + ch] = x.data[(sy * x.shape.w + sx) * c + k];
        }
  },
  webgl: spaceToDepthProgram,
};
