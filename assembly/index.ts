// SPDX-License-Identifier: MIT
// The kernel module's export list is its ABI: pure functions over pointers into the one shared memory.
// No kernel allocates or keeps state, so every worker's instance can run any of them on any region.
export { conv2d_f32 } from "./kernels/conv2d";
export { activation_f32 } from "./kernels/activation";
export { pixel_shuffle_f32 } from "./kernels/pixel_shuffle";
export { add_f32, add_channel_f32 } from "./kernels/add";
export { channel_mean_f32, dense_f32 } from "./kernels/reduce";
export { rgba8_to_f32, f32_to_rgba8 } from "./kernels/color";

// Bumped whenever an export's signature or meaning changes; checked by the loader.
export const ABI_VERSION: i32 = 1;
