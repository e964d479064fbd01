// SPDX-License-Identifier: MIT
// A network made ready to run on one engine: weights packed once into the shared memory, where every
// thread reads them and none writes them again (srgan-rust's immutable shared weights).
import type { GraphNode, ValidatedGraph } from "../model/types.js";
import { getOp } from "../ops/registry.js";
import type { PackOptions } from "../ops/op.js";
import type { Engine } from "./engine.js";
import type { Lease } from "./buffer-pool.js";
import { paddedBytes } from "./align.js";

/** The part of a prepared network that threads exchange: structure and weight pointers, no weight data. */
export interface NetworkHandle {
  name: string;
  scale: number;
  input: string;
  output: string;
  nodes: GraphNode[];
  /** Per node: role → byte offset of its packed weights in the shared memory. */
  packed: Record<string, number>[];
  receptiveRadius: number;
  global: boolean;
}

export interface PreparedNetwork {
  graph: ValidatedGraph;
  handle: NetworkHandle;
  weightsLease: Lease;
}

export function prepareNetwork(engine: Engine, graph: ValidatedGraph, options: PackOptions = {}): PreparedNetwork {
  // Every weight role is copied as stored unless the op packs it into another layout.
  const perNode = graph.nodes.map((node) => {
    const raw: Record<string, Float32Array> = {};
    for (const [role, name] of Object.entries(node.weights)) raw[role] = graph.weights[name].data;
    return { ...raw, ...(getOp(node.op)!.pack?.(node, graph.weights, options) ?? {}) };
  });
  const total = perNode.reduce((s, arrays) => s + Object.values(arrays).reduce((t, a) => t + paddedBytes(4 * a.length), 0), 0);
  const lease = engine.pool.lease(Math.max(total, 64));
  let at = lease.ptr;
  const packed = perNode.map((arrays) => {
    const ptrs: Record<string, number> = {};
    for (const [role, a] of Object.entries(arrays)) {
      engine.f32(at, a.length).set(a);
      ptrs[role] = at;
      at += paddedBytes(4 * a.length);
    }
    return ptrs;
  });
  const { name, scale, input, output, nodes, receptiveRadius, global } = graph;
  return { graph, weightsLease: lease, handle: { name, scale, input, output, nodes, packed, receptiveRadius, global } };
}
