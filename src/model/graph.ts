// SPDX-License-Identifier: MIT
// Graph validation: checks a network against the op registry and derives its receptive field. The
// types themselves live in ./types.ts, below the ops, so ops never import this file.
import { ModelFormatError } from "../errors.js";
import { getOp, opNames } from "../ops/registry.js";
import type { Graph, Shape, ValidatedGraph } from "./types.js";

export type { Graph, GraphNode, Shape, ValidatedGraph, Weight } from "./types.js";

const PAD_MODES = ["zero", "edge", "reflect"];

/**
 * Checks names, op attributes, weight shapes and channel flow, and derives the receptive field and the
 * shrink of unpadded ops. Shapes are checked symbolically at two probe sizes (multiples of `align`);
 * any input whose sides are multiples of `align` and larger than twice the shrink then works.
 */
export function validateGraph(g: Graph): ValidatedGraph {
  if (!g || typeof g !== "object") throw new ModelFormatError("network graph must be an object");
  if (!Number.isInteger(g.scale) || g.scale < 1 || g.scale > 16) throw new ModelFormatError(`network scale must be an integer in [1, 16], got ${g.scale}`);
  if (!Array.isArray(g.nodes) || g.nodes.length === 0) throw new ModelFormatError("network has no nodes");
  const channels = g.channels ?? 3;
  if (channels !== 1 && channels !== 3) throw new ModelFormatError(`network channels must be 1 or 3, got ${channels}`);
  const align = g.align ?? 1;
  if (!Number.isInteger(align) || align < 1 || align > 64) throw new ModelFormatError(`network align must be an integer in [1, 64], got ${g.align}`);
  const pad = g.inputPad;
  if (pad !== undefined && (!PAD_MODES.includes(pad?.mode) || !Number.isInteger(pad.size) || pad.size < 0 || pad.size > 1024)) {
    throw new ModelFormatError(`network inputPad must be { mode: ${PAD_MODES.join(" | ")}, size: 0..1024 }, got ${JSON.stringify(pad)}`);
  }
  // Divisible by small scales and by align, so shape rules can be checked exactly; a second size tells
  // the shrink apart from a scale.
  const probe = 2 * 3 * 5 * 7 * align;
  const first = walk(g, probe, channels);
  const second = walk(g, 2 * probe, channels);
  const { shapes, radius, offset, global } = first;
  const outShape = shapes.get(g.output);
  if (!outShape) throw new ModelFormatError(`network output '${g.output}' is never produced`);
  const shrink = offset.get(g.output)!;
  const expect = (n: number) => g.scale * (n - 2 * shrink);
  const outSecond = second.shapes.get(g.output)!;
  if (outShape.c !== channels || outShape.h !== expect(probe) || outShape.w !== expect(probe) || outSecond.h !== expect(2 * probe)) {
    throw new ModelFormatError(`network output must have ${channels} channels at ${g.scale}× the input (less ${shrink} pixels per side); a ${probe}-pixel input gives ${outShape.h}×${outShape.w} with ${outShape.c} channels`);
  }
  if (!Number.isInteger(shrink)) throw new ModelFormatError(`the network's output starts ${shrink} input pixels in: not on the input's pixel grid`);
  if (shrink > (pad?.size ?? 0)) {
    throw new ModelFormatError(`the network loses ${shrink} pixels per side (unpadded ops) but its inputPad gives back ${pad?.size ?? 0}: set inputPad.size ≥ ${shrink}`);
  }
  let parameterCount = 0;
  for (const [name, w] of Object.entries(g.weights)) {
    const n = w.shape.reduce((a, b) => a * b, 1);
    if (!(w.data instanceof Float32Array) || w.data.length !== n) throw new ModelFormatError(`weight '${name}' has ${w.data?.length} values for shape [${w.shape}]`);
    parameterCount += n;
  }
  return { ...g, receptiveRadius: global ? Infinity : Math.ceil(radius.get(g.output)!), shrink, global, parameterCount };
}

