// SPDX-License-Identifier: MIT
// Direct 2-D convolution (cross-correlation), NHWC, stride 1, odd square kernel k, `pad` zero pixels per
// side (k >> 1: "same", the output as large as the input; 0: "valid", k − 1 smaller, as waifu2x's
// networks). Output h + 2·pad − k + 1 rows of w + 2·pad − k + 1 pixels.
//
// Weights are packed once at load time in blocks of 8 output channels: [cb][ky][kx][ci][8] with
// cb = co / 8, cout zero padded to a multiple of 8 (src/ops/conv2d.ts pack()). One block's weights for
// a whole kernel row (kx, ci) are then one contiguous run, and so are the input pixels a kernel row
// reads (NHWC), so the hot loop walks both with constant strides and no kx loop.
// Tiling: a row's interior pixels go 4 at a time × 8 output channels, one block after another (the
// block's weights stay in L1 for the whole row); 2 or 3 left-over interior pixels form a narrower
// block. Border pixels and a single left-over pixel go through the one-pixel path. Every path visits
// taps and input channels in the same order with the same madd, from the same initial value, so
// every output element is the same sum in the same order wherever it lies: bands and tiles of one
// image are bit-identical to the whole.
//
// flags bit 0 (ACCUMULATE): start from the existing output instead of the bias (a layer that is the
// sum of several convolutions over different inputs). The activation is applied to the final sum.
import { madd, loadLanes, storeLanes } from "../util/simd";
import { activate } from "./activation";

export const CONV_ACCUMULATE: i32 = 1;

// Pixels per interior block: 4 pixels × 2 vectors = 8 accumulators. V8 (x64) allocates 15 xmm
// registers and issues all of an iteration's loads before its arithmetic, so the loop holds
// 8 accumulators + 2 weights + 4 splats (+ 1 product for mul + add); a 5th or 6th pixel spills
// accumulators to the stack on every iteration, which costs far more than the extra chains gain.
@inline const PX: i32 = 4;

// Computes output rows [y0, y1). biasPtr may be 0 (no bias); it is read only for channels < cout.
export function conv2d_f32(
  inPtr: usize, h: i32, w: i32, cin: i32,
  weightPtr: usize, biasPtr: usize, k: i32, pad: i32, cout: i32,
  outPtr: usize, y0: i32, y1: i32, flags: i32, act: i32, actParamPtr: usize,
): i32 {
  const ow = w + 2 * pad - k + 1;
  const coPad = (cout + 3) & ~3;                       // activation parameters are packed to this
  const blocks = (cout + 7) >> 3;
  const accumulate = (flags & CONV_ACCUMULATE) != 0;
  const inRowStride = <usize>w * <usize>cin << 2;
  const blockBytes = <usize>(k * k) * <usize>cin << 5;  // one 8-channel block of weights
  const kRowBytes = <usize>(k * cin) << 5;             // one kernel row (all kx, ci) within a block
  const xLo = min(pad, ow);
  const xHi = max(ow - pad, xLo);                      // interior [xLo, xHi): every kx tap inside
  const xBlockEnd = xLo + (xHi - xLo) / PX * PX;
  for (let y = y0; y < y1; y++) {
    const kyLo = max(0, pad - y);
    const kyHi = min(k, h + pad - y);
    const outRow = outPtr + (<usize>y * <usize>ow * <usize>cout << 2);
    const inTop = inPtr + <usize>(y - pad) * inRowStride;   // row of ky = 0 (may lie outside; never read then)
    for (let x = 0; x < xLo; x++) {
      convPixel(inPtr, h, w, cin, weightPtr, biasPtr, k, pad, cout, coPad, outRow, x, y, kyLo, kyHi, accumulate, act, actParamPtr);
    }
    for (let cb = 0; cb < blocks; cb++) {
      const co = cb << 3;
      const lanes0 = min(4, cout - co), lanes1 = min(4, cout - co - 4); // lanes1 ≤ 0: no second vector
      const wBlock = weightPtr + <usize>cb * blockBytes;
      for (let x = xLo; x < xBlockEnd; x += PX) {
        convBlock(inTop, inRowStride, cin, wBlock, kRowBytes, biasPtr, k, cout, coPad, co, lanes0, lanes1,
          outRow, x, pad, kyLo, kyHi, accumulate, act, actParamPtr, PX);
      }
      // 2 or 3 left over: a narrower block still has 4–6 independent chains, twice the one-pixel path.
      if (xHi - xBlockEnd == 3) {
        convBlock(inTop, inRowStride, cin, wBlock, kRowBytes, biasPtr, k, cout, coPad, co, lanes0, lanes1,
          outRow, xBlockEnd, pad, kyLo, kyHi, accumulate, act, actParamPtr, 3);
      } else if (xHi - xBlockEnd == 2) {
        convBlock(inTop, inRowStride, cin, wBlock, kRowBytes, biasPtr, k, cout, coPad, co, lanes0, lanes1,
          outRow, xBlockEnd, pad, kyLo, kyHi, accumulate, act, actParamPtr, 2);
      }
    }
    for (let x = xHi - (xHi - xBlockEnd == 1 ? 1 : 0); x < ow; x++) {
      convPixel(inPtr, h, w, cin, weightPtr, biasPtr, k, pad, cout, coPad, outRow, x, y, kyLo, kyHi, accumulate, act, actParamPtr);
    }
  }
  return 0;
}

