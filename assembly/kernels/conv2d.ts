// SPDX-License-Identifier: MIT
// Direct 2-D convolution (cross-correlation), NHWC, stride 1, odd square kernel k, zero "same" padding.
//
// Weights are packed once at load time as [ky][kx][ci][coPad] (coPad = cout rounded up to 4, zero
// filled), so the 4 output channels an f32x4 accumulates are contiguous for every (tap, ci).
// Tiling: interior pixels go 4 at a time × 8 output channels (8 accumulators; each weight vector is
// reused for 4 pixels, each input splat for 2 vectors). Border pixels, the row tail and the channel
// tail go through the one-pixel path, which visits taps and input channels in the same order, so
// every output element is the same sum in the same order wherever it lies: bands and tiles of one
// image are bit-identical to the whole.
//
// flags bit 0 (ACCUMULATE): start from the existing output instead of the bias (a layer that is the
// sum of several convolutions over different inputs). The activation is applied to the final sum.
import { madd, loadLanes, storeLanes } from "../util/simd";
import { activate } from "./activation";

export const CONV_ACCUMULATE: i32 = 1;

// Computes output rows [y0, y1). biasPtr may be 0 (no bias); bias is packed to coPad.
export function conv2d_f32(
  inPtr: usize, h: i32, w: i32, cin: i32,
  weightPtr: usize, biasPtr: usize, k: i32, cout: i32,
  outPtr: usize, y0: i32, y1: i32, flags: i32, act: i32, actParamPtr: usize,
): i32 {
  const pad = k >> 1;
  const coPad = (cout + 3) & ~3;
  const accumulate = (flags & CONV_ACCUMULATE) != 0;
  const inRowStride = <usize>w * <usize>cin << 2;
  const tapStride = <usize>cin * <usize>coPad << 2;   // bytes between consecutive taps in the weights
  for (let y = y0; y < y1; y++) {
    const kyLo = max(0, pad - y);
    const kyHi = min(k, h + pad - y);
    const outRow = outPtr + (<usize>y * <usize>w * <usize>cout << 2);
    let x = 0;
    // Left border: the one-pixel path.
    const xInteriorLo = min(pad, w);
    const xInteriorHi = w - pad; // exclusive; interior pixels have every kx tap inside the image
    for (; x < xInteriorLo; x++) {
      convPixel(inPtr, h, w, cin, weightPtr, biasPtr, k, cout, coPad, outRow, x, y, kyLo, kyHi, accumulate, act, actParamPtr);
    }
    // Interior: 4 pixels × 8 channels while whole blocks fit.
    for (; x + 4 <= xInteriorHi; x += 4) {
      let co = 0;
      for (; co + 8 <= cout; co += 8) {
        const o = outRow + (<usize>x * <usize>cout << 2) + (<usize>co << 2);
        const ostr = <usize>cout << 2;
        let a00: v128, a01: v128, a10: v128, a11: v128, a20: v128, a21: v128, a30: v128, a31: v128;
        if (accumulate) {
          a00 = v128.load(o); a01 = v128.load(o, 16);
          a10 = v128.load(o + ostr); a11 = v128.load(o + ostr, 16);
          a20 = v128.load(o + 2 * ostr); a21 = v128.load(o + 2 * ostr, 16);
          a30 = v128.load(o + 3 * ostr); a31 = v128.load(o + 3 * ostr, 16);
        } else if (biasPtr != 0) {
          a00 = a10 = a20 = a30 = v128.load(biasPtr + (<usize>co << 2));
          a01 = a11 = a21 = a31 = v128.load(biasPtr + (<usize>co << 2), 16);
        } else {
          a00 = a01 = a10 = a11 = a20 = a21 = a30 = a31 = f32x4.splat(0);
        }
        for (let ky = kyLo; ky < kyHi; ky++) {
          const inRow = inPtr + <usize>(y + ky - pad) * inRowStride;
          for (let kx = 0; kx < k; kx++) {
            let ip = inRow + (<usize>(x + kx - pad) * <usize>cin << 2);
            let wp = weightPtr + <usize>(ky * k + kx) * tapStride + (<usize>co << 2);
            const istr = <usize>cin << 2;
            for (let ci = 0; ci < cin; ci++) {
              const w0 = v128.load(wp);
              const w1 = v128.load(wp, 16);
              const x0 = v128.load32_splat(ip);
              const x1 = v128.load32_splat(ip + istr);
              const x2 = v128.load32_splat(ip + 2 * istr);
              const x3 = v128.load32_splat(ip + 3 * istr);
              a00 = madd(x0, w0, a00); a01 = madd(x0, w1, a01);
              a10 = madd(x1, w0, a10); a11 = madd(x1, w1, a11);
              a20 = madd(x2, w0, a20); a21 = madd(x2, w1, a21);
              a30 = madd(x3, w0, a30); a31 = madd(x3, w1, a31);
              ip += 4;
              wp += <usize>coPad << 2;
            }
          }
        }
        v128.store(o, activate(a00, act, actParamPtr, co, coPad));
        v128.store(o, activate(a01, act, actParamPtr, co + 4, coPad), 16);
        v128.store(o + ostr, activate(a10, act, actParamPtr, co, coPad));
        v128.store(o + ostr, activate(a11, act, actParamPtr, co + 4, coPad), 16);
        v128.store(o + 2 * ostr, activate(a20, act, actParamPtr, co, coPad));
        v128.store(o + 2 * ostr, activate(a21, act, actParamPtr, co + 4, coPad), 16);
        v128.store(o + 3 * ostr, activate(a30, act, actParamPtr, co, coPad));
        v128.store(o + 3 * ostr, activate(a31, act, actParamPtr, co + 4, coPad), 16);
      }
      // Channel tail (cout not a multiple of 8): the one-pixel path for these channels.
      if (co < cout) {
        for (let p = 0; p < 4; p++) {
          convPixelChannels(inPtr, h, w, cin, weightPtr, biasPtr, k, cout, coPad, outRow, x + p, y, kyLo, kyHi, accumulate, act, actParamPtr, co);
        }
      }
    }
    // Remaining interior pixels and the right border.
    for (; x < w; x++) {
      convPixel(inPtr, h, w, cin, weightPtr, biasPtr, k, cout, coPad, outRow, x, y, kyLo, kyHi, accumulate, act, actParamPtr);
    }
  }
  return 0;
}

