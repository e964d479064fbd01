// SPDX-License-Identifier: MIT
// out[i] = a[i] + b[i] for elements [i0, i1). out may alias a or b.
export function add_f32(aPtr: usize, bPtr: usize, outPtr: usize, i0: i32, i1: i32): i32 {
  let i = i0;
  for (; i + 4 <= i1; i += 4) {
    const off = <usize>i << 2;
    v128.store(outPtr + off, f32x4.add(v128.load(aPtr + off), v128.load(bPtr + off)));
  }
  for (; i < i1; i++) {
    const off = <usize>i << 2;
    store<f32>(outPtr + off, load<f32>(aPtr + off) + load<f32>(bPtr + off));
  }
  return 0;
}

// out[i] = alpha·a[i] + beta·b[i] for elements [i0, i1) (residual scaling, as RRDB's 0.2). out may alias a or b.
export function add_scaled_f32(aPtr: usize, bPtr: usize, outPtr: usize, alpha: f32, beta: f32, i0: i32, i1: i32): i32 {
  const av = f32x4.splat(alpha), bv = f32x4.splat(beta);
  let i = i0;
  for (; i + 4 <= i1; i += 4) {
    const off = <usize>i << 2;
    v128.store(outPtr + off, f32x4.add(f32x4.mul(v128.load(aPtr + off), av), f32x4.mul(v128.load(bPtr + off), bv)));
  }
  for (; i < i1; i++) {
    const off = <usize>i << 2;
    store<f32>(outPtr + off, load<f32>(aPtr + off) * alpha + load<f32>(bPtr + off) * beta);
  }
  return 0;
}

// Broadcast add of a per-channel vector: out[p, c] = in[p, c] + v[c], pixels [p0, p1). v is packed to cPad.
export function add_channel_f32(inPtr: usize, vecPtr: usize, outPtr: usize, channels: i32, p0: i32, p1: i32): i32 {
  for (let p = p0; p < p1; p++) {
    const base = <usize>p * <usize>channels << 2;
    for (let c = 0; c < channels; c++) {
      const off = base + (<usize>c << 2);
      store<f32>(outPtr + off, load<f32>(inPtr + off) + load<f32>(vecPtr + (<usize>c << 2)));
    }
  }
  return 0;
}