// Initial accumulator for channels [co, co + lanes): the existing output, the bias, or zero.
@inline function initAcc(o: usize, biasPtr: usize, co: i32, lanes: i32, accumulate: bool): v128 {
  if (lanes <= 0) return f32x4.splat(0);
  if (accumulate) return loadLanes(o + (<usize>co << 2), lanes);
  if (biasPtr != 0) return loadLanes(biasPtr + (<usize>co << 2), lanes);
  return f32x4.splat(0);
}

@inline function finish(o: usize, v: v128, co: i32, lanes: i32, act: i32, actParamPtr: usize, coPad: i32): void {
  if (lanes > 0) storeLanes(o + (<usize>co << 2), activate(v, act, actParamPtr, co, coPad), lanes);
}

// np (a constant at every call site, 1..4) interior pixels starting at x × the 8 channels of one
// weight block.
@inline function convBlock(
  inTop: usize, inRowStride: usize, cin: i32, wBlock: usize, kRowBytes: usize, biasPtr: usize, k: i32,
  cout: i32, coPad: i32, co: i32, lanes0: i32, lanes1: i32, outRow: usize, x: i32, pad: i32,
  kyLo: i32, kyHi: i32, accumulate: bool, act: i32, actParamPtr: usize, np: i32,
): void {
  const ostr = <usize>cout << 2;
  const o0 = outRow + <usize>x * ostr;
  let a00 = initAcc(o0, biasPtr, co, lanes0, accumulate), a01 = initAcc(o0, biasPtr, co + 4, lanes1, accumulate);
  let a10 = f32x4.splat(0), a11 = f32x4.splat(0), a20 = f32x4.splat(0), a21 = f32x4.splat(0), a30 = f32x4.splat(0), a31 = f32x4.splat(0);
  if (np > 1) { a10 = initAcc(o0 + ostr, biasPtr, co, lanes0, accumulate); a11 = initAcc(o0 + ostr, biasPtr, co + 4, lanes1, accumulate); }
  if (np > 2) { a20 = initAcc(o0 + 2 * ostr, biasPtr, co, lanes0, accumulate); a21 = initAcc(o0 + 2 * ostr, biasPtr, co + 4, lanes1, accumulate); }
  if (np > 3) { a30 = initAcc(o0 + 3 * ostr, biasPtr, co, lanes0, accumulate); a31 = initAcc(o0 + 3 * ostr, biasPtr, co + 4, lanes1, accumulate); }
  const s1 = <usize>cin << 2;
  const n = k * cin; // one kernel row: (kx, ci) pairs, contiguous in the input and in the weights
  for (let ky = kyLo; ky < kyHi; ky++) {
    let ip = inTop + <usize>ky * inRowStride + (<usize>(x - pad) * <usize>cin << 2);
    let wp = wBlock + <usize>ky * kRowBytes;
    const ipEnd = ip + (<usize>n << 2);
    while (ip < ipEnd) {
      const w0 = v128.load(wp);
      const w1 = v128.load(wp, 16);
      const x0 = v128.load32_splat(ip);
      a00 = madd(x0, w0, a00); a01 = madd(x0, w1, a01);
      if (np > 1) {
        const x1 = v128.load32_splat(ip + s1);
        a10 = madd(x1, w0, a10); a11 = madd(x1, w1, a11);
      }
      if (np > 2) {
        const x2 = v128.load32_splat(ip + 2 * s1);
        a20 = madd(x2, w0, a20); a21 = madd(x2, w1, a21);
      }
      if (np > 3) {
        const x3 = v128.load32_splat(ip + 3 * s1);
        a30 = madd(x3, w0, a30); a31 = madd(x3, w1, a31);
      }
      ip += 4;
      wp += 32;
    }
  }
  finish(o0, a00, co, lanes0, act, actParamPtr, coPad); finish(o0, a01, co + 4, lanes1, act, actParamPtr, coPad);
  if (np > 1) { finish(o0 + ostr, a10, co, lanes0, act, actParamPtr, coPad); finish(o0 + ostr, a11, co + 4, lanes1, act, actParamPtr, coPad); }
  if (np > 2) { finish(o0 + 2 * ostr, a20, co, lanes0, act, actParamPtr, coPad); finish(o0 + 2 * ostr, a21, co + 4, lanes1, act, actParamPtr, coPad); }
  if (np > 3) { finish(o0 + 3 * ostr, a30, co, lanes0, act, actParamPtr, coPad); finish(o0 + 3 * ostr, a31, co + 4, lanes1, act, actParamPtr, coPad); }
}

