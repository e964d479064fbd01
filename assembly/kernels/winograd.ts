// SPDX-License-Identifier: MIT
// Winograd F(2×2, 3×3) convolution: NHWC, 3×3, stride 1, `pad` zero pixels per side (1: "same"; 0:
// "valid", the output 2 smaller, as conv2d_f32), fused bias and activation. 16 multiplies per 2×2 output block and channel pair instead of 36 (2.25× fewer).
// flags bit 0 (CONV_ACCUMULATE, as conv2d_f32): add to the existing output instead of the bias, so a
// layer that sums convolutions of several inputs (srgan-rust's) runs one call per input.
//
// Per 2×2 output block ("tile") at (2·ty, 2·tx), with d its 4×4 input window starting `pad` pixels up
// and left, g a 3×3 kernel (Lavin & Gray 2015):
//   V = Bᵀ d B (input transform), U = G g Gᵀ (weights, transformed once at pack time),
//   M[kl] = Σ_ci U[kl][co][ci] · V[kl][ci]   (16 small GEMMs over channels, SIMD over 8 out channels),
//   Y = Aᵀ M A (output transform) + bias, then the activation.
//
// Why F(2×2) and not F(4×4): with these B and A, output (i, j) of a block reads only V[k][l] with
// k ∈ [i, i+2], l ∈ [j, j+2], and those read only d rows i..i+2 and columns j..j+2 — exactly the
// pixel's own 3×3 neighbourhood, in float arithmetic too. So the halos of tiles and bands stay one
// pixel per layer, as for the direct kernel, and an output's bits depend on its neighbourhood and on
// its position in the block grid only. The grid is anchored at (0, 0) of the tensor; the tiler keeps
// tile origins even (src/runtime/tiler.ts), so tiles, bands and the whole image agree bit for bit.
// F(4×4)'s outputs mix all 6×6 window pixels, which would widen every halo.
//
// Scratch (see winogradScratchBytes in src/ops/conv2d.ts): V [16][TILES][cinP] then M [16][TILES][coP8],
// each kl slice followed by WINO_KL_PAD bytes.
// Weights U: [cb][kl][ci][8], cout zero padded to a multiple of 8 (as the direct kernel's blocks).
import { madd, loadLanes, storeLanes } from "../util/simd";
import { activate } from "./activation";
import { CONV_ACCUMULATE } from "./conv2d";

// Tiles per chunk: one chunk's V and M stay in L2 while the GEMMs sweep them; a multiple of 4.
export const WINO_TILES: i32 = 16;
// Bytes added after each kl's slice of V and of M. Without it, at 64 channels the 16 slices lie exactly
// 4 KiB apart, so the transforms' 16 streams fall into the same L1 sets and alias in the store buffer.
export const WINO_KL_PAD: i32 = 64;

// Computes output rows [y0, y1): the block rows covering them, storing only rows inside [y0, y1).
export function winograd_f23_f32(
  inPtr: usize, h: i32, w: i32, cin: i32, pad: i32, uPtr: usize, biasPtr: usize, cout: i32,
  outPtr: usize, y0: i32, y1: i32, flags: i32, act: i32, actParamPtr: usize, scratchPtr: usize,
): i32 {
  const accumulate = (flags & CONV_ACCUMULATE) != 0;
  const cinP = (cin + 3) & ~3;
  const coP8 = (cout + 7) & ~7;
  const oh = h + 2 * pad - 2, ow = w + 2 * pad - 2;
  const tilesX = (ow + 1) >> 1;
  const vKl = (<usize>(WINO_TILES * cinP) << 2) + WINO_KL_PAD;
  const mKl = (<usize>(WINO_TILES * coP8) << 2) + WINO_KL_PAD;
  const vPtr = scratchPtr;
  const mPtr = scratchPtr + 16 * vKl;
  for (let ty = y0 >> 1; ty < (y1 + 1) >> 1; ty++) {
    for (let tx0 = 0; tx0 < tilesX; tx0 += WINO_TILES) {
      const nt = min(WINO_TILES, tilesX - tx0);
      const ntG = (nt + 3) & ~3; // GEMMs run on groups of 4 tiles; the extra tiles are computed and dropped
      for (let t = 0; t < ntG; t++) inputTransform(inPtr, h, w, cin, (ty << 1) - pad, ((tx0 + t) << 1) - pad, vPtr + (<usize>(t * cinP) << 2), vKl);
      gemm(vPtr, vKl, uPtr, mPtr, mKl, cin, cinP, coP8, ntG);
      for (let t = 0; t < nt; t++) {
        outputTransform(mPtr + (<usize>(t * coP8) << 2), mKl, biasPtr, cout, outPtr, oh, ow, ty << 1, (tx0 + t) << 1, y0, y1, accumulate, act, actParamPtr);
      }
    }
  }
  return 0;
}

