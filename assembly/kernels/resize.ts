// SPDX-License-Identifier: MIT
// Separable resampling of NHWC f32 images with MATLAB `imresize` semantics: half-pixel centres,
// symmetric (mirror) edge extension, kernels widened by 1/s when shrinking (antialias, except nearest),
// weights normalised to sum 1, rows (height) resized first and float intermediates between the passes.
// RESIZE_CUBIC is the other common bicubic (OpenCV, ncnn, ONNX's default): Keys a = −0.75, never
// antialiased, edges clamped (the border pixel repeats) instead of mirrored.
//
// Scale is a ratio up/down of coprime integers (the op uses up = scale or down = factor). Output index o
// samples u = (o + 0.5)·down/up − 0.5; because u(o + up) = u(o) + down, the taps repeat with period `up`:
// phase r = o mod up has one fixed first-tap offset and T weights, computed here into scratch from
// integers only (no float floor), so the TS reference in src/ops/resize.ts gets the same taps.
//
// Scratch: one slot per output row, [table | row buffer]. A band [y0, y1) uses the slot of y0 only, so
// bands that run at once on other threads never share a byte, and every output element is the same
// sum in the same order whatever the banding: bands are bit-identical to the whole.
// Vector width: the vertical pass runs f32x4 along the row (w·c contiguous floats); the horizontal pass
// does 4 channels per f32x4 with a masked store for the tail. Loads may read up to 12 bytes past a row
// (lanes then dropped), which the planner's slack and the slot padding cover.
import { madd, storeLanes } from "../util/simd";

export const RESIZE_NEAREST: i32 = 0;
export const RESIZE_BILINEAR: i32 = 1;
export const RESIZE_BICUBIC: i32 = 2;
export const RESIZE_BOX: i32 = 3;
export const RESIZE_CUBIC: i32 = 4;

// Kernel width × 2 (so it is an integer): box 1, triangle 2, Keys cubic 4.
@inline function width2(method: i32): i32 {
  return method == RESIZE_BICUBIC || method == RESIZE_CUBIC ? 4 : method == RESIZE_BILINEAR ? 2 : 1;
}

// MATLAB's kernels. Box is half-open [−0.5, 0.5), so a sample on a boundary belongs to the right cell.
function kernelAt(method: i32, t: f64): f64 {
  if (method == RESIZE_BICUBIC || method == RESIZE_CUBIC) {
    // Keys: (a + 2)x³ − (a + 3)x² + 1 on [0, 1], a·x³ − 5a·x² + 8a·x − 4a on (1, 2].
    const a = method == RESIZE_BICUBIC ? -0.5 : -0.75;
    const x = Math.abs(t), x2 = x * x, x3 = x2 * x;
    if (x <= 1) return (a + 2) * x3 - (a + 3) * x2 + 1;
    if (x <= 2) return a * x3 - 5 * a * x2 + 8 * a * x - 4 * a;
    return 0;
  }
  if (method == RESIZE_BILINEAR) {
    const x = Math.abs(t);
    return x <= 1 ? 1 - x : 0;
  }
  return t >= -0.5 && t < 0.5 ? 1 : 0;
}

@inline function antialiased(method: i32, up: i32, down: i32): bool {
  return down > up && method != RESIZE_NEAREST && method != RESIZE_CUBIC;
}

// Taps per output sample: ⌈kernel width⌉ in input pixels (width × down/up when antialiased).
@inline function tapCount(method: i32, up: i32, down: i32): i32 {
  const kw2Up = width2(method) * (antialiased(method, up, down) ? down : up);
  return (kw2Up + up - 1) / up;
}

