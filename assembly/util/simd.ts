// SPDX-License-Identifier: MIT
// f32x4 helpers shared by the kernels. `madd` is the one place that picks fused (relaxed-SIMD build)
// or separate multiply + add (plain SIMD build); every kernel goes through it, so within one build the
// per-element operation order, and therefore the bits, never depend on tiling or banding.

// acc + a*b
@inline export function madd(a: v128, b: v128, acc: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, acc);
  return f32x4.add(acc, f32x4.mul(a, b));
}

// Stores the first `lanes` (1..4) lanes of v at ptr.
@inline export function storeLanes(ptr: usize, v: v128, lanes: i32): void {
  if (lanes >= 4) { v128.store(ptr, v); return; }
  store<f32>(ptr, f32x4.extract_lane(v, 0));
  if (lanes > 1) store<f32>(ptr, f32x4.extract_lane(v, 1), 4);
  if (lanes > 2) store<f32>(ptr, f32x4.extract_lane(v, 2), 8);
}

// Loads the first `lanes` lanes from ptr, zero in the rest (never reads past the last lane).
@inline export function loadLanes(ptr: usize, lanes: i32): v128 {
  if (lanes >= 4) return v128.load(ptr);
  let v = f32x4.splat(0);
  v = f32x4.replace_lane(v, 0, load<f32>(ptr));
  if (lanes > 1) v = f32x4.replace_lane(v, 1, load<f32>(ptr, 4));
  if (lanes > 2) v = f32x4.replace_lane(v, 2, load<f32>(ptr, 8));
  return v;
}
