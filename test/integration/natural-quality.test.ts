// The shipped default network (models/natural-x4.srnet, trained by `srgan train`): its Set5/Set14 ×4
// PSNR-Y on the standard protocol must stay at the values recorded in docs/models.md (±0.02 dB), and
// it must beat bicubic, srgan-rust's natural.rsr (30.28 / 27.69) and every UpscalerJS network.
import { readdirSync, readFileSync } from "node:fs";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createUpscaler } from "../../src/api/upscaler.js";
import { DEFAULT_MODEL } from "../../src/model/builtin.js";
import { decodeImage } from "../../src/image/codec.js";
import { evaluate } from "../../src/metrics/evaluate.js";
import { haveShared, SHARED } from "../helpers.js";

const test = suite("natural network");
const RECORDED = { Set5: 30.527, Set14: 27.593 };

test("natural is the default and is a small fully convolutional network (tiles are exact)", async () => {
  assert.is(DEFAULT_MODEL, "natural");
  const up = await createUpscaler({ threads: 0 });
  const info = up.info();
  assert.is(info.model, "natural");
  assert.is(info.scale, 4);
  assert.ok(info.parameters > 50_000 && info.parameters < 250_000);
  assert.ok(Number.isFinite(info.receptiveRadius));
  await up.dispose();
});

if (haveShared("shipped natural network PSNR on Set5/Set14")) {
  for (const set of ["Set5", "Set14"] as const) {
    test(`${set} ×4 PSNR-Y ${RECORDED[set]} dB (±0.02), recorded in docs/models.md`, async () => {
      const dir = `${SHARED}data/eval/${set}`;
      const images = readdirSync(dir).filter((f) => f.endsWith(".png")).sort().map((f) => decodeImage(new Uint8Array(readFileSync(`${dir}/${f}`))));
      const up = await createUpscaler({ model: "natural", threads: 2 });
      try {
        const r = await evaluate(up, images);
        assert.ok(Math.abs(r.psnrY - RECORDED[set]) <= 0.02, `${set}: ${r.psnrY.toFixed(3)} dB, recorded ${RECORDED[set]}`);
      } finally {
        await up.dispose();
      }
    });
  }
}

test.run();
