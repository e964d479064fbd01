// SPDX-License-Identifier: MIT
// Backward rules of the ops a trainable graph may use, one object per op as src/ops/ holds forward
// ones: what is supported, the wasm implementation (kernels on the shared memory) and the plain
// TypeScript reference (float64, the oracle of test/unit/grad.test.ts), side by side. Every rule adds
// into parameter gradients (zeroed once per image by the caller) and writes or adds into input
// gradients as the caller says (a tensor read by several nodes sums their contributions).
import { ModelFormatError, UnsupportedError } from "../errors.js";
import { GRAD_ACCUMULATE, ShuffleOrder, type Kernels } from "../backends/wasm/abi.js";
import type { GraphNode, Shape } from "../model/graph.js";
import { Conv2D } from "../ops/conv2d.js";
import type { ConvAlgorithm } from "../ops/op.js";

/** Where an input's gradient goes: `accumulate` false overwrites (first writer), true adds. */
export interface GradTarget { ptr: number; accumulate: boolean }

export interface BackwardCall {
  k: Kernels;
  /** Float32Array view of the shared memory. */
  f32(ptr: number, length: number): Float32Array;
  node: GraphNode;
  /** Forward inputs and output as they were computed (activations kept for this pass). */
  inputs: { ptr: number; shape: Shape }[];
  output: { ptr: number; shape: Shape };
  /** Gradient of the loss w.r.t. the output. */
  dOutPtr: number;
  /** Per input: where its gradient goes, or null when none is needed (e.g. the network input). */
  dInputs: (GradTarget | null)[];
  /** Role → packed weights of the forward (plus kernel0T, winograd0T: the input-gradient kernels, see Conv2DGrad). */
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

export interface BackwardDef {
  readonly name: string;
  /** Throws (naming what is unsupported) unless this node can be trained; needsGrad[i]: input i wants a gradient. */
  check(node: GraphNode, needsGrad: boolean[]): void;
  /** Scratch the backward needs at scratchPtr, if more than the forward op's. */
  scratchBytes?(node: GraphNode, inputs: Shape[], output: Shape): number;
  wasm(call: BackwardCall): void;
  reference(call: RefBackwardCall): void;
}

const unsupported = (node: GraphNode, why: string) => new UnsupportedError(`training: ${node.op} node '${node.output}' ${why}`);

/** Copies or adds n floats from src into a gradient target. */
function writeGrad(call: BackwardCall, t: GradTarget, srcPtr: number, n: number): void {
  if (t.accumulate) call.k.add_f32(t.ptr, srcPtr, t.ptr, 0, n);
  else call.f32(t.ptr, n).set(call.f32(srcPtr, n));
}

// ---- Conv2D (act none; the trainer splits a fused activation into its own Activation node) ----

/**
 * The input-gradient kernel of a [cout, k, k, cin] kernel W: T[ci][ky][kx][co] = W[co][k−1−ky][k−1−kx][ci].
 * With stride 1 and "same" zero padding, dX = conv(dZ, T): the forward kernel, packed by Conv2D.pack,
 * computes it, so the input gradient runs as fast as the forward and follows its packing.
 */
export function transposeKernel(w: Float32Array, cout: number, k: number, cin: number): Float32Array {
  const t = new Float32Array(w.length);
  for (let co = 0; co < cout; co++)
    for (let ky = 0; ky < k; ky++)
      for (let kx = 0; kx < k; kx++) {
        const src = ((co * k + ky) * k + kx) * cin;
        const fy = k - 1 - ky, fx = k - 1 - kx;
        for (let ci = 0; ci < cin; ci++) t[((ci * k + fy) * k + fx) * cout + co] = w[src + ci];
      }
  return t;
}

/** The Conv2D node that runs the input gradient of `node` (cin and cout swapped, no bias or activation). */
export function transposedNode(node: GraphNode, cin: number): GraphNode {
  return { op: "Conv2D", inputs: ["dz"], output: "dx", attrs: { k: node.attrs.k, cout: cin }, weights: { kernel0: "t" } };
}

/** Packs the input-gradient kernels exactly as the forward packs kernels (so a change of packing follows). */
export function packTransposed(node: GraphNode, w: Float32Array, cin: number, conv: ConvAlgorithm = "direct"): Record<string, Float32Array> {
  const k = node.attrs.k as number, cout = node.attrs.cout as number;
  const t = transposeKernel(w, cout, k, cin);
  return Conv2D.pack!(transposedNode(node, cin), { t: { shape: [cin, k, k, cout], data: t } }, { conv });
}

/** Blocks per chunk of winograd_grad_weight_f23_f32 (WGRAD_TILES in assembly/kernels/backward/winograd_grad.ts). */
const WGRAD_TILES = 32;

/** That kernel's scratch: V [16][WGRAD_TILES][cin padded to 8], A dY Aᵀ [16][WGRAD_TILES][cout padded to 4], dU [16][cout4][cin8]. */
export function winogradGradScratchBytes(cin: number, cout: number): number {
  const cin8 = (cin + 7) & ~7, co4 = (cout + 3) & ~3;
  return 16 * (WGRAD_TILES * (cin8 + co4) + co4 * cin8) * 4;
}

export const Conv2DGrad: BackwardDef = {
  name: "Conv2D",
  check(node) {
    if (node.inputs.length !== 1 || node.attrs.dynamicBias) throw unsupported(node, "has several inputs or a dynamic bias; only single-input convs with a static bias train");
    if ((node.attrs.act ?? "none") !== "none") throw new ModelFormatError(`training: Conv2D '${node.output}' still has a fused activation (the program splits them)`);
  },
  scratchBytes: (node, [x], out) => (node.attrs.k === 3 ? winogradGradScratchBytes(x.c, out.c) : 0),
  wasm(call) {
    const { k, node, inputs: [x], dOutPtr, dInputs: [dx], packed, paramGrads } = call;
    const { h, w, c: cin } = x.shape;
    const kk = node.attrs.k as number, cout = node.attrs.cout as number;
    // The weight gradient follows the forward's 3×3 algorithm (Winograd weights packed: Winograd).
    if (packed.winograd0 !== undefined) {
      k.winograd_grad_weight_f23_f32(x.ptr, h, w, cin, dOutPtr, cout, paramGrads.kernel0, paramGrads.bias ?? 0, GRAD_ACCUMULATE, call.scratchPtr);
    } else {
      k.conv2d_grad_weight_f32(x.ptr, h, w, cin, dOutPtr, cout, kk, paramGrads.kernel0, paramGrads.bias ?? 0, GRAD_ACCUMULATE);
    }
    if (!dx) return;
    const target = dx.accumulate ? call.tmpPtr : dx.ptr;
    Conv2D.wasm(k, {
      node: transposedNode(node, cin),
      inputs: [{ ptr: dOutPtr, shape: { h, w, c: cout } }],
      output: { ptr: target, shape: { h, w, c: cin } },
      packed: packed.winograd0T === undefined ? { kernel0: packed.kernel0T } : { kernel0: packed.kernel0T, winograd0: packed.winograd0T },
      scratchPtr: call.scratchPtr, y0: 0, y1: h,
    });
    if (dx.accumulate) k.add_f32(dx.ptr, target, dx.ptr, 0, h * w * cin);
  },
  reference({ node, inputs: [x], dOut, dInputs: [dx], weights, dWeights }) {
    const { h, w, c: cin } = x.shape;
    const k = node.attrs.k as number, cout = node.attrs.cout as number;
    const pad = k >> 1;
    const W = weights.kernel0, dW = dWeights.kernel0, db = dWeights.bias;
    for (let y = 0; y < h; y++)
      for (let xx = 0; xx < w; xx++) {
        const o = (y * w + xx) * cout;
        if (db) for (let co = 0; co < cout; co++) db[co] += dOut[o + co];
        for (let ky = 0; ky < k; ky++) {
          const iy = y + ky - pad;
          if (iy < 0 || iy >= h) continue;
          for (let kx = 0; kx < k; kx++) {
            const ix = xx + kx - pad;
            if (ix < 0 || ix >= w) continue;
            const xi = (iy * w + ix) * cin;
            for (let co = 0; co < cout; co++) {
              const g = dOut[o + co];
              const wi = ((co * k + ky) * k + kx) * cin;
              for (let ci = 0; ci < cin; ci++) {
                dW[wi + ci] += g * x.data[xi + ci];
                if (dx) dx[xi + ci] += g * W[wi + ci];
              }
            }
          }
        }
      }
  },
};

// ---- Activation (PReLU) ----

export const ActivationGrad: BackwardDef = {
  name: "Activation",
  check(node) {
    if (node.attrs.act !== "prelu") throw unsupported(node, `has activation '${String(node.attrs.act)}'; training supports prelu (and none)`);
  },
  wasm({ k, node, inputs: [z], dOutPtr, dInputs: [dz], packed, paramGrads, tmpPtr }) {
    const { h, w, c } = z.shape;
    void node;
    k.prelu_grad_f32(dOutPtr, z.ptr, packed.actParams, dz ? dz.ptr : tmpPtr, paramGrads.slope, h * w, c, dz?.accumulate ? GRAD_ACCUMULATE : 0);
  },
  reference({ inputs: [z], dOut, dInputs: [dz], weights, dWeights }) {
    const c = z.shape.c;
    const s = weights.slope, ds = dWeights.slope;
    for (let i = 0; i < z.data.length; i++) {
      const ch = i % c, v = z.data[i];
      if (dz) dz[i] += v > 0 ? dOut[i] : dOut[i] * s[ch];
      if (!(v > 0)) ds[ch] += dOut[i] * v;
    }
  },
};

// ---- PixelShuffle ----

const shuffleOrder = (node: GraphNode) => (node.attrs.order ?? "tf") as keyof typeof ShuffleOrder;

export const PixelShuffleGrad: BackwardDef = {
  name: "PixelShuffle",
  check() {},
  wasm({ k, node, inputs: [x], output, dOutPtr, dInputs: [dx] }) {
    if (!dx) return;
    const r = node.attrs.r as number;
    k.pixel_shuffle_grad_f32(dOutPtr, x.shape.h, x.shape.w, output.shape.c, r, ShuffleOrder[shuffleOrder(node)], dx.ptr, 0, x.shape.h, dx.accumulate ? GRAD_ACCUMULATE : 0);
  },
  reference({ node, inputs: [x], output, dOut, dInputs: [dx] }) {
    if (!dx) return;
    const r = node.attrs.r as number, tf = shuffleOrder(node) === "tf";
    const { w: ow, c } = output.shape, cin = x.shape.c;
    for (let oy = 0; oy < output.shape.h; oy++)
      for (let ox = 0; ox < ow; ox++)
        for (let k = 0; k < c; k++) {
          const dy = oy % r, dxx = ox % r;
          const ch = tf ? (dy * r + dxx) * c + k : k * r * r + dy * r + dxx;
          dx[(Math.floor(oy / r) * x.shape.w + Math.floor(ox / r)) * cin + ch] += dOut[(oy * ow + ox) * c + k];
        }
  },
};

// ---- Add ----

export const AddGrad: BackwardDef = {
  name: "Add",
  check(node) {
    if (node.inputs.length !== 2) throw unsupported(node, "does not have 2 inputs");
  },
  wasm(call) {
    const n = call.output.shape.h * call.output.shape.w * call.output.shape.c;
    call.inputs.forEach((t, i) => {
      const d = call.dInputs[i];
      if (!d) return;
      if (t.shape.h * t.shape.w * t.shape.c !== n) throw unsupported(call.node, "broadcasts a [1, 1, c] vector; training supports same-shape Add only");
      writeGrad(call, d, call.dOutPtr, n);
    });
  },
  reference({ dOut, dInputs }) {
    for (const d of dInputs) if (d) for (let i = 0; i < d.length; i++) d[i] += dOut[i];
  },
};

// ---- Resize (only where no gradient flows through it: the residual of the network input) ----

export const ResizeGrad: BackwardDef = {
  name: "Resize",
  check(node, needsGrad) {
    if (needsGrad.some(Boolean)) throw unsupported(node, "would need a gradient through Resize; training supports Resize only on tensors without trainable weights upstream (the input residual)");
  },
  wasm() {},
  reference() {},
};

const RULES: readonly BackwardDef[] = [Conv2DGrad, ActivationGrad, PixelShuffleGrad, AddGrad, ResizeGrad];
const byName = new Map(RULES.map((r) => [r.name, r]));

export function getBackward(op: string): BackwardDef | undefined {
  return byName.get(op);
}

export const trainableOps = (): string[] => [...byName.keys()];
