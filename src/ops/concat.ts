// SPDX-License-Identifier: MIT
// Concat: the inputs' channels one after another, [h, w, c0] … → [h, w, c0 + c1 + …]. Where a
// convolution is its only reader, importers give the convolution the inputs instead (Conv2D sums the
// convolutions of several inputs), which needs no copy.
import { ModelFormatError } from "../errors.js";
import { concatProgram } from "../backends/webgl/programs/concat.js";
import type { Shape } from "../model/types.js";
import type { OpDef } from "./op.js";

export const Concat: OpDef = {
  name: "Concat",
  bandable: true,
  inferShape(_node, inputs): Shape {
    const [{ h, w }] = inputs;
    inputs.forEach((x, i) => {
      if (x.h !== h || x.w !== w) throw new ModelFormatError(`input ${i} is ${x.h}×${x.w}, input 0 is ${h}×${w}`);
    });
    return { h, w, c: inputs.reduce((s, x) => s + x.c, 0) };
  },
  halo: () => 0,
  scale: () => 1,
  wasm(k, { inputs, output, y0, y1 }) {
    const { w, c } = output.shape;
    let at = 0;
    for (const x of inputs) {
      k.copy_channels_f32(x.ptr, x.shape.c, output.ptr, c, at, y0 * w, y1 * w);
      at += x.shape.c;
    }
  },
  reference({ inputs, output, y0, y1 }) {
    const { w, c } = output.shape;
    let at = 0;
    for (const x of inputs) {
      for (let p = y0 * w; p < y1 * w; p++) output.data.set(x.data.subarray(p * x.shape.c, (p + 1) * x.shape.c), p * c + at);
      at += x.shape.c;
    }
  },
  webgl: concatProgram,
};