// V[kl] of the tile whose 4×4 input window starts at (wy, wx), for every 4 input channels, klStride bytes
// apart. Pixels outside the image are zero (the padding); channels past cin in the last vector are never
// used. Shared with the weight gradient (backward/winograd_grad.ts).
export function inputTransform(inPtr: usize, h: i32, w: i32, cin: i32, wy: i32, wx: i32, v: usize, klStride: usize): void {
  const px = <usize>cin << 2;
  const rowBytes = <usize>w * px;
  const base = inPtr + <usize>wy * rowBytes + <usize>wx * px; // window's (0, 0); may lie outside
  // Bit r (row) / 4 + c (column) set: that window row / column lies inside the image.
  let rows = 0, cols = 0;
  for (let i = 0; i < 4; i++) {
    if (<u32>(wy + i) < <u32>h) rows |= 1 << i;
    if (<u32>(wx + i) < <u32>w) cols |= 1 << i;
  }
  const all = rows == 15 && cols == 15;
  for (let c = 0; c < cin; c += 4) {
    const p = base + (<usize>c << 2);
    // t = Bᵀ d, one column at a time, then V = t B along the row.
    let t00: v128, t01: v128, t02: v128, t03: v128, t10: v128, t11: v128, t12: v128, t13: v128;
    let t20: v128, t21: v128, t22: v128, t23: v128, t30: v128, t31: v128, t32: v128, t33: v128;
    {
      const d0 = ld(p, 0, 0, rowBytes, px, rows, cols, all), d1 = ld(p, 1, 0, rowBytes, px, rows, cols, all);
      const d2 = ld(p, 2, 0, rowBytes, px, rows, cols, all), d3 = ld(p, 3, 0, rowBytes, px, rows, cols, all);
      t00 = f32x4.sub(d0, d2); t10 = f32x4.add(d1, d2); t20 = f32x4.sub(d2, d1); t30 = f32x4.sub(d1, d3);
    }
    {
      const d0 = ld(p, 0, 1, rowBytes, px, rows, cols, all), d1 = ld(p, 1, 1, rowBytes, px, rows, cols, all);
      const d2 = ld(p, 2, 1, rowBytes, px, rows, cols, all), d3 = ld(p, 3, 1, rowBytes, px, rows, cols, all);
      t01 = f32x4.sub(d0, d2); t11 = f32x4.add(d1, d2); t21 = f32x4.sub(d2, d1); t31 = f32x4.sub(d1, d3);
    }
    {
      const d0 = ld(p, 0, 2, rowBytes, px, rows, cols, all), d1 = ld(p, 1, 2, rowBytes, px, rows, cols, all);
      const d2 = ld(p, 2, 2, rowBytes, px, rows, cols, all), d3 = ld(p, 3, 2, rowBytes, px, rows, cols, all);
      t02 = f32x4.sub(d0, d2); t12 = f32x4.add(d1, d2); t22 = f32x4.sub(d2, d1); t32 = f32x4.sub(d1, d3);
    }
    {
      const d0 = ld(p, 0, 3, rowBytes, px, rows, cols, all), d1 = ld(p, 1, 3, rowBytes, px, rows, cols, all);
      const d2 = ld(p, 2, 3, rowBytes, px, rows, cols, all), d3 = ld(p, 3, 3, rowBytes, px, rows, cols, all);
      t03 = f32x4.sub(d0, d2); t13 = f32x4.add(d1, d2); t23 = f32x4.sub(d2, d1); t33 = f32x4.sub(d1, d3);
    }
    const o = v + (<usize>c << 2);
    storeRow(o, klStride, 0, t00, t01, t02, t03);
    storeRow(o, klStride, 4, t10, t11, t12, t13);
    storeRow(o, klStride, 8, t20, t21, t22, t23);
    storeRow(o, klStride, 12, t30, t31, t32, t33);
  }
}

