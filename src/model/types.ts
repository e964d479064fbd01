// SPDX-License-Identifier: MIT
// The network representation shared by every backend: a list of nodes in execution order over named
// tensors, plus a weight table. Tensors are NHWC with N = 1 and float32; image-shaped tensors are
// [h, w, c], global vectors are [1, 1, c]. The network input is RGB, sRGB-coded 0..1.
// Plain types only, importing nothing: ops, backends and the runtime build on them, and validation
// (src/model/graph.ts, which needs the op registry) sits above them all.

export interface Shape { h: number; w: number; c: number }

export interface GraphNode {
  /** Registered op name (PascalCase), see src/ops/registry.ts. */
  op: string;
  /** Input tensor names. */
  inputs: string[];
  /** Output tensor name (each tensor is written by exactly one node). */
  output: string;
  /** Op-specific attributes (JSON values). */
  attrs: Record<string, unknown>;
  /** Role → weight-table name, e.g. { kernel0: "L0.conv", bias: "L0.bias" }. */
  weights: Record<string, string>;
}

export interface Weight { shape: number[]; data: Float32Array }

export interface Graph {
  name: string;
  /** Output pixels per input pixel, per axis. */
  scale: number;
  input: string;
  /** Channels of the input and output image: 3 (RGB, the default) or 1 (a plane such as alpha). */
  channels?: number;
  output: string;
  nodes: GraphNode[];
  weights: Record<string, Weight>;
  /**
   * How the image is extended before the network sees it: `size` pixels per side, by `mode` ('edge'
   * repeats the border pixel, 'reflect' mirrors without repeating it, 'zero' is black). Unpadded networks
   * (waifu2x) shrink and need their border back this way; realesrgan-ncnn-vulkan reflect-pads 10 px.
   * The output is cropped back to scale × the image. Default: none.
   */
  inputPad?: InputPad;
  /** The extended input's sides must be multiples of this (U-Nets with stride-2 stages); default 1. */
  align?: number;
  /** Free-form provenance (training command, source file…), kept by the file format. */
  meta?: Record<string, unknown>;
}

export type PadMode = "zero" | "edge" | "reflect";
export interface InputPad { mode: PadMode; size: number }

export interface ValidatedGraph extends Graph {
  /** Input pixels of context each output pixel reads, per side (∞ when the graph has whole-image statistics). */
  receptiveRadius: number;
  /** Input pixels lost per side by unpadded ops: an n-pixel input gives scale·(n − 2·shrink) outputs. */
  shrink: number;
  /** True when some op reads whole-image statistics (tiles would change the result). */
  global: boolean;
  parameterCount: number;
}
