// PSNR and SSIM on small hand-checkable images, plus an SSIM cross-check by direct 2-D weighted sums.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { psnr, ssim } from "../../src/metrics/quality.js";
import type { SrganError } from "../../src/errors.js";
import { rng } from "../helpers.js";

const test = suite("quality");

/** w×h RGBA image filled by f(x, y) → [r, g, b]; alpha 255. */
function img(w: number, h: number, f: (x: number, y: number) => number[]) {
  const data = new Uint8ClampedArray(w * h * 4);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.set([...f(x, y), 255], (y * w + x) * 4);
  return { data, width: w, height: h };
}
const flat = (w: number, h: number, v: number[]) => img(w, h, () => v);
const close = (a: number, b: number, tol = 1e-9, what = "") => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

test("PSNR: identical is Infinity; a uniform offset d gives 20·log10(255/d)", () => {
  const a = flat(6, 5, [10, 20, 30]);
  assert.is(psnr(a, a), Infinity);
  close(psnr(a, flat(6, 5, [13, 23, 33])), 20 * Math.log10(255 / 3), 1e-12, "rgb");
  // One channel of one pixel off by 12 among 3·30 samples: MSE = 144 / 90.
  const b = img(6, 5, (x, y) => (x === 2 && y === 1 ? [10, 32, 30] : [10, 20, 30]));
  close(psnr(a, b), 10 * Math.log10((255 * 255) / (144 / 90)), 1e-12, "one sample");
});

test("PSNR on BT.601 Y uses unrounded luma", () => {
  // Pure red vs black: ΔY = 65.481·255/255 = 65.481 exactly.
  close(psnr(flat(4, 4, [255, 0, 0]), flat(4, 4, [0, 0, 0]), { y: true }), 20 * Math.log10(255 / 65.481), 1e-12, "red");
  // A grey offset d moves Y by d·219/255 (not rounded to a whole level).
  close(psnr(flat(4, 4, [100, 100, 100]), flat(4, 4, [101, 101, 101]), { y: true }), 20 * Math.log10(255 / (219 / 255)), 1e-12, "grey");
});

test("shave drops the border on every side", () => {
  const a = flat(9, 8, [50, 60, 70]);
  const b = img(9, 8, (x, y) => (x < 2 || y < 2 || x > 6 || y > 5 ? [0, 0, 0] : [50, 60, 70]));
  assert.ok(Number.isFinite(psnr(a, b, { shave: 1 })));
  assert.is(psnr(a, b, { shave: 2 }), Infinity);
  assert.is(psnr(a, b, { shave: 2, y: true }), Infinity);
  assert.is(ssim(flat(15, 15, [1, 2, 3]), img(15, 15, (x, y) => (x < 2 || y < 2 || x > 12 || y > 12 ? [9, 9, 9] : [1, 2, 3])), { shave: 2 }), 1);
});

test("SSIM of flat images is (2ab + C1)/(a² + b² + C1); identical images give 1", () => {
  const C1 = (0.01 * 255) ** 2;
  const r = (a: number, b: number) => (2 * a * b + C1) / (a * a + b * b + C1);
  close(ssim(flat(12, 11, [100, 100, 100]), flat(12, 11, [110, 110, 110])), r(100, 110), 1e-12, "grey");
  close(ssim(flat(11, 11, [100, 50, 0]), flat(11, 11, [110, 50, 20])), (r(100, 110) + 1 + r(0, 20)) / 3, 1e-12, "rgb mean");
  const yA = 16 + (65.481 * 100 + 128.553 * 50) / 255, yB = 16 + (65.481 * 110 + 128.553 * 50 + 24.966 * 20) / 255;
  close(ssim(flat(11, 11, [100, 50, 0]), flat(11, 11, [110, 50, 20]), { y: true }), r(yA, yB), 1e-12, "y");
  const rand = rng(4);
  const n = img(20, 17, () => [rand() * 255, rand() * 255, rand() * 255]);
  close(ssim(n, n), 1, 1e-12, "identical");
});

test("SSIM matches a direct 2-D Gaussian-weighted evaluation at every window position", () => {
  const rand = rng(8);
  const w = 14, h = 12;
  const a = img(w, h, () => [rand() * 255, rand() * 255, rand() * 255]);
  const b = img(w, h, (x, y) => { const i = (y * w + x) * 4; return [0, 1, 2].map((k) => a.data[i + k] + (rand() - 0.5) * 60); });
  const g: number[] = [];
  for (let i = -5; i <= 5; i++) g.push(Math.exp(-(i * i) / 4.5));
  let gs = 0;
  for (const p of g) for (const q of g) gs += p * q;
  const C1 = 6.5025, C2 = 58.5225;
  let total = 0;
  for (let k = 0; k < 3; k++) {
    let sum = 0, count = 0;
    for (let y0 = 0; y0 + 11 <= h; y0++) for (let x0 = 0; x0 + 11 <= w; x0++) {
      let ma = 0, mb = 0, aa = 0, bb = 0, ab = 0;
      for (let dy = 0; dy < 11; dy++) for (let dx = 0; dx < 11; dx++) {
        const wt = (g[dy] * g[dx]) / gs, i = ((y0 + dy) * w + x0 + dx) * 4 + k;
        const p = a.data[i], q = b.data[i];
        ma += wt * p; mb += wt * q; aa += wt * p * p; bb += wt * q * q; ab += wt * p * q;
      }
      sum += ((2 * ma * mb + C1) * (2 * (ab - ma * mb) + C2)) / ((ma * ma + mb * mb + C1) * (aa - ma * ma + bb - mb * mb + C2));
      count++;
    }
    total += sum / count;
  }
  close(ssim(a, b), total / 3, 1e-9, "direct");
  assert.ok(ssim(a, b) < 0.99, "noise must lower SSIM"); // the metric can fail
});

test("sizes must match; the error names both sizes", () => {
  try {
    psnr(flat(4, 4, [0, 0, 0]), flat(4, 5, [0, 0, 0]));
    assert.unreachable("no error");
  } catch (e) {
    assert.is((e as SrganError).code, "ERR_INVALID_INPUT");
    assert.match((e as Error).message, /4×4.*4×5/);
  }
  assert.throws(() => ssim(flat(12, 12, [0, 0, 0]), flat(12, 12, [0, 0, 0]), { shave: 1 }), (e: SrganError) => e.code === "ERR_INVALID_INPUT" && /11×11/.test(e.message));
  assert.throws(() => psnr(flat(4, 4, [0, 0, 0]), flat(4, 4, [0, 0, 0]), { shave: 2 }), (e: SrganError) => e.code === "ERR_INVALID_INPUT");
  assert.throws(() => psnr(flat(4, 4, [0, 0, 0]), flat(4, 4, [0, 0, 0]), { shave: -1 }), RangeError);
});

test.run();
