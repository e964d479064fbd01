// SPDX-License-Identifier: MIT
// Pixel losses for training: the summed loss (returned, accumulated in f64 so a batch's total does not
// depend on how many elements it has) and the gradient scale·∂ℓ/∂y written to grad (scale = 1/N for a
// mean over the batch's N elements). Four elements per f32x4, scalar tail; elements in order.
//   L1:          ℓ = |y − t|                      ∂ℓ/∂y = sign(y − t)  (0 where y = t)
//   Charbonnier: ℓ = √((y − t)² + ε²)             ∂ℓ/∂y = (y − t) / ℓ
//   L2:          ℓ = (y − t)²                     ∂ℓ/∂y = 2(y − t)   (what PSNR measures)
//   L1 on luma:  per RGB pixel, ℓ = |ΔY| + (w/3)·(|ΔR| + |ΔG| + |ΔB|), ΔY = 0.299ΔR + 0.587ΔG + 0.114ΔB
//                (BT.601, the Y that PSNR-Y measures, up to its scale); ∂ℓ/∂y_c = sign(ΔY)·a_c + (w/3)·sign(Δc)

// Lanes 0,1 and 2,3 of v as f64, added to acc.
@inline function addF64(acc: v128, v: v128): v128 {
  const hi = i8x16.shuffle(v, v, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7);
  return f64x2.add(f64x2.add(acc, f64x2.promote_low_f32x4(v)), f64x2.promote_low_f32x4(hi));
}

@inline function total(acc: v128, tail: f64): f64 {
  return f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1) + tail;
}

export function l1_loss_f32(yPtr: usize, tPtr: usize, gradPtr: usize, n: i32, scale: f32): f64 {
  const zero = f32x4.splat(0);
  const pos = f32x4.splat(scale), neg = f32x4.splat(-scale);
  let acc = f64x2.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const d = f32x4.sub(v128.load(yPtr + o), v128.load(tPtr + o));
    acc = addF64(acc, f32x4.abs(d));
    v128.store(gradPtr + o, v128.or(v128.and(f32x4.gt(d, zero), pos), v128.and(f32x4.lt(d, zero), neg)));
  }
  let tail: f64 = 0;
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const d = load<f32>(yPtr + o) - load<f32>(tPtr + o);
    tail += <f64>Mathf.abs(d);
    store<f32>(gradPtr + o, d > 0 ? scale : d < 0 ? -scale : 0);
  }
  return total(acc, tail);
}

export function charbonnier_loss_f32(yPtr: usize, tPtr: usize, gradPtr: usize, n: i32, scale: f32, eps: f32): f64 {
  const e2 = f32x4.splat(eps * eps), s = f32x4.splat(scale);
  let acc = f64x2.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const d = f32x4.sub(v128.load(yPtr + o), v128.load(tPtr + o));
    const l = f32x4.sqrt(f32x4.add(f32x4.mul(d, d), e2));
    acc = addF64(acc, l);
    v128.store(gradPtr + o, f32x4.mul(s, f32x4.div(d, l)));
  }
  let tail: f64 = 0;
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const d = load<f32>(yPtr + o) - load<f32>(tPtr + o);
    const l = Mathf.sqrt(d * d + eps * eps);
    tail += <f64>l;
    store<f32>(gradPtr + o, scale * (d / l));
  }
  return total(acc, tail);
}

export function l2_loss_f32(yPtr: usize, tPtr: usize, gradPtr: usize, n: i32, scale: f32): f64 {
  const s2 = f32x4.splat(2 * scale);
  let acc = f64x2.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const d = f32x4.sub(v128.load(yPtr + o), v128.load(tPtr + o));
    acc = addF64(acc, f32x4.mul(d, d));
    v128.store(gradPtr + o, f32x4.mul(s2, d));
  }
  let tail: f64 = 0;
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const d = load<f32>(yPtr + o) - load<f32>(tPtr + o);
    tail += <f64>(d * d);
    store<f32>(gradPtr + o, 2 * scale * d);
  }
  return total(acc, tail);
}

@inline function sign(d: f32): f32 {
  return d > 0 ? 1 : d < 0 ? -1 : 0;
}

/** L1 on BT.601 luma plus w × L1 on RGB; y and t are interleaved RGB, n a multiple of 3. Scalar: the loss is a sliver of a step. */
export function l1_luma_loss_f32(yPtr: usize, tPtr: usize, gradPtr: usize, n: i32, scale: f32, rgbWeight: f32): f64 {
  const kr: f32 = 0.299, kg: f32 = 0.587, kb: f32 = 0.114, w3: f32 = rgbWeight / 3;
  let sum: f64 = 0;
  for (let i = 0; i + 3 <= n; i += 3) {
    const o = <usize>i << 2;
    const dr = load<f32>(yPtr + o) - load<f32>(tPtr + o);
    const dg = load<f32>(yPtr + o, 4) - load<f32>(tPtr + o, 4);
    const db = load<f32>(yPtr + o, 8) - load<f32>(tPtr + o, 8);
    const dy = kr * dr + kg * dg + kb * db;
    sum += <f64>(Mathf.abs(dy) + w3 * (Mathf.abs(dr) + Mathf.abs(dg) + Mathf.abs(db)));
    const sy = sign(dy);
    store<f32>(gradPtr + o, scale * (sy * kr + w3 * sign(dr)));
    store<f32>(gradPtr + o, scale * (sy * kg + w3 * sign(dg)), 4);
    store<f32>(gradPtr + o, scale * (sy * kb + w3 * sign(db)), 8);
  }
  return sum;
}
