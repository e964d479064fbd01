// SPDX-License-Identifier: MIT
// Memory planning for one run of a graph at a given input size: every tensor and every op's scratch
// gets a byte offset inside one arena, reusing space whose contents are dead (greedy by size over
// liveness intervals, as TFLite's arena planner does). The plan is plain data: the same plan can be
// executed on any thread against an arena leased from the shared pool.
import type { Shape, ValidatedGraph } from "../model/types.js";
import type { GivenTensors } from "../model/graph.js";
import { getOp } from "../ops/registry.js";
import type { OpDef } from "../ops/op.js";
import { paddedBytes } from "./align.js";

export interface Slot { offset: number; bytes: number }
export interface TensorSlot extends Slot { name: string; shape: Shape }

export interface PlanStep {
  nodeIndex: number;
  inputs: TensorSlot[];
  output: TensorSlot;
  /** One band's op scratch; band b of a step uses offset + b · bytes (see ExecutionPlan.bands). */
  scratch: Slot;
}

export interface ExecutionPlan {
  h: number;
  w: number;
  steps: PlanStep[];
  input: TensorSlot;
  output: TensorSlot;
  /** Arena size: all tensors and scratch, with reuse. */
  arenaBytes: number;
  /** Row bands of one step that may run at once, each with its own scratch (layer-major runs, ./scheduler.ts). */
  bands: number;
  /** The given tensors' slots, live from the start like the input (written before the steps run). */
  given: TensorSlot[];
}

interface Interval { key: string; bytes: number; first: number; last: number; offset: number }

export function planExecution(g: ValidatedGraph, h: number, w: number, bands = 1, given: GivenTensors = {}): ExecutionPlan {
  const shapes = new Map<string, Shape>([[g.input, { h, w, c: g.channels ?? 3 }], ...Object.entries(given).map(([t, c]): [string, Shape] => [t, { h: 1, w: 1, c }])]);
  const ops: OpDef[] = [];
  for (const node of g.nodes) {
    const op = getOp(node.op)!;
    ops.push(op);
    shapes.set(node.output, op.inferShape(node, node.inputs.map((n) => shapes.get(n)!), g.weights));
  }
  // Liveness: a tensor lives from the step that writes it (input: -1) to the last step reading it
  // (output: the end). Scratch lives during its step only.
  const intervals = new Map<string, Interval>();
  const bytesOf = (s: Shape) => paddedBytes(s.h * s.w * s.c * 4);
  for (const t of [g.input, ...Object.keys(given)]) intervals.set(t, { key: t, bytes: bytesOf(shapes.get(t)!), first: -1, last: -1, offset: 0 });
  g.nodes.forEach((node, i) => {
    for (const n of node.inputs) intervals.get(n)!.last = i;
    intervals.set(node.output, { key: node.output, bytes: bytesOf(shapes.get(node.output)!), first: i, last: i, offset: 0 });
    const sb = ops[i].scratchBytes?.(node, node.inputs.map((n) => shapes.get(n)!), shapes.get(node.output)!) ?? 0;
    if (sb > 0) intervals.set(`#scratch${i}`, { key: `#scratch${i}`, bytes: bands * paddedBytes(sb), first: i, last: i, offset: 0 });
  });
  intervals.get(g.output)!.last = g.nodes.length;

  // Greedy by size: place big intervals first at the lowest offset that overlaps no live neighbour.
  const placed: Interval[] = [];
  let arenaBytes = 0;
  for (const iv of [...intervals.values()].sort((a, b) => b.bytes - a.bytes || a.first - b.first)) {
    const clashes = placed
      .filter((p) => p.first <= iv.last && iv.first <= p.last)
      .sort((a, b) => a.offset - b.offset);
    let offset = 0;
    for (const p of clashes) {
      if (offset + iv.bytes <= p.offset) break;
      offset = Math.max(offset, p.offset + p.bytes);
    }
    iv.offset = offset;
    placed.push(iv);
    arenaBytes = Math.max(arenaBytes, offset + iv.bytes);
  }

  const slot = (name: string): TensorSlot => {
    const iv = intervals.get(name)!;
    return { name, shape: shapes.get(name)!, offset: iv.offset, bytes: iv.bytes };
  };
  const steps = g.nodes.map((node, i): PlanStep => {
    const s = intervals.get(`#scratch${i}`);
    return {
      nodeIndex: i,
      inputs: node.inputs.map(slot),
      output: slot(node.output),
      scratch: s ? { offset: s.offset, bytes: s.bytes / bands } : { offset: 0, bytes: 0 },
    };
  });
  return { h, w, steps, input: slot(g.input), output: slot(g.output), arenaBytes, bands, given: Object.keys(given).map(slot) };
}