// Window pixel (r, c) or zero outside the image. Never reads outside: that address may not exist.
@inline function ld(p: usize, r: i32, c: i32, rowBytes: usize, px: usize, rows: i32, cols: i32, all: bool): v128 {
  if (all || ((rows >> r) & (cols >> c) & 1) != 0) return v128.load(p + <usize>r * rowBytes + <usize>c * px);
  return f32x4.splat(0);
}

// V[k][0..3] = row k of t times B.
@inline function storeRow(o: usize, klStride: usize, kl0: i32, t0: v128, t1: v128, t2: v128, t3: v128): void {
  v128.store(o + <usize>kl0 * klStride, f32x4.sub(t0, t2));
  v128.store(o + <usize>(kl0 + 1) * klStride, f32x4.add(t1, t2));
  v128.store(o + <usize>(kl0 + 2) * klStride, f32x4.sub(t2, t1));
  v128.store(o + <usize>(kl0 + 3) * klStride, f32x4.sub(t1, t3));
}

// M[kl][t][co] = Σ_ci V[kl][t][ci] · U[cb][kl][ci][co & 7] for tiles [0, nt) (nt a multiple of 4):
// 4 tiles × 8 output channels per inner loop, the direct kernel's register shape (8 accumulators).
function gemm(vPtr: usize, vKlStride: usize, uPtr: usize, mPtr: usize, mKlStride: usize, cin: i32, cinP: i32, coP8: i32, nt: i32): void {
  const blocks = coP8 >> 3;
  const s1 = <usize>cinP << 2;     // next tile in V
  const ms = <usize>coP8 << 2;     // next tile in M
  const uBlock = <usize>(16 * cin) << 5;
  for (let kl = 0; kl < 16; kl++) {
    const vKl = vPtr + <usize>kl * vKlStride;
    const mKl = mPtr + <usize>kl * mKlStride;
    for (let cb = 0; cb < blocks; cb++) {
      const wKl = uPtr + <usize>cb * uBlock + (<usize>(kl * cin) << 5);
      for (let t = 0; t < nt; t += 4) {
        let a00 = f32x4.splat(0), a01 = f32x4.splat(0), a10 = f32x4.splat(0), a11 = f32x4.splat(0);
        let a20 = f32x4.splat(0), a21 = f32x4.splat(0), a30 = f32x4.splat(0), a31 = f32x4.splat(0);
        let ip = vKl + <usize>t * s1;
        let wp = wKl;
        const ipEnd = ip + (<usize>cin << 2);
        while (ip < ipEnd) {
          const w0 = v128.load(wp);
          const w1 = v128.load(wp, 16);
          const x0 = v128.load32_splat(ip);
          const x1 = v128.load32_splat(ip + s1);
          const x2 = v128.load32_splat(ip + 2 * s1);
          const x3 = v128.load32_splat(ip + 3 * s1);
          a00 = madd(x0, w0, a00); a01 = madd(x0, w1, a01);
          a10 = madd(x1, w0, a10); a11 = madd(x1, w1, a11);
          a20 = madd(x2, w0, a20); a21 = madd(x2, w1, a21);
          a30 = madd(x3, w0, a30); a31 = madd(x3, w1, a31);
          ip += 4;
          wp += 32;
        }
        const m = mKl + <usize>t * ms + (<usize>cb << 5);
        v128.store(m, a00); v128.store(m, a01, 16);
        v128.store(m + ms, a10); v128.store(m + ms, a11, 16);
        v128.store(m + 2 * ms, a20); v128.store(m + 2 * ms, a21, 16);
        v128.store(m + 3 * ms, a30); v128.store(m + 3 * ms, a31, 16);
      }
    }
  }
}

