// SPDX-License-Identifier: MIT
// Elementwise activations over NHWC tensors, 4 channels per f32x4 with a masked tail.
// Parameters (PReLU slopes, Spline L/Ce/R rows) are packed per channel and zero padded to a multiple
// of 4 at load time, so vector loads of them never read past their region.
// Act codes are part of the ABI: src/ops/activations.ts reads them from the generated bindings.
import { loadLanes, storeLanes } from "../util/simd";

export const ACT_NONE: i32 = 0;
export const ACT_RELU: i32 = 1;
export const ACT_LEAKY: i32 = 2;   // params: [slope] (one f32)
export const ACT_PRELU: i32 = 3;   // params: [cPad] slopes
export const ACT_SPLINE: i32 = 4;  // params: [3][cPad] rows L, Ce, R (srgan-rust / alumina Spline)
export const ACT_SIGMOID: i32 = 5; // 1 / (1 + e^−x): squeeze-excitation gates

// Applies activation `act` to the 4 channels starting at channel c.
@inline export function activate(v: v128, act: i32, paramPtr: usize, c: i32, cPad: i32): v128 {
  if (act == ACT_NONE) return v;
  const zero = f32x4.splat(0);
  if (act == ACT_RELU) return f32x4.max(v, zero);
  if (act == ACT_LEAKY) {
    const neg = f32x4.mul(v, v128.load32_splat(paramPtr));
    return v128.bitselect(v, neg, f32x4.gt(v, zero));
  }
  if (act == ACT_PRELU) {
    const neg = f32x4.mul(v, v128.load(paramPtr + (<usize>c << 2)));
    return v128.bitselect(v, neg, f32x4.gt(v, zero));
  }
  if (act == ACT_SIGMOID) return sigmoid(v);
  // Spline: alumina's factored form, evaluated exactly as specified in ../shared/docs/srgan-rust-rsr.md (the formulas are src/ops/activations.ts).
  const L = v128.load(paramPtr + (<usize>c << 2));
  const C = v128.load(paramPtr + (<usize>(c + cPad) << 2));
  const R = v128.load(paramPtr + (<usize>(c + 2 * cPad) << 2));
  const x = v;
  const x2 = f32x4.mul(x, x);
  const x3 = f32x4.mul(x2, x);
  // left  = -(2/3)·(Ce − 1.5·L·x − 0.875·L − 0.125·R)
  let left = f32x4.sub(C, f32x4.mul(f32x4.mul(f32x4.splat(1.5), L), x));
  left = f32x4.sub(left, f32x4.mul(f32x4.splat(0.875), L));
  left = f32x4.sub(left, f32x4.mul(f32x4.splat(0.125), R));
  left = f32x4.mul(f32x4.splat(-2.0 / 3.0), left);
  // right = (2/3)·(Ce + 1.5·R·x − 0.125·L − 0.875·R)
  let right = f32x4.add(C, f32x4.mul(f32x4.mul(f32x4.splat(1.5), R), x));
  right = f32x4.sub(right, f32x4.mul(f32x4.splat(0.125), L));
  right = f32x4.sub(right, f32x4.mul(f32x4.splat(0.875), R));
  right = f32x4.mul(f32x4.splat(2.0 / 3.0), right);
  // mid   = −(1/3)·(Ce·x³ − 3·Ce·x − 0.5·(L+R)·x³ + 0.75·(L−R)·x²)
  let mid = f32x4.sub(f32x4.mul(C, x3), f32x4.mul(f32x4.mul(f32x4.splat(3), C), x));
  mid = f32x4.sub(mid, f32x4.mul(f32x4.mul(f32x4.splat(0.5), f32x4.add(L, R)), x3));
  mid = f32x4.add(mid, f32x4.mul(f32x4.mul(f32x4.splat(0.75), f32x4.sub(L, R)), x2));
  mid = f32x4.mul(f32x4.splat(-1.0 / 3.0), mid);
  const isLeft = f32x4.le(x, f32x4.splat(-1));
  const isRight = f32x4.ge(x, f32x4.splat(1));
  return v128.bitselect(left, v128.bitselect(right, mid, isRight), isLeft);
}

// 1 / (1 + e^−x), all in f32x4 (no scalar code in the loops that inline `activate`).
@inline function sigmoid(v: v128): v128 {
  return f32x4.div(f32x4.splat(1), f32x4.add(f32x4.splat(1), exp4(f32x4.neg(v))));
}

// e^x per lane, Cephes' expf: x = n·ln2 + r (ln2 split in two for an exact product), e^r by a degree-6
// polynomial, 2^n added to the exponent bits. x is clamped so that n stays in [−126, 127]: the result
// saturates to ~1e−38 and ~1.7e38 instead of going subnormal or infinite. Within 2 ulp of exp().
@inline function exp4(v: v128): v128 {
  const x = f32x4.min(f32x4.max(v, f32x4.splat(-87.3)), f32x4.splat(88.3));
  const n = f32x4.nearest(f32x4.mul(x, f32x4.splat(1.44269504089)));
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(-2.12194440e-4)));
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  const y = f32x4.add(f32x4.add(f32x4.mul(f32x4.mul(p, r), r), r), f32x4.splat(1));
  return i32x4.add(y, i32x4.shl(i32x4.trunc_sat_f32x4_s(n), 23));
}

// out[p, c] = act(in[p, c]) for pixels [p0, p1) of a tensor with `channels` channels. in may equal out.
export function activation_f32(inPtr: usize, outPtr: usize, p0: i32, p1: i32, channels: i32, act: i32, paramPtr: usize): i32 {
  const cPad = (channels + 3) & ~3;
  for (let p = p0; p < p1; p++) {
    const rowIn = inPtr + (<usize>p * <usize>channels << 2);
    const rowOut = outPtr + (<usize>p * <usize>channels << 2);
    for (let c = 0; c < channels; c += 4) {
      const lanes = min(4, channels - c);
      const v = activate(loadLanes(rowIn + (<usize>c << 2), lanes), act, paramPtr, c, cPad);
      storeLanes(rowOut + (<usize>c << 2), v, lanes);
    }
  }
  return 0;
}
