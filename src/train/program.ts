// SPDX-License-Identifier: MIT
// A graph made trainable, and one image's forward + backward pass on the wasm kernels. The program
// splits every fused Conv2D activation into Conv2D + Activation (the backward needs the
// pre-activation), lays the parameters out as one flat vector (the optimiser's and the gradients'
// layout), and plans an arena in which every activation stays alive for the backward pass. The
// forward runs the ordinary ops through runtime/executor.ts; the backward runs each op's `backward`.
import { validateGraph, type Graph, type GraphNode, type Shape, type ValidatedGraph, type Weight } from "../model/graph.js";
import { getOp, opNames } from "../ops/registry.js";
import type { Kernels } from "../backends/wasm/abi.js";
import type { NetworkHandle } from "../runtime/network.js";
import type { PlanStep, Slot, TensorSlot } from "../runtime/plan.js";
import { paddedBytes } from "../runtime/align.js";
import { runStepWasm } from "../runtime/executor.js";
import { UnsupportedError } from "../errors.js";
import { packTransposed } from "../ops/conv2d.js";
import type { ConvAlgorithm, GradTarget } from "../ops/op.js";

/** Ops with a backward pass, for messages. */
const trainableOps = (): string[] => opNames().filter((name) => getOp(name)!.backward);
import { lossWasm, type LossKind } from "./loss.js";
import { foldGraph } from "./reparam.js";

/** One weight's place in the flat parameter vector (float offsets, each 16-byte aligned). */
export interface ParamEntry { name: string; shape: number[]; offset: number; length: number }

/** What a worker needs to run the program: structure only, no weight data (structured-clonable). */
export interface ProgramSpec {
  /** The training graph's nodes (activations split from convs). */
  nodes: GraphNode[];
  input: string;
  output: string;
  channels: number;
  scale: number;
  /** Tensor → whether the loss needs its gradient (something trainable lies upstream). */
  needsGrad: Record<string, boolean>;
  params: Record<string, ParamEntry>;
  /** Floats in the flat parameter vector (with alignment padding). */
  paramCount: number;
  /** Per node: whether it needs the input-gradient kernel packed (a Conv2D whose input needs a gradient). */
  transposed: boolean[];
}

export interface TrainProgram {
  spec: ProgramSpec;
  /** 3×3 kernels of the forward and input-gradient convolutions (weight gradients have their own kernel). */
  conv: ConvAlgorithm;
  /** The training graph (validated; its weight table is the one it was compiled from). */
  graph: ValidatedGraph;
  /** The graph as given (fused activations): what is saved and run for inference. */
  source: Graph;
}

/**
 * Compiles `g` for training. Throws UnsupportedError naming the node when an op has no backward rule
 * (the ops' `backward`: Conv2D with act none/prelu, Activation prelu, PixelShuffle, same-shape Add, and
 * Resize on tensors without trainable weights upstream).
 */
export function compileProgram(g: Graph, options: { conv?: ConvAlgorithm } = {}): TrainProgram {
  validateGraph(g);
  const nodes: GraphNode[] = [];
  for (const node of g.nodes) {
    if (!getOp(node.op)?.backward) throw new UnsupportedError(`training: op ${node.op} (node '${node.output}') has no backward pass; trainable ops: ${trainableOps().join(", ")}`);
    const act = (node.attrs.act ?? "none") as string;
    if (node.op === "Conv2D" && act !== "none") {
      const { slope, spline, ...convWeights } = node.weights;
      const z = `${node.output}#z`;
      nodes.push({ op: "Conv2D", inputs: node.inputs, output: z, attrs: { ...node.attrs, act: "none" }, weights: convWeights });
      nodes.push({ op: "Activation", inputs: [z], output: node.output, attrs: { act, alpha: node.attrs.alpha }, weights: spline ? { spline } : slope ? { slope } : {} });
    } else nodes.push(node);
  }
  const graph = validateGraph({ ...g, nodes });
  const needsGrad: Record<string, boolean> = { [g.input]: false };
  for (const node of nodes) {
    const upstream = node.inputs.map((n) => needsGrad[n]);
    getOp(node.op)!.backward!.check(node, upstream);
    needsGrad[node.output] = Object.keys(node.weights).length > 0 || upstream.some(Boolean);
  }
  if (!needsGrad[g.output]) throw new UnsupportedError(`training: network '${g.name}' has no trainable weights on the way to its output`);
  const params: Record<string, ParamEntry> = {};
  let offset = 0;
  for (const [name, w] of Object.entries(g.weights)) {
    params[name] = { name, shape: w.shape, offset, length: w.data.length };
    offset += (w.data.length + 3) & ~3;
  }
  const transposed = nodes.map((n) => n.op === "Conv2D" && needsGrad[n.inputs[0]]);
  return {
    spec: { nodes, input: g.input, output: g.output, channels: g.channels ?? 3, scale: g.scale, needsGrad, params, paramCount: Math.max(4, offset), transposed },
    graph,
    source: g,
    conv: options.conv ?? "direct",
  };
}

