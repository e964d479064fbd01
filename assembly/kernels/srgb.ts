// SPDX-License-Identifier: MIT
// Sample encodings for image-space work (downscaling, metrics): 8-bit ↔ f32 with a scale, and the sRGB
// transfer function (IEC 61966-2-1, the exact piecewise curve, not a 2.2 power) in both directions.
// Interleaved layout: `channels` per pixel, of which the first `colour` are sRGB-coded; the rest (alpha)
// are linear already and only copied. Scalar: pow dominates, and these run once per image, not per layer.

// out[i] = in[i] · scale for bytes [i0, i1).
export function u8_to_f32(inPtr: usize, outPtr: usize, i0: i32, i1: i32, scale: f32): i32 {
  for (let i = i0; i < i1; i++) store<f32>(outPtr + (<usize>i << 2), <f32>load<u8>(inPtr + <usize>i) * scale);
  return 0;
}

// out[i] = in[i] · scale rounded to a byte for [i0, i1), saturating; NaN → 255 (as f32_to_rgba8 and
// srgan-rust's save do). Ties go up (⌊x + 0.5⌋), or to even when tiesEven != 0: block means of bytes
// hit exact .5 ties systematically (1 sample in 16 for 4×4 blocks) and rounding them all up biases the
// image by +1/32 level; ties-to-even (wasm's f32.nearest) does not.
export function f32_to_u8(inPtr: usize, outPtr: usize, i0: i32, i1: i32, scale: f32, tiesEven: i32): i32 {
  for (let i = i0; i < i1; i++) {
    const v = load<f32>(inPtr + (<usize>i << 2)) * scale;
    const s = tiesEven != 0 ? nearest<f32>(v) : floor<f32>(v + 0.5);
    let b: u8;
    if (!(s >= 0)) b = s != s ? 255 : 0;
    else if (s >= 255) b = 255;
    else b = <u8>(<i32>s);
    store<u8>(outPtr + <usize>i, b);
  }
  return 0;
}

// sRGB-coded 0..1 → linear light. Computed in f64 so the f32 result is the correctly rounded curve.
@inline function toLinear(v: f64): f64 {
  return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
}

// Linear light → sRGB-coded 0..1. Values ≤ 0 stay on the linear segment (no NaN from pow).
@inline function toSrgb(v: f64): f64 {
  return v <= 0.0031308 ? v * 12.92 : 1.055 * Math.pow(v, 1.0 / 2.4) - 0.055;
}

// Pixels [p0, p1): channels [0, colour) go through the curve, channels [colour, channels) are copied.
// in may equal out.
export function srgb_to_linear_f32(inPtr: usize, outPtr: usize, p0: i32, p1: i32, channels: i32, colour: i32): i32 {
  for (let p = p0; p < p1; p++) {
    const base = <usize>p * <usize>channels << 2;
    for (let k = 0; k < channels; k++) {
      const off = base + (<usize>k << 2);
      const v = load<f32>(inPtr + off);
      store<f32>(outPtr + off, k < colour ? <f32>toLinear(<f64>v) : v);
    }
  }
  return 0;
}

export function linear_to_srgb_f32(inPtr: usize, outPtr: usize, p0: i32, p1: i32, channels: i32, colour: i32): i32 {
  for (let p = p0; p < p1; p++) {
    const base = <usize>p * <usize>channels << 2;
    for (let k = 0; k < channels; k++) {
      const off = base + (<usize>k << 2);
      const v = load<f32>(inPtr + off);
      store<f32>(outPtr + off, k < colour ? <f32>toSrgb(<f64>v) : v);
    }
  }
  return 0;
}