@inline function convPixel(
  inPtr: usize, h: i32, w: i32, cin: i32, weightPtr: usize, biasPtr: usize, k: i32, cout: i32, coPad: i32,
  outRow: usize, x: i32, y: i32, kyLo: i32, kyHi: i32, accumulate: bool, act: i32, actParamPtr: usize,
): void {
  convPixelChannels(inPtr, h, w, cin, weightPtr, biasPtr, k, cout, coPad, outRow, x, y, kyLo, kyHi, accumulate, act, actParamPtr, 0);
}

// One output pixel, output channels [coStart, cout), one f32x4 at a time; taps outside the image are
// skipped (the zero padding), taps and channels visited in the same order as the blocked path.
function convPixelChannels(
  inPtr: usize, h: i32, w: i32, cin: i32, weightPtr: usize, biasPtr: usize, k: i32, cout: i32, coPad: i32,
  outRow: usize, x: i32, y: i32, kyLo: i32, kyHi: i32, accumulate: bool, act: i32, actParamPtr: usize, coStart: i32,
): void {
  const pad = k >> 1;
  const kxLo = max(0, pad - x);
  const kxHi = min(k, w + pad - x);
  const o = outRow + (<usize>x * <usize>cout << 2);
  const tapStride = <usize>cin * <usize>coPad << 2;
  for (let co = coStart; co < cout; co += 4) {
    const lanes = min(4, cout - co);
    let acc: v128;
    if (accumulate) acc = loadLanes(o + (<usize>co << 2), lanes);
    else if (biasPtr != 0) acc = v128.load(biasPtr + (<usize>co << 2));
    else acc = f32x4.splat(0);
    for (let ky = kyLo; ky < kyHi; ky++) {
      const inRow = inPtr + (<usize>(y + ky - pad) * <usize>w * <usize>cin << 2);
      for (let kx = kxLo; kx < kxHi; kx++) {
        let ip = inRow + (<usize>(x + kx - pad) * <usize>cin << 2);
        let wp = weightPtr + <usize>(ky * k + kx) * tapStride + (<usize>co << 2);
        for (let ci = 0; ci < cin; ci++) {
          acc = madd(v128.load32_splat(ip), v128.load(wp), acc);
          ip += 4;
          wp += <usize>coPad << 2;
        }
      }
    }
    storeLanes(o + (<usize>co << 2), activate(acc, act, actParamPtr, co, coPad), lanes);
  }
}