// One output pixel, every channel: taps outside the image are skipped (the zero padding); taps and
// input channels are visited in the same order, with the same madd, as in convBlock. Two weight
// blocks (16 channels, 4 independent accumulators) at a time where two remain, so the border is not
// bound by the latency of one accumulator chain.
function convPixel(
  inPtr: usize, h: i32, w: i32, cin: i32, weightPtr: usize, biasPtr: usize, k: i32, pad: i32, cout: i32, coPad: i32,
  outRow: usize, x: i32, y: i32, kyLo: i32, kyHi: i32, accumulate: bool, act: i32, actParamPtr: usize,
): void {
  const kxLo = max(0, pad - x);
  const kxHi = min(k, w + pad - x);
  const o = outRow + (<usize>x * <usize>cout << 2);
  const blocks = (cout + 7) >> 3;
  const blockBytes = <usize>(k * k) * <usize>cin << 5;
  const n = (kxHi - kxLo) * cin; // (kx, ci) pairs of one kernel row that lie inside the image
  for (let cb = 0; cb < blocks; cb += 2) {
    const co = cb << 3;
    const two = cb + 1 < blocks;
    const l0 = min(4, cout - co), l1 = min(4, cout - co - 4), l2 = min(4, cout - co - 8), l3 = min(4, cout - co - 12);
    let a0 = initAcc(o, biasPtr, co, l0, accumulate), a1 = initAcc(o, biasPtr, co + 4, l1, accumulate);
    let a2 = initAcc(o, biasPtr, co + 8, l2, accumulate), a3 = initAcc(o, biasPtr, co + 12, l3, accumulate);
    const wBlock = weightPtr + <usize>cb * blockBytes;
    for (let ky = kyLo; ky < kyHi; ky++) {
      let ip = inPtr + ((<usize>(y + ky - pad) * <usize>w + <usize>(x + kxLo - pad)) * <usize>cin << 2);
      let wp = wBlock + ((<usize>(ky * k + kxLo) * <usize>cin) << 5);
      const ipEnd = ip + (<usize>n << 2);
      if (two) {
        while (ip < ipEnd) {
          const xv = v128.load32_splat(ip);
          a0 = madd(xv, v128.load(wp), a0);
          a1 = madd(xv, v128.load(wp, 16), a1);
          a2 = madd(xv, v128.load(wp + blockBytes), a2);
          a3 = madd(xv, v128.load(wp + blockBytes, 16), a3);
          ip += 4;
          wp += 32;
        }
      } else {
        while (ip < ipEnd) {
          const xv = v128.load32_splat(ip);
          a0 = madd(xv, v128.load(wp), a0);
          a1 = madd(xv, v128.load(wp, 16), a1);
          ip += 4;
          wp += 32;
        }
      }
    }
    finish(o, a0, co, l0, act, actParamPtr, coPad);
    finish(o, a1, co + 4, l1, act, actParamPtr, coPad);
    if (two) {
      finish(o, a2, co + 8, l2, act, actParamPtr, coPad);
      finish(o, a3, co + 12, l3, act, actParamPtr, coPad);
    }
  }
}
