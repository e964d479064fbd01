// SPDX-License-Identifier: MIT
// The TypeScript view of assembly/index.ts's exports. Keep in step with the kernels; ABI_VERSION guards it.
export const ABI_VERSION = 2;

export const Act = { none: 0, relu: 1, leaky: 2, prelu: 3, spline: 4 } as const;
export type ActName = keyof typeof Act;
export const CONV_ACCUMULATE = 1;
/** Backward kernels' flags bit 0: add into the gradient outputs instead of overwriting them. */
export const GRAD_ACCUMULATE = 1;
export const ShuffleOrder = { tf: 0, torch: 1 } as const;
/** resize_f32 method codes (assembly/kernels/resize.ts). */
export const ResizeMethodCode = { nearest: 0, bilinear: 1, bicubic: 2, box: 3 } as const;

type P = number; // byte offset into the shared memory
export interface Kernels {
  conv2d_f32(inPtr: P, h: number, w: number, cin: number, weightPtr: P, biasPtr: P, k: number, cout: number,
    outPtr: P, y0: number, y1: number, flags: number, act: number, actParamPtr: P): number;
  /** Winograd F(2×2,3×3), 'same', one input; weights from packWinograd; scratch per Conv2D.scratchBytes. */
  winograd_f23_f32(inPtr: P, h: number, w: number, cin: number, uPtr: P, biasPtr: P, cout: number,
    outPtr: P, y0: number, y1: number, act: number, actParamPtr: P, scratchPtr: P): number;
  activation_f32(inPtr: P, outPtr: P, p0: number, p1: number, channels: number, act: number, paramPtr: P): number;
  pixel_shuffle_f32(inPtr: P, h: number, w: number, c: number, r: number, order: number, outPtr: P, y0: number, y1: number): number;
  add_f32(aPtr: P, bPtr: P, outPtr: P, i0: number, i1: number): number;
  add_channel_f32(inPtr: P, vecPtr: P, outPtr: P, channels: number, p0: number, p1: number): number;
  channel_mean_f32(inPtr: P, h: number, w: number, c: number, accPtr: P, outPtr: P): number;
  dense_f32(inPtr: P, kLen: number, weightPtr: P, nLen: number, outPtr: P, mode: number, biasPtr: P): number;
  rgba8_to_f32(rgbaPtr: P, rgbPtr: P, alphaPtr: P, p0: number, p1: number): number;
  f32_to_rgba8(rgbPtr: P, alphaPtr: P, rgbaPtr: P, p0: number, p1: number): number;
  /** MATLAB-imresize resampling by up/down, output rows [y0, y1); see assembly/kernels/resize.ts. */
  resize_f32(inPtr: P, inH: number, inW: number, c: number, outPtr: P, outH: number, outW: number,
    method: number, up: number, down: number, scratchPtr: P, y0: number, y1: number): number;
  u8_to_f32(inPtr: P, outPtr: P, i0: number, i1: number, scale: number): number;
  /** Rounds in·scale to bytes, saturating: ties up, or to even when tiesEven is 1. */
  f32_to_u8(inPtr: P, outPtr: P, i0: number, i1: number, scale: number, tiesEven: number): number;
  /** sRGB curve on channels [0, colour) of pixels [p0, p1); the other channels are copied. */
  srgb_to_linear_f32(inPtr: P, outPtr: P, p0: number, p1: number, channels: number, colour: number): number;
  linear_to_srgb_f32(inPtr: P, outPtr: P, p0: number, p1: number, channels: number, colour: number): number;
  // Training (assembly/kernels/backward/, issue 5). flags bit 0 = GRAD_ACCUMULATE (add into the outputs).
  /** dW [cout, k, k, cin] and db [cout] of a stride-1 same-padded conv from its input X and output gradient dZ. */
  conv2d_grad_weight_f32(xPtr: P, h: number, w: number, cin: number, dzPtr: P, cout: number, k: number,
    dwPtr: P, dbPtr: P, flags: number): number;
  /** PReLU backward from the pre-activation z: dz (overwritten or added), dSlope (always added). */
  prelu_grad_f32(dyPtr: P, zPtr: P, slopePtr: P, dzPtr: P, dSlopePtr: P, pixels: number, c: number, flags: number): number;
  /** Space-to-depth: dOut [h·r, w·r, c] → dIn [h, w, c·r²] rows [y0, y1). */
  pixel_shuffle_grad_f32(dOutPtr: P, h: number, w: number, c: number, r: number, order: number, dInPtr: P, y0: number, y1: number, flags: number): number;
  /** Σ|y − t| (f64), grad = scale·sign(y − t). */
  l1_loss_f32(yPtr: P, tPtr: P, gradPtr: P, n: number, scale: number): number;
  /** Σ√((y − t)² + ε²) (f64), grad = scale·(y − t)/√(…). */
  charbonnier_loss_f32(yPtr: P, tPtr: P, gradPtr: P, n: number, scale: number, eps: number): number;
  /** One Adam(W) step over n parameters; bc1 = 1 − β1ᵗ, bc2 = 1 − β2ᵗ. */
  adam_f32(pPtr: P, gPtr: P, mPtr: P, vPtr: P, n: number, lr: number, beta1: number, beta2: number, eps: number,
    bc1: number, bc2: number, weightDecay: number): number;
}
