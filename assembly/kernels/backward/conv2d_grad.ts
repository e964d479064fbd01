// SPDX-License-Identifier: MIT
// Weight and bias gradients of Conv2D (NHWC, stride 1, odd square k, zero "same" padding, as
// assembly/kernels/conv2d.ts). The input gradient needs no kernel of its own: with stride 1 and same
// padding it is the forward convolution of dZ with the kernel flipped in space and cin/cout swapped,
// so src/train/backward.ts runs conv2d_f32 on that repacked kernel.
//
//   dW[co][ky][kx][ci] += Σ_{y,x} dZ[y, x, co] · X[y + ky − pad, x + kx − pad, ci]   (graph layout)
//   db[co]             += Σ_{y,x} dZ[y, x, co]
//
// dW is written in the graph's unpacked layout [cout, k, k, cin], so a network's gradient is one flat
// vector laid out as its weight table and the optimiser never repacks it.
// Vector width and tiling: 8 input channels (2 × f32x4, ci contiguous in X and in dW) × 4 output
// channels (splat from dZ) = 8 accumulators held in registers over every pixel of a strip of rows; a
// strip is as many rows as keep its X and dZ rows within ~24 KiB (L1), so the k²·⌈cin/8⌉·⌈cout/4⌉ passes
// over it hit cache. Channel tails are not special-cased in the loop: lanes past cin and rows past
// cout read neighbouring floats (at most 12 bytes past a tensor; the arena pads every tensor by 16)
// and are dropped when the accumulators are added to dW. Each element is summed strip by strip, row by
// row, pixel by pixel in a fixed order: the result does not depend on the thread that runs it.
import { madd, loadLanes, storeLanes } from "../../util/simd";

export const GRAD_ACCUMULATE: i32 = 1;

// flags bit 0 (GRAD_ACCUMULATE): add to dW and db instead of overwriting them. dbPtr may be 0 (no bias).
export function conv2d_grad_weight_f32(
  xPtr: usize, h: i32, w: i32, cin: i32,
  dzPtr: usize, cout: i32, k: i32,
  dwPtr: usize, dbPtr: usize, flags: i32,
): i32 {
  if (h < 1 || w < 1 || cin < 1 || cout < 1 || k < 1 || (k & 1) == 0) return 1;
  const pad = k >> 1;
  const kk = k * k;
  if ((flags & GRAD_ACCUMULATE) == 0) {
    memory.fill(dwPtr, 0, <usize>cout * <usize>kk * <usize>cin << 2);
    if (dbPtr != 0) memory.fill(dbPtr, 0, <usize>cout << 2);
  }
  const rowBytes = w * (cin + cout) * 4;
  const strip = max(1, min(h, 24576 / max(1, rowBytes)));
  const coStride = <usize>kk * <usize>cin << 2; // one output channel's weights
  for (let s0 = 0; s0 < h; s0 += strip) {
    const s1 = min(h, s0 + strip);
    for (let ky = 0; ky < k; ky++) {
      const yLo = max(s0, pad - ky), yHi = min(s1, h + pad - ky);
      if (yLo >= yHi) continue;
      for (let kx = 0; kx < k; kx++) {
        const xLo = max(0, pad - kx), xHi = min(w, w + pad - kx);
        if (xLo >= xHi) continue;
        const tapOff = <usize>((ky * k + kx) * cin) << 2;
        for (let co = 0; co < cout; co += 4) {
          const nco = min(4, cout - co);
          const dwCo = dwPtr + <usize>co * coStride + tapOff;
          for (let ci = 0; ci < cin; ci += 8) {
            const nci = min(8, cin - ci);
            if (nci > 4) {
              tapBlock8(xPtr, w, cin, dzPtr, cout, co, ci, nco, nci, dwCo + (<usize>ci << 2), coStride, ky - pad, kx - pad, yLo, yHi, xLo, xHi);
            } else {
              tapBlock4(xPtr, w, cin, dzPtr, cout, co, ci, nco, nci, dwCo + (<usize>ci << 2), coStride, ky - pad, kx - pad, yLo, yHi, xLo, xHi);
            }
          }
        }
      }
    }
  }
  if (dbPtr != 0) biasGrad(dzPtr, h * w, cout, dbPtr);
  return 0;
}

// dW[co + j][tap][ci .. ci + lanes) += acc
@inline function addRow(p: usize, acc: v128, lanes: i32): void {
  if (lanes > 0) storeLanes(p, f32x4.add(loadLanes(p, lanes), acc), lanes);
}

