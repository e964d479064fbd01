// SPDX-License-Identifier: MIT
// Graph validation: checks a network against the op registry and derives its receptive field. The
// types themselves live in ./types.ts, below the ops, so ops never import this file.
import { ModelFormatError } from "../errors.js";
import { getOp, opNames } from "../ops/registry.js";
import type { Graph, Shape, ValidatedGraph } from "./types.js";

export type { Graph, GraphNode, Shape, ValidatedGraph, Weight } from "./types.js";

/**
 * Checks names, op attributes, weight shapes and channel flow, and derives the receptive field.
 * Shapes are checked symbolically at a probe size; any h, w ≥ 1 then works.
 */
export function validateGraph(g: Graph): ValidatedGraph {
  if (!g || typeof g !== "object") throw new ModelFormatError("network graph must be an object");
  if (!Number.isInteger(g.scale) || g.scale < 1 || g.scale > 16) throw new ModelFormatError(`network scale must be an integer in [1, 16], got ${g.scale}`);
  if (!Array.isArray(g.nodes) || g.nodes.length === 0) throw new ModelFormatError("network has no nodes");
  const probe = 2 * 3 * 5 * 7; // divisible by small scales, so shape rules can be checked exactly
  const channels = g.channels ?? 3;
  if (channels !== 1 && channels !== 3) throw new ModelFormatError(`network channels must be 1 or 3, got ${channels}`);
  const shapes = new Map<string, Shape>([[g.input, { h: probe, w: probe, c: channels }]]);
  // radius[t]: context radius in network-input pixels; scale[t]: t's pixels per input pixel.
  const radius = new Map<string, number>([[g.input, 0]]);
  const scaleOf = new Map<string, number>([[g.input, 1]]);
  let global = false;
  for (const [i, node] of g.nodes.entries()) {
    const where = `node ${i} (${node?.op})`;
    if (!node || typeof node.op !== "string") throw new ModelFormatError(`node ${i} has no op name`);
    const op = getOp(node.op);
    if (!op) throw new ModelFormatError(`${where}: unknown op '${node.op}'. Known ops: ${opNames().join(", ")}.`);
    node.attrs ??= {};
    node.weights ??= {};
    if (!Array.isArray(node.inputs) || node.inputs.length === 0) throw new ModelFormatError(`${where}: no inputs`);
    for (const name of node.inputs) {
      if (!shapes.has(name)) throw new ModelFormatError(`${where}: input '${name}' is not produced by an earlier node`);
    }
    if (shapes.has(node.output)) throw new ModelFormatError(`${where}: tensor '${node.output}' is written twice`);
    for (const [role, wname] of Object.entries(node.weights)) {
      if (!g.weights[wname]) throw new ModelFormatError(`${where}: weight '${wname}' (${role}) is missing from the weight table`);
    }
    const ins = node.inputs.map((n) => shapes.get(n)!);
    let out: Shape;
    try {
      out = op.inferShape(node, ins, g.weights);
    } catch (e) {
      throw e instanceof ModelFormatError ? new ModelFormatError(`${where}: ${e.message}`) : e;
    }
    shapes.set(node.output, out);
    const inScale = Math.max(...node.inputs.map((n) => scaleOf.get(n)!));
    const outScale = op.global?.(node) ? 1 : inScale * op.scale(node);
    scaleOf.set(node.output, out.h === 1 && out.w === 1 && ins[0].h !== 1 ? 1 : outScale);
    if (op.global?.(node)) global = true;
    const r = Math.max(...node.inputs.map((n) => radius.get(n)!)) + op.halo(node) / inScale;
    radius.set(node.output, r);
  }
  const outShape = shapes.get(g.output);
  if (!outShape) throw new ModelFormatError(`network output '${g.output}' is never produced`);
  if (outShape.c !== channels || outShape.h !== probe * g.scale || outShape.w !== probe * g.scale) {
    throw new ModelFormatError(`network output must have ${channels} channels at ${g.scale}× the input; it is ${outShape.h / probe}× with ${outShape.c} channels`);
  }
  let parameterCount = 0;
  for (const [name, w] of Object.entries(g.weights)) {
    const n = w.shape.reduce((a, b) => a * b, 1);
    if (!(w.data instanceof Float32Array) || w.data.length !== n) throw new ModelFormatError(`weight '${name}' has ${w.data?.length} values for shape [${w.shape}]`);
    parameterCount += n;
  }
  return { ...g, receptiveRadius: global ? Infinity : Math.ceil(radius.get(g.output)!), global, parameterCount };
}

/** Multiply-adds per input pixel of the Conv2D layers (every one runs at the input's resolution). */
export function convMacsPerPixel(g: Graph): number {
  let macs = 0;
  for (const n of g.nodes) {
    if (n.op !== "Conv2D") continue;
    for (const [role, name] of Object.entries(n.weights)) if (role.startsWith("kernel")) macs += g.weights[name].data.length;
  }
  return macs;
}
