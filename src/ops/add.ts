// SPDX-License-Identifier: MIT
// Add: elementwise sum of two tensors of one shape, or a tensor plus a [1, 1, c] vector broadcast to
// every pixel (a per-channel bias computed at run time).
import { ModelFormatError } from "../errors.js";
import type { Shape } from "../model/types.js";
import type { OpDef } from "./op.js";

const isVector = (s: Shape) => s.h === 1 && s.w === 1;

export const Add: OpDef = {
  name: "Add",
  bandable: true,
  inferShape(node, inputs): Shape {
    if (inputs.length !== 2) throw new ModelFormatError(`Add takes 2 inputs, got ${inputs.length}`);
    const [a, b] = inputs;
    if (a.c !== b.c) throw new ModelFormatError(`channel counts differ: ${a.c} and ${b.c}`);
    if (!(a.h === b.h && a.w === b.w) && !isVector(b)) {
      throw new ModelFormatError(`shapes [${a.h}, ${a.w}, ${a.c}] and [${b.h}, ${b.w}, ${b.c}] differ (the second may be a [1, 1, c] vector)`);
    }
    return a;
  },
  halo: () => 0,
  scale: () => 1,
  wasm(k, { inputs: [a, b], output, y0, y1 }) {
    const { w, c } = a.shape;
    if (isVector(b.shape) && !isVector(a.shape)) k.add_channel_f32(a.ptr, b.ptr, output.ptr, c, y0 * w, y1 * w);
    else k.add_f32(a.ptr, b.ptr, output.ptr, y0 * w * c, y1 * w * c);
  },
  reference({ inputs: [a, b], output, y0, y1 }) {
    const { w, c } = a.shape;
    const vec = isVector(b.shape);
    for (let i = y0 * w * c; i < y1 * w * c; i++) output.data[i] = a.data[i] + b.data[vec ? i % c : i];
  },
};
