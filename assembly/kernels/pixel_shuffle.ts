// SPDX-License-Identifier: MIT
// Depth-to-space. Input [h, w, c·r²] → output [h·r, w·r, c]. Two channel orders:
//   ORDER_TF    (TensorFlow, srgan-rust): input channel (dy·r + dx)·c + k  → each (dy,dx) block is a contiguous run of c
//   ORDER_TORCH (PyTorch PixelShuffle):   input channel k·r² + dy·r + dx   → strided gather
// Computes output rows [y0, y1).
export const ORDER_TF: i32 = 0;
export const ORDER_TORCH: i32 = 1;

export function pixel_shuffle_f32(inPtr: usize, h: i32, w: i32, c: i32, r: i32, order: i32, outPtr: usize, y0: i32, y1: i32): i32 {
  const cin = c * r * r;
  const ow = w * r;
  for (let oy = y0; oy < y1; oy++) {
    const iy = oy / r;
    const dy = oy - iy * r;
    const outRow = outPtr + (<usize>oy * <usize>ow * <usize>c << 2);
    for (let ox = 0; ox < ow; ox++) {
      const ix = ox / r;
      const dx = ox - ix * r;
      const src = inPtr + ((<usize>iy * <usize>w + <usize>ix) * <usize>cin << 2);
      const dst = outRow + (<usize>ox * <usize>c << 2);
      if (order == ORDER_TF) {
        memory.copy(dst, src + (<usize>((dy * r + dx) * c) << 2), <usize>c << 2);
      } else {
        const rr = r * r;
        const off = dy * r + dx;
        for (let k = 0; k < c; k++) store<f32>(dst + (<usize>k << 2), load<f32>(src + (<usize>(k * rr + off) << 2)));
      }
    }
  }
  return 0;
}
