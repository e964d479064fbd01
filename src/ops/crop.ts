// SPDX-License-Identifier: MIT
// Crop: drops attrs.margin pixels from every side, [h, w, c] → [h − 2m, w − 2m, c]. Unpadded U-Nets
// (CUNet, Real-CUGAN) crop a skip connection to the size of the branch it is added to.
import { ModelFormatError } from "../errors.js";
import { cropProgram } from "../backends/webgl/programs/crop.js";
import type { GraphNode, Shape } from "../model/types.js";
import type { OpDef } from "./op.js";

const margin = (node: GraphNode) => node.attrs.margin as number;

export const Crop: OpDef = {
  name: "Crop",
  bandable: true,
  inferShape(node, [x]): Shape {
    const m = margin(node);
    if (!Number.isInteger(m) || m < 0) throw new ModelFormatError(`margin must be a non-negative integer, got ${m}`);
    if (x.h <= 2 * m || x.w <= 2 * m) throw new ModelFormatError(`a ${x.h}×${x.w} input has nothing left after cropping ${m} pixels from each side`);
    return { h: x.h - 2 * m, w: x.w - 2 * m, c: x.c };
  },
  halo: () => 0,
  scale: () => 1,
  offset: margin,
  wasm(k, { node, inputs: [x], output, y0, y1 }) {
    const m = margin(node);
    k.crop_f32(x.ptr, x.shape.w, x.shape.c, output.ptr, output.shape.w, m, m, y0, y1);
  },
  reference({ node, inputs: [x], output, y0, y1 }) {
    const m = margin(node);
    const { w, c } = output.shape;
    for (let y = y0; y < y1; y++) {
      const from = ((y + m) * x.shape.w + m) * c;
      output.data.set(x.data.subarray(from, from + w * c), y * w * c);
    }
  },
  webgl: cropProgram,
};
