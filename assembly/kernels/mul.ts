// SPDX-License-Identifier: MIT
// Elementwise products over NHWC tensors: same-shape, or a per-channel vector broadcast to every pixel
// (the channel gates of squeeze-excitation blocks). 4 channels per f32x4 with a masked tail.
import { loadLanes, storeLanes } from "../util/simd";

// out[i] = a[i] · b[i] for elements [i0, i1). out may alias a or b.
export function mul_f32(aPtr: usize, bPtr: usize, outPtr: usize, i0: i32, i1: i32): i32 {
  let i = i0;
  for (; i + 4 <= i1; i += 4) {
    const off = <usize>i << 2;
    v128.store(outPtr + off, f32x4.mul(v128.load(aPtr + off), v128.load(bPtr + off)));
  }
  for (; i < i1; i++) {
    const off = <usize>i << 2;
    store<f32>(outPtr + off, load<f32>(aPtr + off) * load<f32>(bPtr + off));
  }
  return 0;
}

// out[p, c] = in[p, c] · v[c] for pixels [p0, p1). out may alias in.
export function mul_channel_f32(inPtr: usize, vecPtr: usize, outPtr: usize, channels: i32, p0: i32, p1: i32): i32 {
  for (let p = p0; p < p1; p++) {
    const base = <usize>p * <usize>channels << 2;
    for (let c = 0; c < channels; c += 4) {
      const lanes = min(4, channels - c);
      const off = base + (<usize>c << 2);
      storeLanes(outPtr + off, f32x4.mul(loadLanes(inPtr + off, lanes), loadLanes(vecPtr + (<usize>c << 2), lanes)), lanes);
    }
  }
  return 0;
}
