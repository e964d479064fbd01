// SPDX-License-Identifier: MIT
// Add: elementwise sum of two tensors of one shape, or a tensor plus a [1, 1, c] vector broadcast to
// every pixel (a per-channel bias computed at run time). attrs.coefficients [α, β] make it α·a + β·b
// (residual scaling: ESRGAN's RRDB adds 0.2 of each block to its input).
import { ModelFormatError } from "../errors.js";
import { addProgram } from "../backends/webgl/programs/binary.js";
import type { GraphNode, Shape } from "../model/types.js";
import { binaryShape, isVector, unsupportedInTraining, writeGrad, type OpDef } from "./op.js";

const coefficients = (node: GraphNode) => node.attrs.coefficients as [number, number] | undefined;

export const Add: OpDef = {
  name: "Add",
  bandable: true,
  inferShape(node, inputs): Shape {
    const shape = binaryShape(inputs);
    const co = coefficients(node);
    if (co !== undefined) {
      if (!Array.isArray(co) || co.length !== 2 || !co.every(Number.isFinite)) throw new ModelFormatError(`coefficients must be two finite numbers, got ${JSON.stringify(co)}`);
      if (isVector(inputs[1]) && !isVector(inputs[0])) throw new ModelFormatError("coefficients apply to same-shape inputs only, not to a broadcast vector");
    }
    return shape;
  },
  halo: () => 0,
  scale: () => 1,
  wasm(k, { node, inputs: [a, b], output, y0, y1 }) {
    const { w, c } = a.shape;
    const co = coefficients(node);
    if (isVector(b.shape) && !isVector(a.shape)) k.add_channel_f32(a.ptr, b.ptr, output.ptr, c, y0 * w, y1 * w);
    else if (co) k.add_scaled_f32(a.ptr, b.ptr, output.ptr, co[0], co[1], y0 * w * c, y1 * w * c);
    else k.add_f32(a.ptr, b.ptr, output.ptr, y0 * w * c, y1 * w * c);
  },
  reference({ node, inputs: [a, b], output, y0, y1 }) {
    const { w, c } = a.shape;
    const vec = isVector(b.shape);
    const [alpha, beta] = coefficients(node) ?? [1, 1];
    for (let i = y0 * w * c; i < y1 * w * c; i++) output.data[i] = alpha * a.data[i] + beta * b.data[vec ? i % c : i];
  },
  webgl: addProgram,
  backward: {
    check(node) {
      if (node.inputs.length !== 2) throw unsupportedInTraining(node, "does not have 2 inputs");
      if (coefficients(node)) throw unsupportedInTraining(node, "has coefficients; training supports a plain sum");
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
