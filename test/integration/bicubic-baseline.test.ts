// The classic SR baseline end to end on Set5 / Set14: HR cropped to a multiple of 4, LR made by
// downscale() (antialiased MATLAB bicubic, or a box mean), SR by the built-in resize models through
// the public upscaler, PSNR with a 4-pixel shave. The published numbers pin down every convention at
// once (edge mode, pass order, antialiasing, rounding): a slip in any of them moves the mean by tenths.
import { readdirSync, readFileSync } from "node:fs";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createUpscaler, type Upscaler } from "../../src/api/upscaler.js";
import { decodeImage } from "../../src/image/codec.js";
import type { DownscaleMethod } from "../../src/image/resample.js";
import { evaluate } from "../../src/metrics/evaluate.js";
import { haveShared, SHARED } from "../helpers.js";

const test = suite("bicubic baseline");

// Targets: ../shared/README.md (bicubic ×4, Y) and ../shared/docs/srgan-rust-rsr.md §8 (RGB / Y).
const CASES: { set: string; lr: DownscaleMethod; model: "bicubic" | "bilinear"; rgb: number; y: number }[] = [
  { set: "Set5", lr: "bicubic", model: "bicubic", rgb: 26.70, y: 28.43 },
  { set: "Set14", lr: "bicubic", model: "bicubic", rgb: NaN, y: 26.09 },
  { set: "Set5", lr: "bicubic", model: "bilinear", rgb: 25.84, y: 27.56 },
  { set: "Set14", lr: "box", model: "bicubic", rgb: 24.48, y: 26.10 },
];
const TOL = 0.01;

if (haveShared("Set5/Set14 bicubic ×4 PSNR baseline")) {
  const ups = new Map<string, Upscaler>();
  const upscaler = async (model: string) => {
    if (!ups.has(model)) ups.set(model, await createUpscaler({ model, threads: 0 }));
    return ups.get(model)!;
  };
  const images = new Map<string, ReturnType<typeof decodeImage>[]>();
  const load = (set: string) => {
    if (!images.has(set)) {
      const dir = `${SHARED}data/eval/${set}`;
      images.set(set, readdirSync(dir).filter((f) => f.endsWith(".png")).sort().map((f) => decodeImage(new Uint8Array(readFileSync(`${dir}/${f}`)))));
    }
    return images.get(set)!;
  };

  for (const c of CASES) {
    test(`${c.set}: LR ${c.lr}, SR ${c.model} ×4 → PSNR ${Number.isNaN(c.rgb) ? "" : `RGB ${c.rgb} / `}Y ${c.y} dB (±${TOL})`, async () => {
      const up = await upscaler(c.model);
      const hrs = load(c.set);
      assert.is(hrs.length, c.set === "Set5" ? 5 : 14, "image count");
      const r = await evaluate(up, hrs, { lr: c.lr });
      const rgb = r.psnrRgb, y = r.psnrY;
      const got = `RGB ${rgb.toFixed(3)} / Y ${y.toFixed(3)}`;
      if (!Number.isNaN(c.rgb)) assert.ok(Math.abs(rgb - c.rgb) <= TOL, `RGB: ${got}, expected ${c.rgb}`);
      assert.ok(Math.abs(y - c.y) <= TOL, `Y: ${got}, expected ${c.y}`);
    });
  }

  test("evaluate's compress step sees each LR image and its output is what gets upscaled", async () => {
    const up = await upscaler("bicubic"), hrs = load("Set5");
    const seen: string[] = [];
    const plain = await evaluate(up, hrs);
    const same = await evaluate(up, hrs, { compress: (lr) => { seen.push(`${lr.width}×${lr.height}`); return lr; } });
    assert.equal(seen, hrs.map((h) => `${Math.floor(h.width / 4)}×${Math.floor(h.height / 4)}`));
    assert.is(same.psnrY, plain.psnrY);
    const flat = await evaluate(up, hrs, { compress: (lr) => ({ ...lr, data: new Uint8ClampedArray(lr.data.length).fill(128) }) });
    assert.ok(flat.psnrY < plain.psnrY - 5, `a grey LR scores far lower: ${flat.psnrY.toFixed(2)} vs ${plain.psnrY.toFixed(2)}`);
  });

  test("dispose the upscalers", async () => {
    for (const u of ups.values()) await u.dispose();
  });
}

test.run();