/** The flat parameter vector of `g`'s weights (layout of `spec.params`). */
export function flattenParams(spec: ProgramSpec, weights: Record<string, Weight>, out: Float32Array = new Float32Array(spec.paramCount)): Float32Array {
  for (const p of Object.values(spec.params)) out.set(weights[p.name].data, p.offset);
  return out;
}

/**
 * The graph as given, with its weights replaced by copies from the flat vector and any training
 * branches folded in (src/train/reparam.ts): ready to encode or run.
 */
export function graphWithParams(prog: TrainProgram, params: Float32Array, meta?: Record<string, unknown>): Graph {
  const weights: Record<string, Weight> = {};
  for (const p of Object.values(prog.spec.params)) weights[p.name] = { shape: [...p.shape], data: params.slice(p.offset, p.offset + p.length) };
  const { name, scale, channels, input, output, nodes } = prog.source;
  return foldGraph({ name, scale, channels, input, output, nodes, weights, meta: { ...prog.source.meta, ...meta } });
}

// ---- Per-image arena plan ----

/** One image's buffers: every activation, the gradients the backward writes, op scratch, a temp. */
export interface TrainPlan {
  h: number;
  w: number;
  /** Forward steps (executor-compatible), one per training node, none sharing memory. */
  steps: PlanStep[];
  act: Record<string, TensorSlot>;
  grad: Record<string, TensorSlot>;
  tmp: Slot;
  arenaBytes: number;
}

export function planImage(prog: TrainProgram, h: number, w: number): TrainPlan {
  const { spec, graph } = prog;
  const shapes = new Map<string, Shape>([[spec.input, { h, w, c: spec.channels }]]);
  let at = 0;
  const place = (bytes: number): Slot => {
    const s = { offset: at, bytes: paddedBytes(bytes) };
    at += s.bytes;
    return s;
  };
  const tensor = (name: string): TensorSlot => {
    const shape = shapes.get(name)!;
    return { name, shape, ...place(shape.h * shape.w * shape.c * 4) };
  };
  const act: Record<string, TensorSlot> = { [spec.input]: tensor(spec.input) };
  const steps: PlanStep[] = [];
  let largest = 0;
  spec.nodes.forEach((node, i) => {
    const op = getOp(node.op)!;
    const ins = node.inputs.map((n) => shapes.get(n)!);
    const out = op.inferShape(node, ins, graph.weights);
    shapes.set(node.output, out);
    act[node.output] = tensor(node.output);
    largest = Math.max(largest, out.h * out.w * out.c * 4, ...ins.map((s) => s.h * s.w * s.c * 4));
    const sb = Math.max(op.scratchBytes?.(node, ins, out) ?? 0, op.backward?.scratchBytes?.(node, ins, out) ?? 0);
    steps.push({ nodeIndex: i, inputs: node.inputs.map((n) => act[n]), output: act[node.output], scratch: sb > 0 ? place(sb) : { offset: 0, bytes: 0 } });
  });
  const grad: Record<string, TensorSlot> = {};
  for (const name of Object.keys(act)) if (spec.needsGrad[name]) grad[name] = tensor(name);
  const tmp = place(largest);
  return { h, w, steps, act, grad, tmp, arenaBytes: at };
}

// ---- Packed weights ----

/** Per node, role → packed array: the forward's packing (as prepareNetwork) plus kernel0T for input gradients. */
export function packAll(prog: TrainProgram, params: Float32Array): Record<string, Float32Array>[] {
  const { spec } = prog;
  const view: Record<string, Weight> = {};
  for (const p of Object.values(spec.params)) view[p.name] = { shape: p.shape, data: params.subarray(p.offset, p.offset + p.length) };
  return spec.nodes.map((node, i) => {
    const raw: Record<string, Float32Array> = {};
    for (const [role, name] of Object.entries(node.weights)) raw[role] = view[name].data;
    const arrays = { ...raw, ...(getOp(node.op)!.pack?.(node, view, { conv: prog.conv }) ?? {}) };
    if (spec.transposed[i]) {
      const kw = view[node.weights.kernel0];
      const t = packTransposed(node, kw.data, kw.shape[3], prog.conv);
      arrays.kernel0T = t.kernel0;
      if (t.winograd0) arrays.winograd0T = t.winograd0;
    }
    return arrays;
  });
}

