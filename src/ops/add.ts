// SPDX-License-Identifier: MIT
// Add: elementwise sum of two tensors of one shape, or a tensor plus a [1, 1, c] vector broadcast to
// every pixel (a per-channel bias computed at run time).
import { ModelFormatError } from "../errors.js";
import { addProgram } from "../backends/webgl/programs/add.js";
import type { Shape } from "../model/types.js";
import { unsupportedInTraining, writeGrad, type OpDef } from "./op.js";

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
  webgl: addProgram,
  backward: {
    check(node) {
      if (node.inputs.length !== 2) throw unsupportedInTraining(node, "does not have 2 inputs");
    },
    wasm(call) {
      const n = call.output.shape.h * call.output.shape.w * call.output.shape.c;
      call.inputs.forEach((t, i) => {
        const d = call.dInputs[i];
        if (!d) return;
        if (t.shape.h * t.shape.w * t.shape.c !== n) throw unsupportedInTraining(call.node, "broadcasts a [1, 1, c] vector; training supports same-shape Add only");
        writeGrad(call, d, call.dOutPtr, n);
      });
    },
    reference({ dOut, dInputs }) {
      for (const d of dInputs) if (d) for (let i = 0; i < d.length; i++) d[i] += dOut[i];
    },
  },
};
