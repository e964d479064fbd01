// SPDX-License-Identifier: MIT
// The whole training pass in plain TypeScript and float64: forward through the ops' own reference
// implementations (src/ops/*, which only index their arrays, so they run on Float64Array as well), the
// loss, and backward through the ops' backward references. The oracle for the wasm pass in
// tests (finite differences need float64); far too slow to train with.
import type { Shape } from "../model/graph.js";
import { getOp } from "../ops/registry.js";
import type { TensorF64 } from "../ops/op.js";
import { lossRef, type LossKind } from "./loss.js";
import type { TrainProgram } from "./program.js";

/** Role → float64 weights of node i, read from a flat parameter vector. */
function nodeWeights(prog: TrainProgram, i: number, params: ArrayLike<number>): Record<string, Float64Array> {
  const out: Record<string, Float64Array> = {};
  for (const [role, name] of Object.entries(prog.spec.nodes[i].weights)) {
    const p = prog.spec.params[name];
    out[role] = Float64Array.from({ length: p.length }, (_, j) => params[p.offset + j]);
  }
  return out;
}

/** Every tensor of the training graph for input x [h, w, c]. */
export function refForward(prog: TrainProgram, params: ArrayLike<number>, x: ArrayLike<number>, h: number, w: number): Map<string, TensorF64> {
  const { spec, graph } = prog;
  const t = new Map<string, TensorF64>([[spec.input, { data: Float64Array.from(x), shape: { h, w, c: spec.channels } }]]);
  spec.nodes.forEach((node, i) => {
    const op = getOp(node.op)!;
    const inputs = node.inputs.map((n) => t.get(n)!);
    const shape: Shape = op.inferShape(node, inputs.map((v) => v.shape), graph.weights);
    const output = { data: new Float64Array(shape.h * shape.w * shape.c), shape };
    // The ops' references are typed for Float32Array but only index; float64 keeps FD checks exact.
    op.reference({
      node,
      inputs: inputs as unknown as { data: Float32Array; shape: Shape }[],
      output: output as unknown as { data: Float32Array; shape: Shape },
      weights: nodeWeights(prog, i, params) as unknown as Record<string, Float32Array>,
      y0: 0, y1: shape.h,
    });
    t.set(node.output, output);
  });
  return t;
}

/** Summed loss and its gradient w.r.t. the flat parameters (same layout), scaled by lossScale. */
export function refLossAndGrad(prog: TrainProgram, params: ArrayLike<number>, x: ArrayLike<number>, h: number, w: number, target: ArrayLike<number>,
  loss: LossKind, lossScale: number, eps?: number): { loss: number; grad: Float64Array; tensors: Map<string, TensorF64>; tensorGrads: Map<string, Float64Array> } {
  const { spec } = prog;
  const t = refForward(prog, params, x, h, w);
  const out = t.get(spec.output)!;
  const l = lossRef(loss, out.data, target, lossScale, eps);
  const grad = new Float64Array(spec.paramCount);
  const tg = new Map<string, Float64Array>([[spec.output, l.grad]]);
  for (let i = spec.nodes.length - 1; i >= 0; i--) {
    const node = spec.nodes[i];
    const dOut = tg.get(node.output);
    if (!dOut) continue;
    const dInputs = node.inputs.map((n) => {
      if (!spec.needsGrad[n]) return null;
      if (!tg.has(n)) tg.set(n, new Float64Array(t.get(n)!.data.length));
      return tg.get(n)!;
    });
    const weights = nodeWeights(prog, i, params);
    const dWeights: Record<string, Float64Array> = {};
    for (const [role, name] of Object.entries(node.weights)) {
      const p = spec.params[name];
      dWeights[role] = grad.subarray(p.offset, p.offset + p.length);
    }
    getOp(node.op)!.backward!.reference({ node, inputs: node.inputs.map((n) => t.get(n)!), output: t.get(node.output)!, dOut, dInputs, weights, dWeights });
  }
  return { loss: l.loss, grad, tensors: t, tensorGrads: tg };
}
