// SPDX-License-Identifier: MIT
// Dense: a [1, 1, K] vector times a [K, N] matrix (input-major, as alumina's Linear), plus an optional
// bias [N], with an optional activation. Several inputs may each have their own matrix (roles
// matrix0, matrix1, …): the output is the sum, as in srgan-rust's per-layer bias pathway.
import { ModelFormatError } from "../errors.js";
import type { GraphNode, Shape } from "../model/types.js";
import { denseProgram } from "../backends/webgl/programs/dense.js";
import { activateRef, actCode, checkActivation, packActivation } from "./activations.js";
import type { OpDef } from "./op.js";

const units = (node: GraphNode) => node.attrs.units as number;

export const Dense: OpDef = {
  name: "Dense",
  bandable: false,
  inferShape(node, inputs, weights): Shape {
    const n = units(node);
    if (!Number.isInteger(n) || n < 1) throw new ModelFormatError(`units must be a positive integer, got ${n}`);
    inputs.forEach((x, i) => {
      if (x.h !== 1 || x.w !== 1) throw new ModelFormatError(`input ${i} must be a [1, 1, K] vector (take a GlobalMean first)`);
      const m = weights[node.weights[`matrix${i}`]];
      if (!m || m.shape.length !== 2 || m.shape[0] !== x.c || m.shape[1] !== n) {
        throw new ModelFormatError(`matrix${i} must have shape [${x.c}, ${n}], got ${m ? `[${m.shape}]` : "none"}`);
      }
    });
    if (node.weights.bias && weights[node.weights.bias].data.length !== n) throw new ModelFormatError(`bias must have ${n} values`);
    checkActivation(node, n, weights);
    return { h: 1, w: 1, c: n };
  },
  halo: () => 0,
  scale: () => 1,
  pack: (node, weights) => packActivation(node, units(node), weights),
  wasm(k, { node, inputs, output, packed }) {
    const n = units(node);
    inputs.forEach((x, i) => {
      k.dense_f32(x.ptr, x.shape.c, packed[`matrix${i}`], n, output.ptr, i === 0 ? (packed.bias ? 2 : 0) : 1, packed.bias ?? 0);
    });
    if (node.attrs.act && node.attrs.act !== "none") k.activation_f32(output.ptr, output.ptr, 0, 1, n, actCode(node), packed.actParams ?? 0);
  },
  reference({ node, inputs, output, weights }) {
    const n = units(node);
    for (let j = 0; j < n; j++) {
      let s = weights.bias ? weights.bias[j] : 0;
      inputs.forEach((x, i) => {
        const m = weights[`matrix${i}`];
        for (let q = 0; q < x.shape.c; q++) s += x.data[q] * m[q * n + j];
      });
      output.data[j] = activateRef(s, node, j, n, weights);
    }
  },
  webgl: denseProgram,
};
