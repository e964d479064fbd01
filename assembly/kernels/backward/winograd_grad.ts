// SPDX-License-Identifier: MIT
// Weight and bias gradients of a 3×3, stride-1, zero "same" Conv2D by Winograd F(2×2,3×3): the
// forward's 2.25× fewer multiplies, for training's third pass (conv2d_grad.ts is the direct method).
//
// The forward (winograd.ts) computes each 2×2 output block as Y = Aᵀ (U ⊙ V) A with U = G g Gᵀ and
// V = Bᵀ d B. It is linear in U, and U in g, so over the blocks t of the image
//   dU[kl][co][ci] = Σ_t (A dY_t Aᵀ)[kl][co] · V_t[kl][ci]      (16 GEMMs over the tiles)
//   dW[co][·][·][ci] += Gᵀ dU[·][co][ci] G,   db[co] += Σ dZ[·, co]
// which is the exact convolution gradient, rounded differently from the direct sum. Outputs past the
// image's last row or column (odd sides) have dY = 0; inputs past its edges are the zero padding.
//
// Layout: X [h, w, cin], dZ [h, w, cout], dW [cout, 3, 3, cin] (the graph's, as conv2d_grad.ts).
// Scratch (winogradGradScratchBytes in src/train/backward.ts), in floats: V [16][TILES][cin8],
// M = A dY Aᵀ [16][TILES][cout4], dU [16][cout4][cin8]. The GEMM holds 4 output × 8 input channels
// (8 f32x4 accumulators, the direct kernels' register shape) over a chunk of TILES blocks; dU is
// summed chunk by chunk, block by block, in a fixed order: the result does not depend on the thread.
// Lanes past cin or cout carry neighbouring floats or stale scratch and are dropped at the end.
import { madd, loadLanes, storeLanes } from "../../util/simd";
import { inputTransform } from "../winograd";
import { GRAD_ACCUMULATE, biasGrad } from "./conv2d_grad";

// Blocks per chunk: a chunk's V, M and one kl's dU stay in L1/L2 while its GEMMs run.
export const WGRAD_TILES: i32 = 32;

// flags bit 0 (GRAD_ACCUMULATE): add to dW and db instead of overwriting them. dbPtr may be 0.
export function winograd_grad_weight_f23_f32(
  xPtr: usize, h: i32, w: i32, cin: i32, dzPtr: usize, cout: i32,
  dwPtr: usize, dbPtr: usize, flags: i32, scratchPtr: usize,
): i32 {
  if (h < 1 || w < 1 || cin < 1 || cout < 1) return 1;
  const cin8 = (cin + 7) & ~7, co4 = (cout + 3) & ~3;
  const vPtr = scratchPtr;
  const mPtr = vPtr + (<usize>(16 * WGRAD_TILES * cin8) << 2);
  const uPtr = mPtr + (<usize>(16 * WGRAD_TILES * co4) << 2);
  memory.fill(uPtr, 0, <usize>(16 * co4 * cin8) << 2);
  if ((flags & GRAD_ACCUMULATE) == 0) {
    memory.fill(dwPtr, 0, <usize>(cout * 9 * cin) << 2);
    if (dbPtr != 0) memory.fill(dbPtr, 0, <usize>cout << 2);
  }
  const tilesX = (w + 1) >> 1, tiles = tilesX * ((h + 1) >> 1);
  for (let t0 = 0; t0 < tiles; t0 += WGRAD_TILES) {
    const n = min(WGRAD_TILES, tiles - t0);
    for (let t = 0; t < n; t++) {
      const oy = ((t0 + t) / tilesX) << 1, ox = ((t0 + t) % tilesX) << 1;
      inputTransform(xPtr, h, w, cin, oy - 1, ox - 1, vPtr + (<usize>(t * cin8) << 2), <usize>(WGRAD_TILES * cin8) << 2);
      gradTransform(dzPtr, h, w, cout, oy, ox, mPtr + (<usize>(t * co4) << 2), <usize>(WGRAD_TILES * co4) << 2);
    }
    gemm(vPtr, mPtr, uPtr, cin8, co4, n);
  }
  weightTransform(uPtr, cin, cout, cin8, co4, dwPtr);
  if (dbPtr != 0) biasGrad(dzPtr, h * w, cout, dbPtr);
  return 0;
}

