// SPDX-License-Identifier: MIT
// GlobalMean: per-channel mean over all pixels, [h, w, c] → [1, 1, c] (srgan-rust's ReduceMean over
// H and W). It reads the whole image, so a graph that uses it cannot be cut into independent tiles
// (see docs/architecture.md). Rows are summed in f64 and added in row order, so the result is the same
// whichever thread computes it.
import { globalMeanProgram } from "../backends/webgl/programs/global-mean.js";
import type { Shape } from "../model/types.js";
import type { OpDef } from "./op.js";

export const GlobalMean: OpDef = {
  name: "GlobalMean",
  bandable: false,
  global: () => true,
  inferShape: (_node, [x]): Shape => ({ h: 1, w: 1, c: x.c }),
  halo: () => 0,
  scale: () => 1,
  scratchBytes: (_node, [x]) => 16 * x.c,
  wasm(k, { inputs: [x], output, scratchPtr }) {
    k.channel_mean_f32(x.ptr, x.shape.h, x.shape.w, x.shape.c, scratchPtr, output.ptr);
  },
  reference({ inputs: [x], output }) {
    const { h, w, c } = x.shape;
    for (let k = 0; k < c; k++) {
      let s = 0;
      for (let i = 0; i < h * w; i++) s += x.data[i * c + k];
      output.data[k] = s / (h * w);
    }
  },
  webgl: globalMeanProgram,
};