/** Every tensor's shape for an n×n input; throws ModelFormatError (naming the node) where one does not fit. */
export function inferShapes(g: Graph, n: number): Map<string, Shape> {
  return walk(g, n, g.channels ?? 3).shapes;
}

/** Tensors a partial graph reads without computing them: [1, 1, c] statistics given from outside (name → c). */
export type GivenTensors = Readonly<Record<string, number>>;

/**
 * Where tensor `t` of a (possibly partial) graph lies relative to the network input: its context radius
 * and the offset of its first pixel, in input pixels, and its pixels per input pixel.
 */
export function tensorGeometry(g: Graph, t: string, given: GivenTensors = {}): { radius: number; offset: number; scale: number; shape: Shape } {
  const n = 2 * 3 * 5 * 7 * (g.align ?? 1);
  const w = walk(g, n, g.channels ?? 3, given);
  const shape = w.shapes.get(t);
  if (!shape) throw new ModelFormatError(`tensor '${t}' is not computed by the graph`);
  return { radius: w.radius.get(t)!, offset: w.offset.get(t)!, scale: w.scale.get(t)!, shape };
}

/**
 * Shape inference over the graph at an n×n input, checking every node, with per tensor: its context
 * radius and the offset of its first pixel, both in network-input pixels, and its pixels per input pixel.
 */
function walk(g: Graph, n: number, channels: number, given: GivenTensors = {}) {
  const seeds = Object.keys(given);
  const shapes = new Map<string, Shape>([[g.input, { h: n, w: n, c: channels }], ...seeds.map((t): [string, Shape] => [t, { h: 1, w: 1, c: given[t] }])]);
  const radius = new Map<string, number>([g.input, ...seeds].map((t) => [t, 0]));
  const offset = new Map<string, number>([g.input, ...seeds].map((t) => [t, 0]));
  const scaleOf = new Map<string, number>([g.input, ...seeds].map((t) => [t, 1]));
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
    const ins = node.inputs.map((t) => shapes.get(t)!);
    let out: Shape;
    try {
      out = op.inferShape(node, ins, g.weights);
    } catch (e) {
      throw e instanceof ModelFormatError ? new ModelFormatError(`${where}: ${e.message}`) : e;
    }
    shapes.set(node.output, out);
    // Image inputs (not [1, 1, c] vectors: global statistics) must agree on where they start, else an
    // op would mix pixels of different places.
    const images = node.inputs.filter((t) => !isVector(shapes.get(t)!));
    const starts = new Set(images.map((t) => offset.get(t)!));
    if (starts.size > 1) throw new ModelFormatError(`${where}: its inputs start at different input pixels (${[...starts].join(", ")}): crop them to agree`);
    const inScale = Math.max(...(images.length ? images : node.inputs).map((t) => scaleOf.get(t)!));
    const isGlobal = op.global?.(node) ?? false;
    const vector = isVector(out) && !isVector(ins[0]);
    scaleOf.set(node.output, isGlobal || vector ? 1 : inScale * op.scale(node));
    offset.set(node.output, isVector(out) ? 0 : (starts.values().next().value ?? 0) + (op.offset?.(node) ?? 0) / inScale);
    if (isGlobal) global = true;
    radius.set(node.output, Math.max(...node.inputs.map((t) => radius.get(t)!)) + op.halo(node) / inScale);
  }
  return { shapes, radius, offset, scale: scaleOf, global };
}

const isVector = (s: Shape) => s.h === 1 && s.w === 1;

/** Multiply-adds per input pixel of the Conv2D layers, each counted at its own resolution (direct convolution). */
export function convMacsPerPixel(g: Graph): number {
  const n = 2 * 3 * 5 * 7 * (g.align ?? 1) * 2;
  const shapes = inferShapes(g, n);
  let macs = 0;
  for (const node of g.nodes) {
    if (node.op !== "Conv2D") continue;
    const out = shapes.get(node.output)!;
    const kernels = Object.entries(node.weights).filter(([role]) => role.startsWith("kernel"));
    for (const [, name] of kernels) macs += (g.weights[name].data.length * out.h * out.w) / (n * n);
  }
  return macs;
}
