// SPDX-License-Identifier: MIT
// Runs a validated graph (the same node list and weights the wasm path runs) on float textures: each
// node compiled once into a NodeProgram, tensors acquired from the texture pool when written and
// returned after their last reader, as the wasm planner's liveness intervals do for the arena. Also
// the planning the tiler needs: how large a tile may be before a tensor passes MAX_TEXTURE_SIZE or
// the working set passes the byte budget.
import { UnsupportedError } from "../../errors.js";
import type { Shape, ValidatedGraph } from "../../model/types.js";
import { getOp } from "../../ops/registry.js";
import { acquireTensor, layersOf, type GlEnv, type GpuTensor, type NodeProgram } from "./programs/common.js";

// Any size works for shape inference; this one is divisible by every small scale, like validateGraph's.
const PROBE = 2 * 3 * 5 * 7;

export class GpuNetwork {
  private readonly programs: NodeProgram[] = [];
  /** Index of the last node reading each tensor (the output: nodes.length, read by the caller). */
  private readonly lastUse = new Map<string, number>();
  /** Largest tensor side divided by the input side (≥ 1): a tile of side t needs textures of t·ratio. */
  readonly sizeRatio: number;

  constructor(private readonly env: GlEnv, readonly graph: ValidatedGraph) {
    const inC = graph.channels ?? 3;
    const probe = this.shapes(PROBE, PROBE, inC);
    let ratio = 1;
    for (const s of probe.values()) ratio = Math.max(ratio, s.h / PROBE, s.w / PROBE);
    this.sizeRatio = ratio;
    for (const [name, s] of probe) {
      if (layersOf(s.c) > env.ctx.caps.maxArrayLayers) {
        throw new UnsupportedError(`tensor '${name}' has ${s.c} channels; this GPU's textures hold at most ${4 * env.ctx.caps.maxArrayLayers}. Use backend: 'wasm'.`);
      }
    }
    graph.nodes.forEach((node, i) => { for (const t of node.inputs) this.lastUse.set(t, i); });
    this.lastUse.set(graph.output, graph.nodes.length);
    try {
      for (const node of graph.nodes) {
        // Every registered op carries its program (OpDef.webgl); validation has already checked the op names.
        this.programs.push(getOp(node.op)!.webgl(env, node, graph.weights, node.inputs.map((t) => probe.get(t)!), probe.get(node.output)!));
      }
    } catch (e) {
      this.dispose();
      throw e;
    }
  }

  /** Every tensor's shape for an h×w input. */
  shapes(h: number, w: number, c = this.graph.channels ?? 3): Map<string, Shape> {
    const shapes = new Map<string, Shape>([[this.graph.input, { h, w, c }]]);
    for (const node of this.graph.nodes) {
      shapes.set(node.output, getOp(node.op)!.inferShape(node, node.inputs.map((t) => shapes.get(t)!), this.graph.weights));
    }
    return shapes;
  }

  /**
   * Most texture bytes alive at once while running an h×w input (tensors by liveness, plus each node's
   * scratch), bucketed as the pool allocates them. Weights are not included.
   */
  peakBytes(h: number, w: number, c?: number): number {
    const shapes = this.shapes(h, w, c);
    const bytes = (s: Shape) => this.env.pool.bytesFor(this.env.floatFormat, s.w, s.h, layersOf(s.c));
    let live = bytes(shapes.get(this.graph.input)!);
    let peak = live;
    const alive = new Set([this.graph.input]);
    this.graph.nodes.forEach((node, i) => {
      const out = shapes.get(node.output)!;
      const scratch = this.programs[i]?.scratchBytes?.(node.inputs.map((t) => shapes.get(t)!), out) ?? 0;
      live += bytes(out);
      peak = Math.max(peak, live + scratch);
      alive.add(node.output);
      for (const t of new Set(node.inputs)) {
        if (this.lastUse.get(t) === i && alive.delete(t)) live -= bytes(shapes.get(t)!);
      }
    });
    return peak;
  }

  /**
   * Runs the graph on `input` (which it takes over: released after its last reader) and returns the
   * output tensor, which the caller releases. Every intermediate goes back to the pool, even on failure.
   */
  run(input: GpuTensor): GpuTensor {
    const shapes = this.shapes(input.h, input.w, input.c);
    const live = new Map<string, GpuTensor>([[this.graph.input, input]]);
    try {
      this.graph.nodes.forEach((node, i) => {
        const out = acquireTensor(this.env, shapes.get(node.output)!);
        live.set(node.output, out);
        this.programs[i].run(node.inputs.map((t) => live.get(t)!), out);
        for (const t of new Set(node.inputs)) {
          if (this.lastUse.get(t) === i) {
            this.env.pool.release(live.get(t)!.tex);
            live.delete(t);
          }
        }
      });
      const output = live.get(this.graph.output)!;
      live.delete(this.graph.output);
      return output;
    } finally {
      for (const t of live.values()) this.env.pool.release(t.tex);
    }
  }

  dispose(): void {
    for (const p of this.programs) p.dispose();
    this.programs.length = 0;
  }
}