@inline function floorDiv(a: i32, b: i32): i32 {
  const q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

// Index i folded into [0, n): MATLAB's symmetric extension, …, 1, 0 | 0, 1, …, n−1 | n−1, n−2, …, or
// for RESIZE_CUBIC clamped, …, 0, 0 | 0, 1, …, n−1 | n−1, n−1, …
@inline function edge(i: i32, n: i32, method: i32): i32 {
  if (method == RESIZE_CUBIC) return min(max(i, 0), n - 1);
  const p = n << 1;
  let m = i % p;
  if (m < 0) m += p;
  return m < n ? m : p - 1 - m;
}

// Floats of the phase table: up phases × [first-tap offset (i32), T weights], rounded up to 4.
@inline function tableFloats(method: i32, up: i32, down: i32): i32 {
  return (up * (1 + tapCount(method, up, down)) + 3) & ~3;
}

// Fills the phase table at tablePtr. Taps are the input indices in (u − kw/2, u + kw/2]; with
// N = 2·up·(u − ind) an integer, t = N / (2·up), or N / (2·down) when antialiased (the kernel stretched
// by down/up). MATLAB's extra factor s on the stretched kernel cancels in the normalisation.
function fillTable(tablePtr: usize, method: i32, up: i32, down: i32, taps: i32): void {
  const aa = antialiased(method, up, down);
  const kw2Up = width2(method) * (aa ? down : up);
  const den = <f64>(2 * (aa ? down : up));
  for (let r = 0; r < up; r++) {
    const centre2Up = (2 * r + 1) * down - up;          // 2·up·u for output r
    const first = floorDiv(centre2Up - kw2Up, 2 * up) + 1;
    const ph = tablePtr + (<usize>(r * (1 + taps)) << 2);
    store<i32>(ph, first);
    let sum: f64 = 0;
    for (let j = 0; j < taps; j++) sum += kernelAt(method, <f64>(centre2Up - 2 * up * (first + j)) / den);
    for (let j = 0; j < taps; j++) {
      const w = kernelAt(method, <f64>(centre2Up - 2 * up * (first + j)) / den) / sum;
      store<f32>(ph + (<usize>(1 + j) << 2), <f32>w);
    }
  }
}

// Resizes [inH, inW, c] → [outH, outW, c], output rows [y0, y1). scratchPtr holds outH slots of
// tableFloats + ⌈inW·c⌉₄ floats (mirrored by resizeScratchBytes in src/ops/resize.ts).
// Returns 0, or 1 when the arguments are out of range.
export function resize_f32(
  inPtr: usize, inH: i32, inW: i32, c: i32,
  outPtr: usize, outH: i32, outW: i32,
  method: i32, up: i32, down: i32,
  scratchPtr: usize, y0: i32, y1: i32,
): i32 {
  if (up < 1 || down < 1 || c < 1 || inH < 1 || inW < 1 || method < 0 || method > RESIZE_CUBIC) return 1;
  if (y0 < 0 || y1 > outH || y0 >= y1) return y0 == y1 ? 0 : 1;
  const taps = tapCount(method, up, down);
  const tf = tableFloats(method, up, down);
  const rowLen = inW * c;
  const slotBytes = <usize>(tf + ((rowLen + 3) & ~3)) << 2;
  const tablePtr = scratchPtr + <usize>y0 * slotBytes;
  const bufPtr = tablePtr + (<usize>tf << 2);
  fillTable(tablePtr, method, up, down, taps);
  const phaseStride = <usize>(1 + taps) << 2;
  const inRowBytes = <usize>rowLen << 2;
  const outRowBytes = <usize>outW * <usize>c << 2;

  for (let y = y0; y < y1; y++) {
    // Vertical pass: the row buffer is Σ_j w_j · in[row_j], f32x4 along the whole row.
    const q = y / up;
    const ph = tablePtr + <usize>(y - q * up) * phaseStride;
    const first = load<i32>(ph) + q * down;
    for (let j = 0; j < taps; j++) {
      const wv = v128.load32_splat(ph + (<usize>(1 + j) << 2));
      const src = inPtr + <usize>edge(first + j, inH, method) * inRowBytes;
      if (j == 0) {
        for (let i = 0; i < rowLen; i += 4) {
          const off = <usize>i << 2;
          v128.store(bufPtr + off, f32x4.mul(v128.load(src + off), wv));
        }
      } else {
        for (let i = 0; i < rowLen; i += 4) {
          const off = <usize>i << 2;
          v128.store(bufPtr + off, madd(v128.load(src + off), wv, v128.load(bufPtr + off)));
        }
      }
    }
    horizontalPass(bufPtr, inW, c, outPtr + <usize>y * outRowBytes, outW, tablePtr, taps, up, down, method);
  }
  return 0;
}

// out[o] = Σ_j w_j · buf[col_j] for one row, phase by phase: the outputs o = q·up + r of phase r share
// their weights (held in registers for the common 1, 2 and 4 taps) and step by down input pixels.
// Outputs whose taps all lie inside [0, inW) run branch-free; the few at the edges fold their taps.
// Each element is the same sequence (tap 0 multiplied, later taps fused in order) on every path.
function horizontalPass(bufPtr: usize, inW: i32, c: i32, outRow: usize, outW: i32, tablePtr: usize, taps: i32, up: i32, down: i32, method: i32): void {
  const pixBytes = <usize>c << 2;
  const phaseStride = <usize>(1 + taps) << 2;
  for (let r = 0; r < up && r < outW; r++) {
    const hp = tablePtr + <usize>r * phaseStride;
    const f0 = load<i32>(hp);
    const nq = (outW - r + up - 1) / up;
    const qLo = min(nq, f0 >= 0 ? 0 : (down - 1 - f0) / down);
    const qHi = max(qLo, min(nq, floorDiv(inW - taps - f0, down) + 1));
    for (let q = 0; q < qLo; q++) edgePixel(bufPtr, inW, c, outRow, hp, taps, q * up + r, f0 + q * down, method);
    for (let q = qHi; q < nq; q++) edgePixel(bufPtr, inW, c, outRow, hp, taps, q * up + r, f0 + q * down, method);
    let dst = outRow + <usize>(qLo * up + r) * pixBytes;
    let src = bufPtr + <usize>(f0 + qLo * down) * pixBytes;
    const outStep = <usize>up * pixBytes;
    const inStep = <usize>down * pixBytes;
    let q = qLo;
    if (c == 1 && down == 1) {
      // One channel, enlarging: 4 consecutive outputs of this phase read 4 consecutive inputs per tap.
      const outStep1 = <usize>up << 2;
      for (; q + 4 <= qHi; q += 4) {
        let acc = f32x4.mul(v128.load(src), v128.load32_splat(hp, 4));
        for (let j = 1; j < taps; j++) acc = madd(v128.load(src + (<usize>j << 2)), v128.load32_splat(hp + (<usize>(1 + j) << 2)), acc);
        store<f32>(dst, f32x4.extract_lane(acc, 0));
        store<f32>(dst + outStep1, f32x4.extract_lane(acc, 1));
        store<f32>(dst + 2 * outStep1, f32x4.extract_lane(acc, 2));
        store<f32>(dst + 3 * outStep1, f32x4.extract_lane(acc, 3));
        dst += 4 * outStep1;
        src += 16;
      }
    }
    if (taps == 4) {
      const w0 = v128.load32_splat(hp, 4), w1 = v128.load32_splat(hp, 8), w2 = v128.load32_splat(hp, 12), w3 = v128.load32_splat(hp, 16);
      for (; q < qHi; q++) {
        for (let cg = 0; cg < c; cg += 4) {
          const sp = src + (<usize>cg << 2);
          let acc = f32x4.mul(v128.load(sp), w0);
          acc = madd(v128.load(sp + pixBytes), w1, acc);
          acc = madd(v128.load(sp + 2 * pixBytes), w2, acc);
          acc = madd(v128.load(sp + 3 * pixBytes), w3, acc);
          storeLanes(dst + (<usize>cg << 2), acc, min(4, c - cg));
        }
        dst += outStep;
        src += inStep;
      }
    } else if (taps == 2) {
      const w0 = v128.load32_splat(hp, 4), w1 = v128.load32_splat(hp, 8);
      for (; q < qHi; q++) {
        for (let cg = 0; cg < c; cg += 4) {
          const sp = src + (<usize>cg << 2);
          storeLanes(dst + (<usize>cg << 2), madd(v128.load(sp + pixBytes), w1, f32x4.mul(v128.load(sp), w0)), min(4, c - cg));
        }
        dst += outStep;
        src += inStep;
      }
    } else {
      for (; q < qHi; q++) {
        for (let cg = 0; cg < c; cg += 4) {
          let sp = src + (<usize>cg << 2);
          let acc = f32x4.mul(v128.load(sp), v128.load32_splat(hp, 4));
          for (let j = 1; j < taps; j++) {
            sp += pixBytes;
            acc = madd(v128.load(sp), v128.load32_splat(hp + (<usize>(1 + j) << 2)), acc);
          }
          storeLanes(dst + (<usize>cg << 2), acc, min(4, c - cg));
        }
        dst += outStep;
        src += inStep;
      }
    }
  }
}

// One output pixel o whose taps (from input f) reach past an edge: each tap folded by edge().
function edgePixel(bufPtr: usize, inW: i32, c: i32, outRow: usize, hp: usize, taps: i32, o: i32, f: i32, method: i32): void {
  const pixBytes = <usize>c << 2;
  for (let cg = 0; cg < c; cg += 4) {
    const cOff = <usize>cg << 2;
    let acc = f32x4.mul(v128.load(bufPtr + <usize>edge(f, inW, method) * pixBytes + cOff), v128.load32_splat(hp, 4));
    for (let j = 1; j < taps; j++) {
      acc = madd(v128.load(bufPtr + <usize>edge(f + j, inW, method) * pixBytes + cOff), v128.load32_splat(hp + (<usize>(1 + j) << 2)), acc);
    }
    storeLanes(outRow + <usize>o * pixBytes + cOff, acc, min(4, c - cg));
  }
}
