// SPDX-License-Identifier: MIT
// PReLU backward over NHWC tensors: the input gradient and the per-channel slope gradient, 4 channels
// per f32x4 with a masked tail. z is the pre-activation (the forward keeps it: src/train/program.ts
// runs Conv2D without its activation, then the Activation op), so the mask is exactly the forward's
// `z > 0` test of assembly/kernels/activation.ts.
//   dz = dy · (z > 0 ? 1 : slope)        dSlope[c] += Σ_p (z ≤ 0 ? dy · z : 0)
import { loadLanes, storeLanes } from "../../util/simd";
import { GRAD_ACCUMULATE } from "./conv2d_grad";

// slopePtr: slopes packed to ⌈c⌉₄ (as the forward's actParams). dSlopePtr: c floats, always added to
// (pixel by pixel in order, so the sum is the same on every thread). flags bit 0: add to dz.
// dz may alias dy.
export function prelu_grad_f32(
  dyPtr: usize, zPtr: usize, slopePtr: usize, dzPtr: usize, dSlopePtr: usize,
  pixels: i32, c: i32, flags: i32,
): i32 {
  const accumulate = (flags & GRAD_ACCUMULATE) != 0;
  const zero = f32x4.splat(0);
  const one = f32x4.splat(1);
  for (let p = 0; p < pixels; p++) {
    const off = <usize>p * <usize>c << 2;
    for (let ch = 0; ch < c; ch += 4) {
      const lanes = min(4, c - ch);
      const o = off + (<usize>ch << 2);
      const dy = loadLanes(dyPtr + o, lanes);
      const z = loadLanes(zPtr + o, lanes);
      const slope = v128.load(slopePtr + (<usize>ch << 2));
      const pos = f32x4.gt(z, zero);
      let dz = f32x4.mul(dy, v128.bitselect(one, slope, pos));
      if (accumulate) dz = f32x4.add(loadLanes(dzPtr + o, lanes), dz);
      storeLanes(dzPtr + o, dz, lanes);
      const sp = dSlopePtr + (<usize>ch << 2);
      const ds = v128.andnot(f32x4.mul(dy, z), pos); // dy·z where z ≤ 0, else +0
      storeLanes(sp, f32x4.add(loadLanes(sp, lanes), ds), lanes);
    }
  }
  return 0;
}
