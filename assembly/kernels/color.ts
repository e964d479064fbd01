// SPDX-License-Identifier: MIT
// u8 RGBA ↔ f32 planes. Values are sRGB-coded 0..1 (x = byte / 255, no linearisation), as networks expect.

// RGBA8 pixels [p0, p1) → rgb [p][3] f32, and alpha [p] f32 when alphaPtr != 0.
export function rgba8_to_f32(rgbaPtr: usize, rgbPtr: usize, alphaPtr: usize, p0: i32, p1: i32): i32 {
  const inv: f32 = 1.0 / 255.0;
  for (let p = p0; p < p1; p++) {
    const s = rgbaPtr + (<usize>p << 2);
    const d = rgbPtr + (<usize>p * 12);
    store<f32>(d, <f32>load<u8>(s) * inv);
    store<f32>(d, <f32>load<u8>(s, 1) * inv, 4);
    store<f32>(d, <f32>load<u8>(s, 2) * inv, 8);
    if (alphaPtr != 0) store<f32>(alphaPtr + (<usize>p << 2), <f32>load<u8>(s, 3) * inv);
  }
  return 0;
}

// byte = ⌊clamp(255·v + 0.5, 0, 255)⌋ (round half up, saturating, as srgan-rust's save).
@inline function toByte(v: f32): u8 {
  const s = v * 255.0 + 0.5;
  // NaN compares false both ways and saturates high, as Rust's `as u8` after clamp would.
  if (!(s >= 0)) return s != s ? 255 : 0;
  if (s >= 255) return 255;
  return <u8>(<i32>s);
}

// rgb [p][3] (+ alpha [p], or opaque when alphaPtr == 0) → RGBA8 for pixels [p0, p1).
export function f32_to_rgba8(rgbPtr: usize, alphaPtr: usize, rgbaPtr: usize, p0: i32, p1: i32): i32 {
  for (let p = p0; p < p1; p++) {
    const s = rgbPtr + (<usize>p * 12);
    const d = rgbaPtr + (<usize>p << 2);
    store<u8>(d, toByte(load<f32>(s)));
    store<u8>(d, toByte(load<f32>(s, 4)), 1);
    store<u8>(d, toByte(load<f32>(s, 8)), 2);
    store<u8>(d, alphaPtr != 0 ? toByte(load<f32>(alphaPtr + (<usize>p << 2))) : 255, 3);
  }
  return 0;
}
