// SPDX-License-Identifier: MIT
// The kernel module's export list is its ABI: pure functions over pointers into the one shared memory.
// No kernel allocates or keeps state, so every worker's instance can run any of them on any region.
export { conv2d_f32 } from "./kernels/conv2d";
export { winograd_f23_f32 } from "./kernels/winograd";
export { activation_f32 } from "./kernels/activation";
export { pixel_shuffle_f32 } from "./kernels/pixel_shuffle";
export { add_f32, add_scaled_f32, add_channel_f32 } from "./kernels/add";
export { mul_f32, mul_channel_f32 } from "./kernels/mul";
export { crop_f32, copy_channels_f32 } from "./kernels/copy";
export { channel_mean_f32, channel_sum_f32, dense_f32 } from "./kernels/reduce";
export { rgba8_to_f32, f32_to_rgba8 } from "./kernels/color";
export { resize_f32 } from "./kernels/resize";
export { u8_to_f32, f32_to_u8, srgb_to_linear_f32, linear_to_srgb_f32 } from "./kernels/srgb";

// Training (issue 5): backward passes, losses and the optimiser; see assembly/kernels/backward/.
export { conv2d_grad_weight_f32 } from "./kernels/backward/conv2d_grad";
export { winograd_grad_weight_f23_f32 } from "./kernels/backward/winograd_grad";
export { prelu_grad_f32 } from "./kernels/backward/activation_grad";
export { pixel_shuffle_grad_f32 } from "./kernels/backward/pixel_shuffle_grad";
export { l1_loss_f32, charbonnier_loss_f32, l2_loss_f32, l1_luma_loss_f32 } from "./kernels/backward/loss";
export { adam_f32 } from "./kernels/backward/adam";
export { matmul_f32 } from "./kernels/backward/matmul";

// Codes and flag bits the kernels take (exported so that the TypeScript side reads them from here).
export { ACT_NONE, ACT_RELU, ACT_LEAKY, ACT_PRELU, ACT_SPLINE, ACT_SIGMOID } from "./kernels/activation";
export { CONV_ACCUMULATE } from "./kernels/conv2d";
export { ORDER_TF, ORDER_TORCH } from "./kernels/pixel_shuffle";
export { RESIZE_NEAREST, RESIZE_BILINEAR, RESIZE_BICUBIC, RESIZE_BOX, RESIZE_CUBIC } from "./kernels/resize";
export { GRAD_ACCUMULATE } from "./kernels/backward/conv2d_grad";
// Constants that size kernels' scratch memory (the TypeScript side computes scratch bytes from them).
export { WINO_KL_PAD, WINO_TILES } from "./kernels/winograd";
export { WGRAD_TILES } from "./kernels/backward/winograd_grad";
export { MATMUL_ACCUMULATE } from "./kernels/backward/matmul";

// Bumped whenever an export's signature or meaning changes; checked by the loader.
export const ABI_VERSION: i32 = 7;