// M[kl] = (A dY Aᵀ)[kl] of the block at (oy, ox), 4 output channels at a time, klStride bytes apart:
// along each axis m0 = y0, m1 = y0 + y1, m2 = y0 − y1, m3 = −y1 (A's rows).
function gradTransform(dzPtr: usize, h: i32, w: i32, cout: i32, oy: i32, ox: i32, m: usize, klStride: usize): void {
  const px = <usize>cout << 2;
  const p = dzPtr + (<usize>oy * <usize>w + <usize>ox) * px;
  const right = ox + 1 < w, down = oy + 1 < h;
  const zero = f32x4.splat(0);
  for (let co = 0; co < cout; co += 4) {
    const q = p + (<usize>co << 2);
    const y00 = v128.load(q);
    const y01 = right ? v128.load(q + px) : zero;
    const y10 = down ? v128.load(q + <usize>w * px) : zero;
    const y11 = right && down ? v128.load(q + <usize>w * px + px) : zero;
    // Rows k of A dY (two columns each), then A along the columns.
    const o = m + (<usize>co << 2);
    storeRow(o, klStride, 0, y00, y01);
    storeRow(o, klStride, 4, f32x4.add(y00, y10), f32x4.add(y01, y11));
    storeRow(o, klStride, 8, f32x4.sub(y00, y10), f32x4.sub(y01, y11));
    storeRow(o, klStride, 12, f32x4.neg(y10), f32x4.neg(y11));
  }
}

@inline function storeRow(o: usize, klStride: usize, kl0: i32, r0: v128, r1: v128): void {
  v128.store(o + <usize>kl0 * klStride, r0);
  v128.store(o + <usize>(kl0 + 1) * klStride, f32x4.add(r0, r1));
  v128.store(o + <usize>(kl0 + 2) * klStride, f32x4.sub(r0, r1));
  v128.store(o + <usize>(kl0 + 3) * klStride, f32x4.neg(r1));
}

// dU[kl][co][ci] += Σ_{t < n} M[kl][t][co] · V[kl][t][ci].
function gemm(vPtr: usize, mPtr: usize, uPtr: usize, cin8: i32, co4: i32, n: i32): void {
  const vs = <usize>cin8 << 2, ms = <usize>co4 << 2; // next block in V, in M
  const us = <usize>cin8 << 2;                        // next output channel in dU
  for (let kl = 0; kl < 16; kl++) {
    const vKl = vPtr + <usize>(kl * WGRAD_TILES) * vs;
    const mKl = mPtr + <usize>(kl * WGRAD_TILES) * ms;
    const uKl = uPtr + <usize>(kl * co4) * us;
    for (let co = 0; co < co4; co += 4) {
      for (let ci = 0; ci < cin8; ci += 8) {
        const u = uKl + <usize>co * us + (<usize>ci << 2);
        let a00 = v128.load(u), a01 = v128.load(u, 16), a10 = v128.load(u + us), a11 = v128.load(u + us, 16);
        let a20 = v128.load(u + 2 * us), a21 = v128.load(u + 2 * us, 16), a30 = v128.load(u + 3 * us), a31 = v128.load(u + 3 * us, 16);
        let vp = vKl + (<usize>ci << 2);
        let mp = mKl + (<usize>co << 2);
        for (let t = 0; t < n; t++) {
          // 8 input channels per 2 f32x4 × 4 output channels splat: 8 multiply-adds per block.
          const x0 = v128.load(vp), x1 = v128.load(vp, 16);
          const d0 = v128.load32_splat(mp);
          a00 = madd(d0, x0, a00); a01 = madd(d0, x1, a01);
          const d1 = v128.load32_splat(mp, 4);
          a10 = madd(d1, x0, a10); a11 = madd(d1, x1, a11);
          const d2 = v128.load32_splat(mp, 8);
          a20 = madd(d2, x0, a20); a21 = madd(d2, x1, a21);
          const d3 = v128.load32_splat(mp, 12);
          a30 = madd(d3, x0, a30); a31 = madd(d3, x1, a31);
          vp += vs;
          mp += ms;
        }
        v128.store(u, a00); v128.store(u, a01, 16); v128.store(u + us, a10); v128.store(u + us, a11, 16);
        v128.store(u + 2 * us, a20); v128.store(u + 2 * us, a21, 16); v128.store(u + 3 * us, a30); v128.store(u + 3 * us, a31, 16);
      }
    }
  }
}

