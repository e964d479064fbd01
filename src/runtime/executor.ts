// SPDX-License-Identifier: MIT
// Runs a plan's steps against an arena in the shared memory: with the wasm kernels (any thread) or with
// the plain-TypeScript reference ops (the oracle the tests compare against).
import type { Kernels } from "../backends/wasm/abi.js";
import type { Graph, GraphNode } from "../model/types.js";
import { getOp } from "../ops/registry.js";
import type { TensorPtr } from "../ops/op.js";
import type { NetworkHandle } from "./network.js";
import type { ExecutionPlan, PlanStep, TensorSlot } from "./plan.js";

const at = (arenaPtr: number, t: TensorSlot): TensorPtr => ({ ptr: arenaPtr + t.offset, shape: t.shape });

/** Runs output rows [y0, y1) of one step with the wasm kernels, on the scratch of `band` (< plan.bands). */
export function runStepWasm(k: Kernels, net: NetworkHandle, step: PlanStep, arenaPtr: number, y0: number, y1: number, band = 0): void {
  runNodeWasm(k, net.nodes[step.nodeIndex], net.packed[step.nodeIndex], step, arenaPtr, y0, y1, band);
}

/** runStepWasm with only the step's node and its packed weights (what a band task carries). */
export function runNodeWasm(k: Kernels, node: GraphNode, packed: Record<string, number>, step: PlanStep, arenaPtr: number, y0: number, y1: number, band: number): void {
  getOp(node.op)!.wasm(k, {
    node,
    inputs: step.inputs.map((t) => at(arenaPtr, t)),
    output: at(arenaPtr, step.output),
    packed,
    scratchPtr: step.scratch.bytes ? arenaPtr + step.scratch.offset + band * step.scratch.bytes : 0,
    y0, y1,
  });
}

/** Runs every step on the whole plan with the wasm kernels. */
export function runPlanWasm(k: Kernels, net: NetworkHandle, plan: ExecutionPlan, arenaPtr: number): void {
  for (const step of plan.steps) runStepWasm(k, net, step, arenaPtr, 0, step.output.shape.h);
}

/** Runs every step with the reference ops, reading weights from the graph (unpacked). */
export function runPlanReference(buffer: ArrayBufferLike, g: Graph, plan: ExecutionPlan, arenaPtr: number): void {
  const view = (t: TensorSlot) => ({ data: new Float32Array(buffer, arenaPtr + t.offset, t.shape.h * t.shape.w * t.shape.c), shape: t.shape });
  for (const step of plan.steps) {
    const node = g.nodes[step.nodeIndex];
    const weights: Record<string, Float32Array> = {};
    for (const [role, name] of Object.entries(node.weights)) weights[role] = g.weights[name].data;
    getOp(node.op)!.reference({ node, inputs: step.inputs.map(view), output: view(step.output), weights, y0: 0, y1: step.output.shape.h });
  }
}
