// SPDX-License-Identifier: MIT
// Pixel-shuffle backward = space-to-depth: dOut [h·r, w·r, c] → dIn [h, w, c·r²], the exact inverse
// permutation of assembly/kernels/pixel_shuffle.ts (same two channel orders). Computes dIn rows [y0, y1).
import { ORDER_TF } from "../pixel_shuffle";
import { GRAD_ACCUMULATE } from "./conv2d_grad";

// flags bit 0 (GRAD_ACCUMULATE): add into dIn instead of overwriting it.
export function pixel_shuffle_grad_f32(dOutPtr: usize, h: i32, w: i32, c: i32, r: i32, order: i32, dInPtr: usize, y0: i32, y1: i32, flags: i32): i32 {
  const accumulate = (flags & GRAD_ACCUMULATE) != 0;
  const cin = c * r * r;
  const ow = w * r;
  const rr = r * r;
  for (let iy = y0; iy < y1; iy++) {
    for (let ix = 0; ix < w; ix++) {
      const dst = dInPtr + ((<usize>iy * <usize>w + <usize>ix) * <usize>cin << 2);
      for (let dy = 0; dy < r; dy++) {
        for (let dx = 0; dx < r; dx++) {
          const src = dOutPtr + ((<usize>(iy * r + dy) * <usize>ow + <usize>(ix * r + dx)) * <usize>c << 2);
          if (order == ORDER_TF) {
            // (dy, dx) block of c channels is contiguous in dIn.
            const d = dst + (<usize>((dy * r + dx) * c) << 2);
            if (!accumulate) { memory.copy(d, src, <usize>c << 2); continue; }
            let k = 0;
            for (; k + 4 <= c; k += 4) {
              const o = <usize>k << 2;
              v128.store(d + o, f32x4.add(v128.load(d + o), v128.load(src + o)));
            }
            for (; k < c; k++) {
              const o = <usize>k << 2;
              store<f32>(d + o, load<f32>(d + o) + load<f32>(src + o));
            }
          } else {
            const off = dy * r + dx;
            for (let k = 0; k < c; k++) {
              const d = dst + (<usize>(k * rr + off) << 2);
              const v = load<f32>(src + (<usize>k << 2));
              store<f32>(d, accumulate ? load<f32>(d) + v : v);
            }
          }
        }
      }
    }
  }
  return 0;
}