// dW[co][i][j][ci] += (Gᵀ dU G)[i][j], 4 input channels at a time: along each axis
// r0 = u0 + ½u1 + ½u2, r1 = ½u1 − ½u2, r2 = ½u1 + ½u2 + u3 (G's columns).
function weightTransform(uPtr: usize, cin: i32, cout: i32, cin8: i32, co4: i32, dwPtr: usize): void {
  const kl = <usize>(co4 * cin8) << 2; // next kl in dU
  const half = f32x4.splat(0.5);
  for (let co = 0; co < cout; co++) {
    for (let ci = 0; ci < cin; ci += 4) {
      const lanes = min(4, cin - ci);
      const u = uPtr + ((<usize>co * <usize>cin8 + <usize>ci) << 2);
      const d = dwPtr + ((<usize>co * 9 * <usize>cin + <usize>ci) << 2);
      // Rows: s[i][l] = Σ_k G[k][i] dU[k][l], one column l at a time.
      let s00: v128, s01: v128, s02: v128, s03: v128, s10: v128, s11: v128, s12: v128, s13: v128, s20: v128, s21: v128, s22: v128, s23: v128;
      {
        const u0 = v128.load(u), u1 = v128.load(u + 4 * kl), u2 = v128.load(u + 8 * kl), u3 = v128.load(u + 12 * kl);
        s00 = colG0(u0, u1, u2, half); s10 = colG1(u1, u2, half); s20 = colG2(u1, u2, u3, half);
      }
      {
        const u0 = v128.load(u + kl), u1 = v128.load(u + 5 * kl), u2 = v128.load(u + 9 * kl), u3 = v128.load(u + 13 * kl);
        s01 = colG0(u0, u1, u2, half); s11 = colG1(u1, u2, half); s21 = colG2(u1, u2, u3, half);
      }
      {
        const u0 = v128.load(u + 2 * kl), u1 = v128.load(u + 6 * kl), u2 = v128.load(u + 10 * kl), u3 = v128.load(u + 14 * kl);
        s02 = colG0(u0, u1, u2, half); s12 = colG1(u1, u2, half); s22 = colG2(u1, u2, u3, half);
      }
      {
        const u0 = v128.load(u + 3 * kl), u1 = v128.load(u + 7 * kl), u2 = v128.load(u + 11 * kl), u3 = v128.load(u + 15 * kl);
        s03 = colG0(u0, u1, u2, half); s13 = colG1(u1, u2, half); s23 = colG2(u1, u2, u3, half);
      }
      const tap = <usize>cin << 2;
      addTaps(d, tap, s00, s01, s02, s03, half, lanes);
      addTaps(d + 3 * tap, tap, s10, s11, s12, s13, half, lanes);
      addTaps(d + 6 * tap, tap, s20, s21, s22, s23, half, lanes);
    }
  }
}

@inline function colG0(u0: v128, u1: v128, u2: v128, half: v128): v128 { return f32x4.add(u0, f32x4.mul(half, f32x4.add(u1, u2))); }
@inline function colG1(u1: v128, u2: v128, half: v128): v128 { return f32x4.mul(half, f32x4.sub(u1, u2)); }
@inline function colG2(u1: v128, u2: v128, u3: v128, half: v128): v128 { return f32x4.add(f32x4.mul(half, f32x4.add(u1, u2)), u3); }

// One kernel row i: dW taps (i, 0..2) += the G-transform of s[i][0..3] along the columns.
@inline function addTaps(d: usize, tap: usize, s0: v128, s1: v128, s2: v128, s3: v128, half: v128, lanes: i32): void {
  addLanes(d, colG0(s0, s1, s2, half), lanes);
  addLanes(d + tap, colG1(s1, s2, half), lanes);
  addLanes(d + 2 * tap, colG2(s1, s2, s3, half), lanes);
}

@inline function addLanes(p: usize, v: v128, lanes: i32): void {
  storeLanes(p, f32x4.add(loadLanes(p, lanes), v), lanes);
}
