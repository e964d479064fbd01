// The shipped networks (models/natural-x4.srnet and natural-fast-x4.srnet, trained by `srgan train`):
// their Set5/Set14 ×4 PSNR-Y on the standard protocol must stay at the values recorded in
// docs/models.md (±0.02 dB). Those values beat bicubic, srgan-rust's natural.rsr (30.28 / 27.69) and
// every UpscalerJS network; `natural` must also clear the gate (30.8 / 27.7). The Winograd
// and direct 3×3 kernels must agree within 0.005 dB (measured: a few 1e-6 dB).
import { readdirSync, readFileSync } from "node:fs";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createUpscaler } from "../../src/api/upscaler.js";
import { DEFAULT_MODEL } from "../../src/model/builtin.js";
import { decodeImage } from "../../src/image/codec.js";
import { evaluate } from "../../src/metrics/evaluate.js";
import { haveShared, SHARED } from "../helpers.js";

const test = suite("shipped networks");
const RECORDED = {
  natural: { Set5: 31.017, Set14: 27.913 },
  "natural-fast": { Set5: 30.527, Set14: 27.593 },
};
const GATE = { Set5: 30.8, Set14: 27.7 };

test("natural is the default; both are small fully convolutional networks (tiles are exact)", async () => {
  assert.is(DEFAULT_MODEL, "natural");
  for (const model of [undefined, "natural-fast"]) {
    const up = await createUpscaler({ model, threads: 0 });
    const info = up.info();
    assert.is(info.model, model ?? "natural");
    assert.is(info.scale, 4);
    assert.ok(info.parameters > 50_000 && info.parameters < 250_000);
    assert.ok(Number.isFinite(info.receptiveRadius));
    await up.dispose();
  }
});

if (haveShared("shipped networks' PSNR on Set5/Set14")) {
  for (const set of ["Set5", "Set14"] as const) {
    const dir = `${SHARED}data/eval/${set}`;
    let images: ReturnType<typeof decodeImage>[] | undefined; // decoded once, by the first test of the set
    for (const [model, recorded] of Object.entries(RECORDED)) {
      test(`${model}: ${set} ×4 PSNR-Y ${recorded[set]} dB (±0.02), recorded in docs/models.md; Winograd = direct ±0.005 dB`, async () => {
        images ??= readdirSync(dir).filter((f) => f.endsWith(".png")).sort().map((f) => decodeImage(new Uint8Array(readFileSync(`${dir}/${f}`))));
        const psnrY: Record<string, number> = {};
        for (const convAlgorithm of ["winograd", "direct"] as const) {
          const up = await createUpscaler({ model, threads: 2, convAlgorithm });
          try {
            psnrY[convAlgorithm] = (await evaluate(up, images)).psnrY;
          } finally {
            await up.dispose();
          }
        }
        assert.ok(Math.abs(psnrY.winograd - recorded[set]) <= 0.02, `${model} ${set}: ${psnrY.winograd.toFixed(3)} dB, recorded ${recorded[set]}`);
        assert.ok(Math.abs(psnrY.winograd - psnrY.direct) < 0.005, `${model} ${set}: Winograd ${psnrY.winograd} dB, direct ${psnrY.direct} dB`);
      });
    }
  }
}

test("the recorded natural values clear the issue's gate", () => {
  for (const set of ["Set5", "Set14"] as const) assert.ok(RECORDED.natural[set] >= GATE[set], `natural ${set} ${RECORDED.natural[set]} < ${GATE[set]}`);
});

test.run();
