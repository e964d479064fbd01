// SPDX-License-Identifier: MIT
// Resize: nearest, bilinear, bicubic (Keys, a = −0.5) or box resampling with MATLAB `imresize`
// semantics: half-pixel centres, symmetric (mirror) edge extension, the kernel widened by 1/s when
// shrinking (antialias; not for nearest, as in MATLAB), weights normalised to 1, height resized first;
// or `cubic`, the OpenCV / ncnn / ONNX bicubic (a = −0.75, clamped edges, no antialias).
// attrs: { method, scale } to enlarge by an integer factor, { method, factor } to shrink by one, or
// both for the ratio scale/factor (Real-ESRGAN's ×3 file is its ×4 network, then cubic 3/4); the output
// is ⌈n · scale / factor⌉, as imresize. Runs on any channel count.
import { ModelFormatError } from "../errors.js";
import { ResizeMethodCode } from "../backends/wasm/abi.js";
import { resizeProgram } from "../backends/webgl/programs/resize.js";
import type { GraphNode, Shape } from "../model/types.js";
import { unsupportedInTraining, type OpDef } from "./op.js";
import { edgeIndex, RESIZE_METHODS, resizePhases, resizeRatio, resizeScratchBytes, support, type ResizeMethod } from "./resize-taps.js";

interface ResizeAttrs { method: ResizeMethod; scale?: number; factor?: number }
const attrsOf = (node: GraphNode) => node.attrs as unknown as ResizeAttrs;
const ratio = (node: GraphNode) => resizeRatio(node.attrs);

export const Resize: OpDef = {
  name: "Resize",
  bandable: true,
  inferShape(node, [x]): Shape {
    const { method, scale, factor } = attrsOf(node);
    if (!RESIZE_METHODS.includes(method)) throw new ModelFormatError(`method must be one of ${RESIZE_METHODS.join(", ")}, got '${method}'`);
    if (scale === undefined && factor === undefined) throw new ModelFormatError("give attrs.scale (enlarge), attrs.factor (shrink) or both (scale/factor)");
    for (const s of [scale, factor]) {
      if (s !== undefined && (!Number.isInteger(s) || s < 1 || s > 16)) throw new ModelFormatError(`scale/factor must be an integer in [1, 16], got ${s}`);
    }
    const [up, down] = ratio(node);
    return { h: Math.ceil((x.h * up) / down), w: Math.ceil((x.w * up) / down), c: x.c };
  },
  halo(node) {
    const [up, down] = ratio(node);
    return Math.ceil(support(attrsOf(node).method) * Math.max(1, down / up)) + 1;
  },
  scale(node) {
    const [up, down] = ratio(node);
    return up / down;
  },
  scratchBytes(node, [x], out) {
    const [up, down] = ratio(node);
    return resizeScratchBytes(attrsOf(node).method, up, down, x.w, x.c, out.h);
  },
  wasm(k, { node, inputs: [x], output, scratchPtr, y0, y1 }) {
    const [up, down] = ratio(node);
    const { h, w, c } = x.shape;
    k.resize_f32(x.ptr, h, w, c, output.ptr, output.shape.h, output.shape.w,
      ResizeMethodCode[attrsOf(node).method], up, down, scratchPtr, y0, y1);
  },
  // Float64 throughout, weights from resizePhases, height pass then width pass per output row.
  reference({ node, inputs: [x], output, y0, y1 }) {
    const [up, down] = ratio(node);
    const ph = resizePhases(attrsOf(node).method, up, down);
    const { h, w, c } = x.shape;
    const ow = output.shape.w;
    const row = new Float64Array(w * c);
    for (let y = y0; y < y1; y++) {
      const { first, weights } = ph[y % up];
      const f = first + Math.floor(y / up) * down;
      row.fill(0);
      weights.forEach((wt, j) => {
        const src = edgeIndex(attrsOf(node).method, f + j, h) * w * c;
        for (let i = 0; i < w * c; i++) row[i] += wt * x.data[src + i];
      });
      for (let o = 0; o < ow; o++) {
        const p = ph[o % up];
        const fo = p.first + Math.floor(o / up) * down;
        for (let ch = 0; ch < c; ch++) {
          let s = 0;
          p.weights.forEach((wt, j) => { s += wt * row[edgeIndex(attrsOf(node).method, fo + j, w) * c + ch]; });
          output.data[(y * ow + o) * c + ch] = s;
        }
      }
    }
  },
  webgl: resizeProgram,
  // Only where no gradient flows through it (the residual of the network input).
  backward: {
    check(node, needsGrad) {
      if (needsGrad.some(Boolean)) throw unsupportedInTraining(node, "would need a gradient through Resize; training supports Resize only on tensors without trainable weights upstream (the input residual)");
    },
    wasm() {},
    reference() {},
  },
};
