// SPDX-License-Identifier: MIT
// AssemblyScript source of the SIMD peak micro-benchmark (compiled by bench/kernels.bench.ts into a
// temp folder, once plain SIMD and once relaxed SIMD; not part of the kernel module). It measures
// how many f32x4 multiply-adds per second this machine sustains: from registers alone, and in the
// conv kernel's loop shape with operands in L1.

// acc ← acc·m + c on `ACC` independent chains. The update depends on the accumulator itself, so no
// compiler can hoist or common it, and with m = 0.5 the values converge to 2c (never denormal or
// infinite). Enough chains hide the mul→add (or fma) latency; the mul can be done in place, so
// chains + m + c fit x64's 16 xmm registers without spills.
@inline function step(acc: v128, m: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(acc, m, c);
  return f32x4.add(f32x4.mul(acc, m), c);
}

// Runs `iters` iterations of 12 chains (12 multiply-adds of 4 lanes each per iteration).
export function peak12(iters: i32, mv: f32, cv: f32): f32 {
  const m = f32x4.splat(mv);
  const c = f32x4.splat(cv);
  let a0 = f32x4.splat(0.1), a1 = f32x4.splat(0.2), a2 = f32x4.splat(0.3), a3 = f32x4.splat(0.4);
  let a4 = f32x4.splat(0.5), a5 = f32x4.splat(0.6), a6 = f32x4.splat(0.7), a7 = f32x4.splat(0.8);
  let a8 = f32x4.splat(0.9), a9 = f32x4.splat(1.0), a10 = f32x4.splat(1.1), a11 = f32x4.splat(1.2);
  for (let i = 0; i < iters; i++) {
    a0 = step(a0, m, c); a1 = step(a1, m, c); a2 = step(a2, m, c); a3 = step(a3, m, c);
    a4 = step(a4, m, c); a5 = step(a5, m, c); a6 = step(a6, m, c); a7 = step(a7, m, c);
    a8 = step(a8, m, c); a9 = step(a9, m, c); a10 = step(a10, m, c); a11 = step(a11, m, c);
  }
  // Folding every chain into the result keeps all of them live.
  let s = f32x4.add(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)), f32x4.add(f32x4.add(a4, a5), f32x4.add(a6, a7)));
  s = f32x4.add(s, f32x4.add(f32x4.add(a8, a9), f32x4.add(a10, a11)));
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1) + f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3);
}

// Same with 8 chains: enough for the fma latency on most cores; a cross-check of the 12-chain loop.
export function peak8(iters: i32, mv: f32, cv: f32): f32 {
  const m = f32x4.splat(mv);
  const c = f32x4.splat(cv);
  let a0 = f32x4.splat(0.1), a1 = f32x4.splat(0.2), a2 = f32x4.splat(0.3), a3 = f32x4.splat(0.4);
  let a4 = f32x4.splat(0.5), a5 = f32x4.splat(0.6), a6 = f32x4.splat(0.7), a7 = f32x4.splat(0.8);
  for (let i = 0; i < iters; i++) {
    a0 = step(a0, m, c); a1 = step(a1, m, c); a2 = step(a2, m, c); a3 = step(a3, m, c);
    a4 = step(a4, m, c); a5 = step(a5, m, c); a6 = step(a6, m, c); a7 = step(a7, m, c);
  }
  const s = f32x4.add(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)), f32x4.add(f32x4.add(a4, a5), f32x4.add(a6, a7)));
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1) + f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3);
}

// The conv kernel's loop shape with its operands in L1 instead of registers: 4 splat inputs × 2
// weight vectors into 8 accumulators per iteration, each chain depending only on its own add (the
// products are off the chain). acc·m + c above puts mul and add latency on one chain, so for
// mul + add this loop can go faster; the peak reported is the better of the loops. `buf` must hold
// 4 KiB, written by fill() first (loads of garbage could be denormal).
export function fill(buf: usize, v: f32): void {
  for (let i: usize = 0; i < 1024; i++) store<f32>(buf + (i << 2), v);
}

export function peakL1(buf: usize, iters: i32): f32 {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  let a4 = f32x4.splat(0), a5 = f32x4.splat(0), a6 = f32x4.splat(0), a7 = f32x4.splat(0);
  for (let i = 0; i < iters; i++) {
    const wp = buf + (<usize>(i & 63) << 5);          // 2 KiB of weights
    const ip = buf + 2048 + (<usize>(i & 63) << 2);   // 4 rows of 64 inputs
    const w0 = v128.load(wp), w1 = v128.load(wp, 16);
    const x0 = v128.load32_splat(ip), x1 = v128.load32_splat(ip, 256);
    const x2 = v128.load32_splat(ip, 512), x3 = v128.load32_splat(ip, 768);
    a0 = step2(x0, w0, a0); a1 = step2(x0, w1, a1); a2 = step2(x1, w0, a2); a3 = step2(x1, w1, a3);
    a4 = step2(x2, w0, a4); a5 = step2(x2, w1, a5); a6 = step2(x3, w0, a6); a7 = step2(x3, w1, a7);
  }
  const s = f32x4.add(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)), f32x4.add(f32x4.add(a4, a5), f32x4.add(a6, a7)));
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1) + f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3);
}

// acc + a·b, the conv kernel's madd.
@inline function step2(a: v128, b: v128, acc: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, acc);
  return f32x4.add(acc, f32x4.mul(a, b));
}
