// SPDX-License-Identifier: MIT
// Activation: any entry of the activation table (./activations.ts) on any tensor (image or [1, 1, c]
// vector). The same table is fused into Conv2D and Dense as their epilogue (attrs.act there).
import { GRAD_ACCUMULATE } from "../backends/wasm/abi.js";
import { activationProgram } from "../backends/webgl/programs/activation.js";
import type { Shape } from "../model/types.js";
import { actChannels, actCode, activateRef, checkActivation, packActivation } from "./activations.js";
import { unsupportedInTraining, type OpDef } from "./op.js";

export const Activation: OpDef = {
  name: "Activation",
  bandable: true,
  inferShape(node, [x], weights): Shape {
    checkActivation(node, x.c, weights);
    return x;
  },
  halo: () => 0,
  scale: () => 1,
  pack: (node, weights) => packActivation(node, actChannels(node, weights), weights),
  wasm(k, { node, inputs: [x], output, packed, y0, y1 }) {
    const w = x.shape.w;
    k.activation_f32(x.ptr, output.ptr, y0 * w, y1 * w, x.shape.c, actCode(node), packed.actParams ?? 0);
  },
  reference({ node, inputs: [x], output, weights, y0, y1 }) {
    const { w, c } = x.shape;
    for (let i = y0 * w * c; i < y1 * w * c; i++) output.data[i] = activateRef(x.data[i], node, i % c, c, weights);
  },
  webgl: activationProgram,
  // Training: PReLU (its slopes train); a fused activation is split into this op by the trainer.
  backward: {
    check(node) {
      if (node.attrs.act !== "prelu") throw unsupportedInTraining(node, `has activation '${String(node.attrs.act)}'; training supports prelu (and none)`);
    },
    wasm({ k, inputs: [z], dOutPtr, dInputs: [dz], packed, paramGrads, tmpPtr }) {
      const { h, w, c } = z.shape;
      k.prelu_grad_f32(dOutPtr, z.ptr, packed.actParams, dz ? dz.ptr : tmpPtr, paramGrads.slope, h * w, c, dz?.accumulate ? GRAD_ACCUMULATE : 0);
    },
    reference({ inputs: [z], dOut, dInputs: [dz], weights, dWeights }) {
      const c = z.shape.c;
      const s = weights.slope, ds = dWeights.slope;
      for (let i = 0; i < z.data.length; i++) {
        const ch = i % c, v = z.data[i];
        if (dz) dz[i] += v > 0 ? dOut[i] : dOut[i] * s[ch];
        if (!(v > 0)) ds[ch] += dOut[i] * v;
      }
    },
  },
};
