// SPDX-License-Identifier: MIT
// Small dense matrix product, row-major f32:  C[m×n] (+)= A[m×k] · B[k×n].
// Training's re-parameterised kernels (src/train/reparam.ts) are sums of products of branch matrices
// (W += S·E each step, and dS = dW·Eᵀ, dE = Sᵀ·dW for the gradients): about 3 M multiply-adds per
// 48-channel layer, which took a tenth of a training step in TypeScript on the scheduling thread.
// Blocks of 4 rows × 8 columns (2 × f32x4 of B and C, A splat) keep 8 accumulators in registers over
// the whole k; a column tail of 4 and a scalar tail of 1–3 columns, and single rows below a multiple
// of 4. Each C element sums p = 0..k−1 in order, so the result does not depend on m or n.
import { madd } from "../../util/simd";

export const MATMUL_ACCUMULATE: i32 = 1;

// flags bit 0 (MATMUL_ACCUMULATE): add to C instead of overwriting it. A, B and C must not overlap.
export function matmul_f32(aPtr: usize, bPtr: usize, cPtr: usize, m: i32, n: i32, k: i32, flags: i32): i32 {
  if (m < 0 || n < 0 || k < 0) return 1;
  const acc = (flags & MATMUL_ACCUMULATE) != 0;
  let i = 0;
  for (; i + 4 <= m; i += 4) rowBlock4(aPtr + ((<usize>i * k) << 2), bPtr, cPtr + ((<usize>i * n) << 2), n, k, acc);
  for (; i < m; i++) rowBlock1(aPtr + ((<usize>i * k) << 2), bPtr, cPtr + ((<usize>i * n) << 2), n, k, acc);
  return 0;
}

// Four rows of C from four rows of A.
function rowBlock4(a: usize, b: usize, c: usize, n: i32, k: i32, acc: bool): void {
  const aRow = <usize>k << 2, cRow = <usize>n << 2, bRow = <usize>n << 2;
  let j = 0;
  for (; j + 8 <= n; j += 8) {
    const cj = c + (<usize>j << 2), bj = b + (<usize>j << 2);
    let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
    let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
    if (acc) {
      c00 = v128.load(cj); c01 = v128.load(cj, 16);
      c10 = v128.load(cj + cRow); c11 = v128.load(cj + cRow, 16);
      c20 = v128.load(cj + 2 * cRow); c21 = v128.load(cj + 2 * cRow, 16);
      c30 = v128.load(cj + 3 * cRow); c31 = v128.load(cj + 3 * cRow, 16);
    }
    for (let p = 0; p < k; p++) {
      const bp = bj + <usize>p * bRow, ap = a + (<usize>p << 2);
      const b0 = v128.load(bp), b1 = v128.load(bp, 16);
      const a0 = f32x4.splat(load<f32>(ap)), a1 = f32x4.splat(load<f32>(ap + aRow));
      const a2 = f32x4.splat(load<f32>(ap + 2 * aRow)), a3 = f32x4.splat(load<f32>(ap + 3 * aRow));
      c00 = madd(a0, b0, c00); c01 = madd(a0, b1, c01);
      c10 = madd(a1, b0, c10); c11 = madd(a1, b1, c11);
      c20 = madd(a2, b0, c20); c21 = madd(a2, b1, c21);
      c30 = madd(a3, b0, c30); c31 = madd(a3, b1, c31);
    }
    v128.store(cj, c00); v128.store(cj, c01, 16);
    v128.store(cj + cRow, c10); v128.store(cj + cRow, c11, 16);
    v128.store(cj + 2 * cRow, c20); v128.store(cj + 2 * cRow, c21, 16);
    v128.store(cj + 3 * cRow, c30); v128.store(cj + 3 * cRow, c31, 16);
  }
  // The column tail, row by row (at most 7 columns).
  for (let r = 0; r < 4; r++) columnTail(a + <usize>r * aRow, b, c + <usize>r * cRow, j, n, k, acc);
}

// One row of C from one row of A.
function rowBlock1(a: usize, b: usize, c: usize, n: i32, k: i32, acc: bool): void {
  const bRow = <usize>n << 2;
  let j = 0;
  for (; j + 8 <= n; j += 8) {
    const cj = c + (<usize>j << 2), bj = b + (<usize>j << 2);
    let c0 = acc ? v128.load(cj) : f32x4.splat(0), c1 = acc ? v128.load(cj, 16) : f32x4.splat(0);
    for (let p = 0; p < k; p++) {
      const bp = bj + <usize>p * bRow;
      const av = f32x4.splat(load<f32>(a + (<usize>p << 2)));
      c0 = madd(av, v128.load(bp), c0); c1 = madd(av, v128.load(bp, 16), c1);
    }
    v128.store(cj, c0); v128.store(cj, c1, 16);
  }
  columnTail(a, b, c, j, n, k, acc);
}

// Columns [j, n) of one row: a vector of 4 while it fits, then scalars. The scalar madd is written as
// the vector one's lanes are (fused only in the relaxed build), so a column's value does not depend on
// which path computed it within one build.
function columnTail(a: usize, b: usize, c: usize, j: i32, n: i32, k: i32, acc: bool): void {
  const bRow = <usize>n << 2;
  for (; j + 4 <= n; j += 4) {
    const cj = c + (<usize>j << 2), bj = b + (<usize>j << 2);
    let c0 = acc ? v128.load(cj) : f32x4.splat(0);
    for (let p = 0; p < k; p++) c0 = madd(f32x4.splat(load<f32>(a + (<usize>p << 2))), v128.load(bj + <usize>p * bRow), c0);
    v128.store(cj, c0);
  }
  for (; j < n; j++) {
    const cj = c + (<usize>j << 2), bj = b + (<usize>j << 2);
    let s = acc ? f32x4.splat(load<f32>(cj)) : f32x4.splat(0);
    for (let p = 0; p < k; p++) s = madd(f32x4.splat(load<f32>(a + (<usize>p << 2))), f32x4.splat(load<f32>(bj + <usize>p * bRow)), s);
    store<f32>(cj, f32x4.extract_lane(s, 0));
  }
}