// Y = Aᵀ M A + (existing output or bias), activated, for one tile: only pixels inside the h×w output and
// rows [y0, y1). Bias and output are read only for channels < cout (a dynamic bias is a bare tensor).
function outputTransform(
  m: usize, klStride: usize, biasPtr: usize, cout: i32, outPtr: usize, h: i32, w: i32, oy: i32, ox: i32,
  y0: i32, y1: i32, accumulate: bool, act: i32, actParamPtr: usize,
): void {
  const coPad = (cout + 3) & ~3;
  const row0 = oy >= y0, row1 = oy + 1 < y1 && oy + 1 < h, col1 = ox + 1 < w;
  const px = <usize>cout << 2;
  const o = outPtr + (<usize>oy * <usize>w + <usize>ox) * px;
  const oDown = o + <usize>w * px;
  for (let co = 0; co < cout; co += 4) {
    const p = m + (<usize>co << 2);
    // s = Aᵀ M: s0 = M0 + M1 + M2, s1 = M1 − M2 − M3 (rows k of M), one column l at a time.
    let s00: v128, s01: v128, s02: v128, s03: v128, s10: v128, s11: v128, s12: v128, s13: v128;
    {
      const m0 = v128.load(p), m1 = v128.load(p + 4 * klStride), m2 = v128.load(p + 8 * klStride), m3 = v128.load(p + 12 * klStride);
      s00 = f32x4.add(f32x4.add(m0, m1), m2); s10 = f32x4.sub(f32x4.sub(m1, m2), m3);
    }
    {
      const m0 = v128.load(p + klStride), m1 = v128.load(p + 5 * klStride), m2 = v128.load(p + 9 * klStride), m3 = v128.load(p + 13 * klStride);
      s01 = f32x4.add(f32x4.add(m0, m1), m2); s11 = f32x4.sub(f32x4.sub(m1, m2), m3);
    }
    {
      const m0 = v128.load(p + 2 * klStride), m1 = v128.load(p + 6 * klStride), m2 = v128.load(p + 10 * klStride), m3 = v128.load(p + 14 * klStride);
      s02 = f32x4.add(f32x4.add(m0, m1), m2); s12 = f32x4.sub(f32x4.sub(m1, m2), m3);
    }
    {
      const m0 = v128.load(p + 3 * klStride), m1 = v128.load(p + 7 * klStride), m2 = v128.load(p + 11 * klStride), m3 = v128.load(p + 15 * klStride);
      s03 = f32x4.add(f32x4.add(m0, m1), m2); s13 = f32x4.sub(f32x4.sub(m1, m2), m3);
    }
    const lanes = min(4, cout - co);
    const oc = <usize>co << 2;
    const b = biasPtr != 0 && !accumulate ? loadLanes(biasPtr + oc, lanes) : f32x4.splat(0);
    // Y = s A: y0 = s0 + s1 + s2, y1 = s1 − s2 − s3 (columns l of s).
    if (row0) {
      store4(o + oc, f32x4.add(f32x4.add(s00, s01), s02), b, accumulate, lanes, act, actParamPtr, co, coPad);
      if (col1) store4(o + px + oc, f32x4.sub(f32x4.sub(s01, s02), s03), b, accumulate, lanes, act, actParamPtr, co, coPad);
    }
    if (row1) {
      store4(oDown + oc, f32x4.add(f32x4.add(s10, s11), s12), b, accumulate, lanes, act, actParamPtr, co, coPad);
      if (col1) store4(oDown + px + oc, f32x4.sub(f32x4.sub(s11, s12), s13), b, accumulate, lanes, act, actParamPtr, co, coPad);
    }
  }
}

// out = act(y + (accumulate ? out : b)) on the first `lanes` channels.
@inline function store4(p: usize, y: v128, b: v128, accumulate: bool, lanes: i32, act: i32, actParamPtr: usize, co: i32, coPad: i32): void {
  const init = accumulate ? loadLanes(p, lanes) : b;
  storeLanes(p, activate(f32x4.add(y, init), act, actParamPtr, co, coPad), lanes);
}