/** Where each node's packed arrays live inside a weights region (constant for a program). */
export function packedLayout(arrays: Record<string, Float32Array>[]): { offsets: Record<string, number>[]; bytes: number } {
  let at = 0;
  const offsets = arrays.map((a) => {
    const o: Record<string, number> = {};
    for (const [role, arr] of Object.entries(a)) { o[role] = at; at += paddedBytes(arr.length * 4); }
    return o;
  });
  return { offsets, bytes: Math.max(64, at) };
}

/** The handle runStepWasm and the backward read: node structure + packed weight pointers. */
export function trainingHandle(spec: ProgramSpec, basePtr: number, offsets: Record<string, number>[]): NetworkHandle {
  const packed = offsets.map((o) => Object.fromEntries(Object.entries(o).map(([role, off]) => [role, basePtr + off])));
  return { name: "training", scale: spec.scale, input: spec.input, output: spec.output, nodes: spec.nodes, packed, receptiveRadius: 0, global: false };
}

// ---- One image ----

export interface ImageJob {
  /** LR input, f32 RGB [h, w, 3] (sRGB-coded 0..1). */
  lrPtr: number;
  /** HR target, f32 RGB [h·s, w·s, 3]. */
  hrPtr: number;
  /** This image's parameter gradient (spec.paramCount floats), overwritten. */
  gradPtr: number;
  /** Arena of plan.arenaBytes. */
  arenaPtr: number;
  loss: LossKind;
  /** Gradient scale: 1 / (elements in the whole batch), so summed image gradients are the batch mean's. */
  lossScale: number;
  /** Charbonnier ε. */
  eps: number;
}

/**
 * Forward, loss and backward of one image; returns the image's summed loss (before lossScale). The
 * result depends on nothing but the inputs and weights: the same image gives the same bits on any
 * thread, which is what makes data-parallel training reproducible.
 */
export function imageGrad(k: Kernels, buffer: ArrayBufferLike, spec: ProgramSpec, handle: NetworkHandle, plan: TrainPlan, job: ImageJob): number {
  const f32 = (ptr: number, n: number) => new Float32Array(buffer, ptr, n);
  const a = job.arenaPtr;
  const inSlot = plan.act[spec.input];
  const nIn = inSlot.shape.h * inSlot.shape.w * inSlot.shape.c;
  f32(a + inSlot.offset, nIn).set(f32(job.lrPtr, nIn));
  for (const step of plan.steps) runStepWasm(k, handle, step, a, 0, step.output.shape.h);

  const out = plan.act[spec.output];
  const n = out.shape.h * out.shape.w * out.shape.c;
  const dOut = a + plan.grad[spec.output].offset;
  const loss = lossWasm(k, job.loss, a + out.offset, job.hrPtr, dOut, n, job.lossScale, job.eps);

  f32(job.gradPtr, spec.paramCount).fill(0);
  const written = new Set<string>([spec.output]);
  for (let i = spec.nodes.length - 1; i >= 0; i--) {
    const node = spec.nodes[i];
    if (!written.has(node.output)) continue; // a branch that does not reach the loss
    const dInputs: (GradTarget | null)[] = node.inputs.map((name) => {
      if (!spec.needsGrad[name]) return null;
      const t = { ptr: a + plan.grad[name].offset, accumulate: written.has(name) };
      written.add(name);
      return t;
    });
    const paramGrads: Record<string, number> = {};
    for (const [role, name] of Object.entries(node.weights)) paramGrads[role] = job.gradPtr + spec.params[name].offset * 4;
    const step = plan.steps[i];
    getOp(node.op)!.backward!.wasm({
      k, f32, node,
      inputs: step.inputs.map((t) => ({ ptr: a + t.offset, shape: t.shape })),
      output: { ptr: a + step.output.offset, shape: step.output.shape },
      dOutPtr: a + plan.grad[node.output].offset,
      dInputs,
      packed: handle.packed[i],
      paramGrads,
      tmpPtr: a + plan.tmp.offset,
      scratchPtr: step.scratch.bytes ? a + step.scratch.offset : 0,
    });
  }
  return loss;
}
