// SPDX-License-Identifier: MIT
// The contract every op implements. An op is one OpDef: its shape rule, its weight packing, and its
// implementations side by side: `wasm` (kernels on the shared memory), `reference` (plain TypeScript,
// the test oracle), `webgl` (a program factory, src/backends/webgl/programs/) and, where it trains,
// `backward`. wasm and reference compute output rows [y0, y1) so the scheduler can hand row bands of one
// op to different threads, and tiles of the whole graph to different workers.
import type { GraphNode, Shape, Weight } from "../model/types.js";
import type { Kernels } from "../backends/wasm/abi.js";
import type { ProgramFactory } from "../backends/webgl/programs/common.js";
import { ModelFormatError, UnsupportedError } from "../errors.js";

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
  /**
   * Where the output starts, in input pixels in from the input's first pixel (per side; default 0): an
   * unpadded convolution's k/2, a crop's margin. The output is then that much smaller on each side.
   */
  offset?(node: GraphNode): number;
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
  /** Compiles a node for the WebGL backend (every op has one: test/unit/ops.test.ts checks). */
  webgl: ProgramFactory;
  /** The backward pass, for ops that training supports (src/train/program.ts). */
  backward?: BackwardDef;
}

// ---- Backward passes (training) ----

/** Where an input's gradient goes: `accumulate` false overwrites (first writer), true adds. */
export interface GradTarget { ptr: number; accumulate: boolean }

export interface BackwardCall {
  k: Kernels;
  /** Float32Array view of the shared memory. */
  f32(ptr: number, length: number): Float32Array;
  node: GraphNode;
  /** Forward inputs and output as they were computed (activations kept for this pass). */
  inputs: TensorPtr[];
  output: TensorPtr;
  /** Gradient of the loss w.r.t. the output. */
  dOutPtr: number;
  /** Per input: where its gradient goes, or null when none is needed (e.g. the network input). */
  dInputs: (GradTarget | null)[];
  /** Role → packed weights of the forward (plus kernel0T, winograd0T: Conv2D's input-gradient kernels). */
  packed: Record<string, number>;
  /** Role → this image's parameter gradient, in the graph's layout (added to). */
  paramGrads: Record<string, number>;
  /** Scratch as large as the largest tensor (for gradients that must be added, not written). */
  tmpPtr: number;
  /** The step's scratch: the forward op's, grown to BackwardDef.scratchBytes (free again in the backward). */
  scratchPtr: number;
}

export interface TensorF64 { data: Float64Array; shape: Shape }

export interface RefBackwardCall {
  node: GraphNode;
  inputs: TensorF64[];
  output: TensorF64;
  dOut: Float64Array;
  /** Per input: an array to add its gradient into, or null. */
  dInputs: (Float64Array | null)[];
  /** Role → weights, graph layout. */
  weights: Record<string, Float64Array>;
  /** Role → parameter gradient to add into. */
  dWeights: Record<string, Float64Array>;
}

/**
 * An op's backward pass. Every rule adds into parameter gradients (zeroed once per image by the caller)
 * and writes or adds into input gradients as the caller says (a tensor read by several nodes sums their
 * contributions). `reference` is float64, the oracle of test/unit/grad.test.ts.
 */
export interface BackwardDef {
  /** Throws (naming what is unsupported) unless this node can be trained; needsGrad[i]: input i wants a gradient. */
  check(node: GraphNode, needsGrad: boolean[]): void;
  /** Scratch the backward needs at scratchPtr, if more than the forward op's. */
  scratchBytes?(node: GraphNode, inputs: Shape[], output: Shape): number;
  wasm(call: BackwardCall): void;
  reference(call: RefBackwardCall): void;
}

/** Number of weights' elements, for shape checks. */
export function count(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export const pad4 = (n: number): number => (n + 3) & ~3;

export const isVector = (s: Shape): boolean => s.h === 1 && s.w === 1;

/** Shape rule of the elementwise binary ops: two tensors of one shape, or a tensor and a [1, 1, c] vector. */
export function binaryShape(inputs: Shape[]): Shape {
  if (inputs.length !== 2) throw new ModelFormatError(`takes 2 inputs, got ${inputs.length}`);
  const [a, b] = inputs;
  if (a.c !== b.c) throw new ModelFormatError(`channel counts differ: ${a.c} and ${b.c}`);
  if (!(a.h === b.h && a.w === b.w) && !isVector(b)) {
    throw new ModelFormatError(`shapes [${a.h}, ${a.w}, ${a.c}] and [${b.h}, ${b.w}, ${b.c}] differ (the second may be a [1, 1, c] vector)`);
  }
  return a;
}

export const unsupportedInTraining = (node: GraphNode, why: string): UnsupportedError =>
  new UnsupportedError(`training: ${node.op} node '${node.output}' ${why}`);

/** Copies or adds n floats from src into a gradient target. */
export function writeGrad(call: BackwardCall, t: GradTarget, srcPtr: number, n: number): void {
  if (t.accumulate) call.k.add_f32(t.ptr, srcPtr, t.ptr, 0, n);
  else call.f32(t.ptr, n).set(call.f32(srcPtr, n));
}