// Output channels [co, co + 4) × input channels [ci, ci + 8) of one tap over output rows [yLo, yHi),
// columns [xLo, xHi). (dy, dx) is the tap's offset into X.
function tapBlock8(
  xPtr: usize, w: i32, cin: i32, dzPtr: usize, cout: i32, co: i32, ci: i32, nco: i32, nci: i32,
  dwp: usize, coStride: usize, dy: i32, dx: i32, yLo: i32, yHi: i32, xLo: i32, xHi: i32,
): void {
  let a00 = f32x4.splat(0), a01 = f32x4.splat(0), a10 = f32x4.splat(0), a11 = f32x4.splat(0);
  let a20 = f32x4.splat(0), a21 = f32x4.splat(0), a30 = f32x4.splat(0), a31 = f32x4.splat(0);
  const xStep = <usize>cin << 2, dStep = <usize>cout << 2;
  const n = xHi - xLo;
  for (let y = yLo; y < yHi; y++) {
    let dp = dzPtr + ((<usize>(y * w + xLo) * <usize>cout + <usize>co) << 2);
    let xp = xPtr + ((<usize>((y + dy) * w + xLo + dx) * <usize>cin + <usize>ci) << 2);
    for (let i = 0; i < n; i++) {
      const x0 = v128.load(xp), x1 = v128.load(xp, 16);
      const d0 = v128.load32_splat(dp);
      a00 = madd(d0, x0, a00); a01 = madd(d0, x1, a01);
      const d1 = v128.load32_splat(dp, 4);
      a10 = madd(d1, x0, a10); a11 = madd(d1, x1, a11);
      const d2 = v128.load32_splat(dp, 8);
      a20 = madd(d2, x0, a20); a21 = madd(d2, x1, a21);
      const d3 = v128.load32_splat(dp, 12);
      a30 = madd(d3, x0, a30); a31 = madd(d3, x1, a31);
      xp += xStep;
      dp += dStep;
    }
  }
  const l1 = nci - 4;
  addRow(dwp, a00, 4); addRow(dwp + 16, a01, l1);
  if (nco > 1) { addRow(dwp + coStride, a10, 4); addRow(dwp + coStride + 16, a11, l1); }
  if (nco > 2) { addRow(dwp + 2 * coStride, a20, 4); addRow(dwp + 2 * coStride + 16, a21, l1); }
  if (nco > 3) { addRow(dwp + 3 * coStride, a30, 4); addRow(dwp + 3 * coStride + 16, a31, l1); }
}

// As tapBlock8 for the last ≤ 4 input channels (one vector; cin = 3 for the first layer).
function tapBlock4(
  xPtr: usize, w: i32, cin: i32, dzPtr: usize, cout: i32, co: i32, ci: i32, nco: i32, nci: i32,
  dwp: usize, coStride: usize, dy: i32, dx: i32, yLo: i32, yHi: i32, xLo: i32, xHi: i32,
): void {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  let b0 = f32x4.splat(0), b1 = f32x4.splat(0), b2 = f32x4.splat(0), b3 = f32x4.splat(0);
  const xStep = <usize>cin << 2, dStep = <usize>cout << 2;
  const n = xHi - xLo;
  for (let y = yLo; y < yHi; y++) {
    let dp = dzPtr + ((<usize>(y * w + xLo) * <usize>cout + <usize>co) << 2);
    let xp = xPtr + ((<usize>((y + dy) * w + xLo + dx) * <usize>cin + <usize>ci) << 2);
    let i = 0;
    // Two pixels per iteration into two accumulator sets (the chains are then half as long); the
    // sets are added once at the end, in the same order every time.
    for (; i + 2 <= n; i += 2) {
      const x0 = v128.load(xp), x1 = v128.load(xp + xStep);
      a0 = madd(v128.load32_splat(dp), x0, a0); b0 = madd(v128.load32_splat(dp + dStep), x1, b0);
      a1 = madd(v128.load32_splat(dp, 4), x0, a1); b1 = madd(v128.load32_splat(dp + dStep, 4), x1, b1);
      a2 = madd(v128.load32_splat(dp, 8), x0, a2); b2 = madd(v128.load32_splat(dp + dStep, 8), x1, b2);
      a3 = madd(v128.load32_splat(dp, 12), x0, a3); b3 = madd(v128.load32_splat(dp + dStep, 12), x1, b3);
      xp += xStep << 1;
      dp += dStep << 1;
    }
    if (i < n) {
      const x0 = v128.load(xp);
      a0 = madd(v128.load32_splat(dp), x0, a0);
      a1 = madd(v128.load32_splat(dp, 4), x0, a1);
      a2 = madd(v128.load32_splat(dp, 8), x0, a2);
      a3 = madd(v128.load32_splat(dp, 12), x0, a3);
    }
  }
  addRow(dwp, f32x4.add(a0, b0), nci);
  if (nco > 1) addRow(dwp + coStride, f32x4.add(a1, b1), nci);
  if (nco > 2) addRow(dwp + 2 * coStride, f32x4.add(a2, b2), nci);
  if (nco > 3) addRow(dwp + 3 * coStride, f32x4.add(a3, b3), nci);
}

// db[co] += Σ_p dZ[p, co]: 4 channels per vector over all pixels, then one masked add into db.
export function biasGrad(dzPtr: usize, pixels: i32, cout: i32, dbPtr: usize): void {
  const step = <usize>cout << 2;
  for (let co = 0; co < cout; co += 4) {
    let acc = f32x4.splat(0);
    let p = dzPtr + (<usize>co << 2);
    for (let i = 0; i < pixels; i++) {
      acc = f32x4.add(acc, v128.load(p));
      p += step;
    }
    addRow(dbPtr + (<usize>co << 2), acc, min(4, cout - co));
  }
}
