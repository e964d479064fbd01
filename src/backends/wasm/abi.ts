// SPDX-License-Identifier: MIT
// Names for the kernels' codes and flags. Every value and signature comes from abi.generated.ts, which
// scripts/gen-bindings.mjs writes from assembly/index.ts: nothing here mirrors the kernels by hand.
// Activation codes are named by the activation table, src/ops/activations.ts.
import { ORDER_TF, ORDER_TORCH, RESIZE_BICUBIC, RESIZE_BILINEAR, RESIZE_BOX, RESIZE_CUBIC, RESIZE_NEAREST } from "./abi.generated.js";

export {
  ABI_VERSION, ACT_LEAKY, ACT_NONE, ACT_PRELU, ACT_RELU, ACT_SIGMOID, ACT_SPLINE, CONV_ACCUMULATE, GRAD_ACCUMULATE, MATMUL_ACCUMULATE,
  WGRAD_TILES, WINO_KL_PAD, WINO_TILES, bindKernels, type Kernels,
} from "./abi.generated.js";
export const ShuffleOrder = { tf: ORDER_TF, torch: ORDER_TORCH } as const;
/** resize_f32 method codes (assembly/kernels/resize.ts). */
export const ResizeMethodCode = { nearest: RESIZE_NEAREST, bilinear: RESIZE_BILINEAR, bicubic: RESIZE_BICUBIC, box: RESIZE_BOX, cubic: RESIZE_CUBIC } as const;
