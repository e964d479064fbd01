// SPDX-License-Identifier: MIT
// Whole-image statistics and small dense layers for global pathways (srgan-rust's global nodes).

// out[c] = mean over all pixels of in[·, ·, c]. Each row is summed in f64, then rows are added in order
// (accPtr: 2·c f64 of scratch), so the result is one fixed sum whatever thread runs it.
export function channel_mean_f32(inPtr: usize, h: i32, w: i32, c: i32, accPtr: usize, outPtr: usize): i32 {
  sumWindow(inPtr, w, c, 0, 0, w, h, accPtr);
  const n = <f64>h * <f64>w;
  for (let k = 0; k < c; k++) store<f32>(outPtr + (<usize>k << 2), <f32>(load<f64>(accPtr + (<usize>k << 3)) / n));
  return 0;
}

// sums[c] (f64) = Σ of in[y, x, c] over the window [x0, x1) × [y0, y1) of a w-wide tensor, summed as
// channel_mean_f32 sums: a tile's share of a whole-image statistic (accPtr: 2·c f64, sums its first c).
export function channel_sum_f32(inPtr: usize, w: i32, c: i32, x0: i32, y0: i32, x1: i32, y1: i32, accPtr: usize): i32 {
  sumWindow(inPtr, w, c, x0, y0, x1, y1, accPtr);
  return 0;
}

@inline function sumWindow(inPtr: usize, w: i32, c: i32, x0: i32, y0: i32, x1: i32, y1: i32, accPtr: usize): void {
  const rowAcc = accPtr + (<usize>c << 3);
  for (let k = 0; k < c; k++) store<f64>(accPtr + (<usize>k << 3), 0);
  for (let y = y0; y < y1; y++) {
    for (let k = 0; k < c; k++) store<f64>(rowAcc + (<usize>k << 3), 0);
    const row = inPtr + (<usize>y * <usize>w * <usize>c << 2);
    for (let x = x0; x < x1; x++) {
      const px = row + (<usize>x * <usize>c << 2);
      for (let k = 0; k < c; k++) {
        const d = rowAcc + (<usize>k << 3);
        store<f64>(d, load<f64>(d) + <f64>load<f32>(px + (<usize>k << 2)));
      }
    }
    for (let k = 0; k < c; k++) {
      const d = accPtr + (<usize>k << 3);
      store<f64>(d, load<f64>(d) + load<f64>(rowAcc + (<usize>k << 3)));
    }
  }
}

// out[n] = start[n] + Σ_k in[k] · W[k, n]; W is [kLen, nLen] row-major (input-major, as alumina's Linear).
// mode 0: start = 0; 1: start = out (accumulate); 2: start = bias.
export function dense_f32(inPtr: usize, kLen: i32, weightPtr: usize, nLen: i32, outPtr: usize, mode: i32, biasPtr: usize): i32 {
  for (let n = 0; n < nLen; n++) {
    let s: f32 = mode == 1 ? load<f32>(outPtr + (<usize>n << 2)) : mode == 2 ? load<f32>(biasPtr + (<usize>n << 2)) : 0;
    for (let k = 0; k < kLen; k++) {
      s += load<f32>(inPtr + (<usize>k << 2)) * load<f32>(weightPtr + ((<usize>k * <usize>nLen + <usize>n) << 2));
    }
    store<f32>(outPtr + (<usize>n << 2), s);
  }
  return 0;
}
