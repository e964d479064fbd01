// SPDX-License-Identifier: MIT
// The contract every op implements. An op file holds its shape rule, its weight packing, and its
// implementations side by side: `wasm` (kernels on the shared memory) and `reference` (plain
// TypeScript, the test oracle). Both compute output rows [y0, y1) so the scheduler can hand row bands
// of one op to different threads, and tiles of the whole graph to different workers.
import type { GraphNode, Shape, Weight } from "../model/types.js";
import type { Kernels } from "../backends/wasm/abi.js";

/** A tensor placed in the shared memory. */
export interface TensorPtr { ptr: number; shape: Shape }
/** A tensor as a Float32Array view (reference backend). */
export interface TensorView { data: Float32Array; shape: Shape }

export interface WasmCall {
  node: GraphNode;
  inputs: TensorPtr[];
  output: TensorPtr;
  /** Role → byte offset of the packed weights (see OpDef.pack). */
  packed: Record<string, number>;
  /** Per-call scratch of OpDef.scratchBytes bytes (0 when none). */
  scratchPtr: number;
  y0: number;
  y1: number;
}

export interface RefCall {
  node: GraphNode;
  inputs: TensorView[];
  output: TensorView;
  /** Role → weights as stored in the graph (unpacked). */
  weights: Record<string, Float32Array>;
  y0: number;
  y1: number;
}

/** How a 3×3 conv runs: 'direct' (every shape), 'winograd' (F(2×2,3×3) where it applies), 'auto' (by shape; src/ops/conv2d.ts). */
export const CONV_ALGORITHMS = ["auto", "direct", "winograd"] as const;
export type ConvAlgorithm = (typeof CONV_ALGORITHMS)[number];

/** Kernel choices made at pack time (the packed roles then tell the op which kernel runs). */
export interface PackOptions {
  /** Default 'direct'. */
  conv?: ConvAlgorithm;
}

export interface OpDef {
  /** PascalCase, as in the graph. */
  readonly name: string;
  /** Output shape; validates attributes and weight shapes (throws ModelFormatError with what is wrong). */
  inferShape(node: GraphNode, inputs: Shape[], weights: Record<string, Weight>): Shape;
  /** Extra input pixels, per side, an output pixel reads beyond its own footprint. */
  halo(node: GraphNode): number;
  /** Output pixels per input pixel along each axis. */
  scale(node: GraphNode): number;
  /** True when the output depends on whole-image statistics of its input (mean): no tiles, no bands. */
  global?(node: GraphNode): boolean;
  /** Re-packs the node's weights once at load time into the kernel's layout. */
  pack?(node: GraphNode, weights: Record<string, Weight>, options?: PackOptions): Record<string, Float32Array>;
  /** Scratch bytes one call needs. */
  scratchBytes?(node: GraphNode, inputs: Shape[], output: Shape): number;
  /** Whether rows of this op may be split across threads (false: the whole output in one call). */
  bandable?: boolean;
  wasm(k: Kernels, call: WasmCall): void;
  reference(call: RefCall): void;
}

/** Number of weights' elements, for shape checks. */
export function count(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export const pad4 = (n: number): number => (n + 3) & ~3;
