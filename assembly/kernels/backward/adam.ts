// SPDX-License-Identifier: MIT
// Adam (Kingma & Ba) with bias correction and optional decoupled weight decay (AdamW), over flat f32
// parameter / gradient / moment vectors, 4 per f32x4 with a scalar tail. Separate multiply and add
// (never madd) so both kernel builds and the TypeScript reference (src/train/optim.ts, each step
// rounded to f32) agree to the bit.
//   m = β1·m + (1 − β1)·g      v = β2·v + (1 − β2)·g²
//   p = p − lr·wd·p − lr·(m / bc1) / (√(v / bc2) + ε)      bc1 = 1 − β1ᵗ, bc2 = 1 − β2ᵗ

export function adam_f32(
  pPtr: usize, gPtr: usize, mPtr: usize, vPtr: usize, n: i32,
  lr: f32, beta1: f32, beta2: f32, eps: f32, bc1: f32, bc2: f32, weightDecay: f32,
): i32 {
  const b1 = f32x4.splat(beta1), b2 = f32x4.splat(beta2);
  const c1 = f32x4.splat(1 - beta1), c2 = f32x4.splat(1 - beta2);
  const lrv = f32x4.splat(lr), ev = f32x4.splat(eps), bc1v = f32x4.splat(bc1), bc2v = f32x4.splat(bc2);
  const decay = f32x4.splat(lr * weightDecay);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const g = v128.load(gPtr + o);
    const m = f32x4.add(f32x4.mul(b1, v128.load(mPtr + o)), f32x4.mul(c1, g));
    const v = f32x4.add(f32x4.mul(b2, v128.load(vPtr + o)), f32x4.mul(c2, f32x4.mul(g, g)));
    v128.store(mPtr + o, m);
    v128.store(vPtr + o, v);
    let p = v128.load(pPtr + o);
    if (weightDecay != 0) p = f32x4.sub(p, f32x4.mul(decay, p));
    const stepv = f32x4.div(f32x4.mul(lrv, f32x4.div(m, bc1v)), f32x4.add(f32x4.sqrt(f32x4.div(v, bc2v)), ev));
    v128.store(pPtr + o, f32x4.sub(p, stepv));
  }
  const c1s: f32 = 1 - beta1, c2s: f32 = 1 - beta2, ds: f32 = lr * weightDecay;
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const g = load<f32>(gPtr + o);
    const m = beta1 * load<f32>(mPtr + o) + c1s * g;
    const v = beta2 * load<f32>(vPtr + o) + c2s * (g * g);
    store<f32>(mPtr + o, m);
    store<f32>(vPtr + o, v);
    let p = load<f32>(pPtr + o);
    if (weightDecay != 0) p = p - ds * p;
    store<f32>(pPtr + o, p - (lr * (m / bc1)) / (Mathf.sqrt(v / bc2) + eps));
  }
  return 0;
}
