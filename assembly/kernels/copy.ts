// SPDX-License-Identifier: MIT
// Data movement between NHWC tensors, with bulk memory copies: cropping a window out of a tensor, and
// placing one tensor's channels into a wider one (concatenation along channels).

// Output rows [y0, y1) of the window of `outW` pixels starting at (top, left) of an `inW`-wide tensor.
export function crop_f32(inPtr: usize, inW: i32, c: i32, outPtr: usize, outW: i32, top: i32, left: i32, y0: i32, y1: i32): i32 {
  const rowBytes = <usize>outW * <usize>c << 2;
  for (let y = y0; y < y1; y++) {
    memory.copy(outPtr + <usize>y * rowBytes, inPtr + ((<usize>(y + top) * <usize>inW + <usize>left) * <usize>c << 2), rowBytes);
  }
  return 0;
}

// dst[p, at + k] = src[p, k] for k < srcC, pixels [p0, p1); dst has dstC channels.
export function copy_channels_f32(srcPtr: usize, srcC: i32, dstPtr: usize, dstC: i32, at: i32, p0: i32, p1: i32): i32 {
  const n = <usize>srcC << 2;
  for (let p = p0; p < p1; p++) {
    memory.copy(dstPtr + ((<usize>p * <usize>dstC + <usize>at) << 2), srcPtr + <usize>p * n, n);
  }
  return 0;
}
