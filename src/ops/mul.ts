// SPDX-License-Identifier: MIT
// Mul: elementwise product of two tensors of one shape, or a tensor times a [1, 1, c] vector broadcast to
// every pixel (the channel gates of squeeze-excitation blocks: CUNet, Real-CUGAN).
import { mulProgram } from "../backends/webgl/programs/binary.js";
import type { Shape } from "../model/types.js";
import { binaryShape, isVector, type OpDef } from "./op.js";

export const Mul: OpDef = {
  name: "Mul",
  bandable: true,
  inferShape: (_node, inputs): Shape => binaryShape(inputs),
  halo: () => 0,
  scale: () => 1,
  wasm(k, { inputs: [a, b], output, y0, y1 }) {
    const { w, c } = a.shape;
    if (isVector(b.shape) && !isVector(a.shape)) k.mul_channel_f32(a.ptr, b.ptr, output.ptr, c, y0 * w, y1 * w);
    else k.mul_f32(a.ptr, b.ptr, output.ptr, y0 * w * c, y1 * w * c);
  },
  reference({ inputs: [a, b], output, y0, y1 }) {
    const { w, c } = a.shape;
    const vec = isVector(b.shape);
    for (let i = y0 * w * c; i < y1 * w * c; i++) output.data[i] = a.data[i] * b.data[vec ? i % c : i];
  },
  webgl: mulProgram,
};
