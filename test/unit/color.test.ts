// sRGB transfer kernels and 8-bit ↔ f32 conversions: against the float64 TypeScript reference and
// against hand-computed IEC 61966-2-1 values.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { Engine } from "../../src/runtime/engine.js";
import { srgbToLinear, linearToSrgb } from "../../src/image/resample.js";
import { assertClose, firstMismatch } from "../helpers.js";

const test = suite("sRGB");
const engine = await Engine.create({ memoryLimit: 32 << 20, wasmVariant: "simd" });
const k = engine.kernels;

/** Runs one pixel kernel over `values` (channels per pixel, the first `colour` coded) and returns the result. */
function run(kernel: "srgb_to_linear_f32" | "linear_to_srgb_f32", values: ArrayLike<number>, channels = 1, colour = channels): Float32Array {
  const lease = engine.pool.lease(values.length * 4 + 64);
  try {
    const v = engine.f32(lease.ptr, values.length);
    v.set(values);
    k[kernel](lease.ptr, lease.ptr, 0, values.length / channels, channels, colour); // in place
    return v.slice();
  } finally {
    engine.pool.release(lease);
  }
}

test("hand-computed values of the exact piecewise curve (not a 2.2 power)", () => {
  // ((0.5 + 0.055) / 1.055)^2.4 and its inverse; 0.5^2.2 = 0.2176 would fail at this tolerance.
  assertClose(run("srgb_to_linear_f32", [0, 0.04045, 0.5, 1]), [0, 0.04045 / 12.92, 0.21404114048223255, 1], 1e-7, "to linear");
  assertClose(run("linear_to_srgb_f32", [0, 0.0031308, 0.5, 1, 0.18]), [0, 0.0031308 * 12.92, 0.7353569830524495, 1, 0.46135612950044164], 1e-7, "to sRGB");
  // The segments meet at the thresholds only up to the standard's rounded constants (gaps 2.3e-9, 2.9e-8).
  assert.ok(Math.abs(srgbToLinear(0.04045) - srgbToLinear(0.04045 + 1e-12)) < 5e-9);
  assert.ok(Math.abs(linearToSrgb(0.0031308) - linearToSrgb(0.0031308 + 1e-12)) < 5e-8);
});

test("kernels match the float64 reference across and beyond [0, 1]", () => {
  const xs = new Float32Array(4001).map((_, i) => -0.1 + (1.3 * i) / 4000);
  assertClose(run("srgb_to_linear_f32", xs), [...xs].map(srgbToLinear), 2e-7, "to linear");
  assertClose(run("linear_to_srgb_f32", xs), [...xs].map(linearToSrgb), 2e-7, "to sRGB");
});

test("only the first `colour` channels are coded; alpha is copied", () => {
  const px = [0.5, 0.5, 0.5, 0.5, 0.25, 0.75, 0.04, 0.3];
  const out = run("srgb_to_linear_f32", px, 4, 3);
  assertClose(out, [srgbToLinear(0.5), srgbToLinear(0.5), srgbToLinear(0.5), 0.5, srgbToLinear(0.25), srgbToLinear(0.75), srgbToLinear(0.04), Math.fround(0.3)], 1e-7);
  const back = run("linear_to_srgb_f32", out, 4, 3);
  assertClose(back, px, 1e-6, "round trip");
});

test("every byte survives u8 → f32 → linear → sRGB → u8", () => {
  const lease = engine.pool.lease(256 * 9 + 64);
  try {
    const u8 = engine.u8(lease.ptr, 256);
    for (let i = 0; i < 256; i++) u8[i] = i;
    const f = lease.ptr + 256;
    k.u8_to_f32(lease.ptr, f, 0, 256, 1 / 255);
    k.srgb_to_linear_f32(f, f, 0, 256, 1, 1);
    k.linear_to_srgb_f32(f, f, 0, 256, 1, 1);
    const out = lease.ptr + 256 + 1024;
    k.f32_to_u8(f, out, 0, 256, 255, 0);
    assert.equal([...engine.u8(out, 256)], [...u8]);
  } finally { engine.pool.release(lease); }
});

test("f32_to_u8 rounds half up (or ties to even) and saturates; NaN is 255", () => {
  const vals = [0.5, 1.4999, 1.5, 254.5, 254.49, -3, 300, NaN, -0.5, 0.49999, 2.5, 3.5, 2.5001];
  const lease = engine.pool.lease(64 * 5);
  try {
    engine.f32(lease.ptr, vals.length).set(vals);
    k.f32_to_u8(lease.ptr, lease.ptr + 128, 0, vals.length, 1, 0);
    assert.equal([...engine.u8(lease.ptr + 128, vals.length)], [1, 1, 2, 255, 254, 0, 255, 255, 0, 0, 3, 4, 3]);
    k.f32_to_u8(lease.ptr, lease.ptr + 128, 0, vals.length, 1, 1);
    assert.equal([...engine.u8(lease.ptr + 128, vals.length)], [0, 1, 2, 254, 254, 0, 255, 255, 0, 0, 2, 4, 3]);
    k.u8_to_f32(lease.ptr + 128, lease.ptr, 0, 4, 0.5); // bytes 0, 1, 2, 254
    assert.equal([...engine.f32(lease.ptr, 4)], [0, 0.5, 1, 127]);
  } finally { engine.pool.release(lease); }
});

test("a wrong curve would be caught (the comparison can fail)", () => {
  const xs = [0.1, 0.5, 0.9];
  const gamma22 = xs.map((x) => x ** 2.2);
  assert.ok(firstMismatch(run("srgb_to_linear_f32", xs), gamma22, 1e-3) >= 0);
});

test("pool returns to baseline", () => {
  assert.is(engine.pool.stats().currentBytes, 0);
});

test.run();
