// `--tta` of srgan upscale, batch and eval reaches upscale(img, { tta: true }): each command's output
// equals the API's self-ensemble and differs from the plain run (main() in this process).
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../src/cli/main.js";
import { writeImage } from "../../src/cli/io.js";
import { createUpscaler, decodeImage, type Upscaler } from "../../src/index.js";
import { evaluate } from "../../src/metrics/evaluate.js";
import { rng, randomImage } from "../helpers.js";

const test = suite("cli-tta");
const dir = mkdtempSync(join(tmpdir(), "srgan-tta-"));
const rand = rng(9);
const img = randomImage(rand, 40, 28);
let up: Upscaler;

async function srganHere(args: string[]): Promise<{ status: number; stdout: string }> {
  let stdout = "";
  const { write: out } = process.stdout, { write: err } = process.stderr;
  process.stdout.write = ((chunk: string) => { stdout += chunk; return true; }) as typeof process.stdout.write;
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    return { status: await main(args), stdout };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

const same = (a: Uint8ClampedArray, b: Uint8ClampedArray) => a.length === b.length && a.every((v, i) => v === b[i]);

test.before(async () => {
  up = await createUpscaler({ model: "natural-fast", threads: 2 });
  mkdirSync(join(dir, "in"));
  await writeImage(join(dir, "in", "a.png"), img, 90);
});
test.after(async () => {
  await up.dispose();
  rmSync(dir, { recursive: true, force: true });
});

test("upscale --tta and batch --tta write the API's self-ensemble", async () => {
  const tta = await up.upscale(img, { tta: true }), plain = await up.upscale(img);
  assert.not.ok(same(tta.data, plain.data), "the ensemble differs from one pass");
  const r = await srganHere(["upscale", join(dir, "in", "a.png"), join(dir, "u.png"), "--tta", "--model", "natural-fast", "--threads", "2"]);
  assert.is(r.status, 0);
  assert.match(r.stdout, /\(tta ×8\)/);
  assert.ok(same(decodeImage(new Uint8Array(readFileSync(join(dir, "u.png")))).data, tta.data), "upscale --tta");
  assert.is((await srganHere(["batch", join(dir, "in"), join(dir, "out"), "--tta", "--model", "natural-fast", "--threads", "2"])).status, 0);
  assert.ok(same(decodeImage(new Uint8Array(readFileSync(join(dir, "out", "a.png")))).data, tta.data), "batch --tta");
});

test("eval --tta measures the self-ensemble", async () => {
  const want = await evaluate(up, [img], { tta: true });
  const r = await srganHere(["eval", "natural-fast", join(dir, "in"), "--tta", "--threads", "2"]);
  assert.is(r.status, 0);
  assert.match(r.stdout, new RegExp(`tta ×8\\): PSNR RGB ${want.psnrRgb.toFixed(3)} dB, Y ${want.psnrY.toFixed(3)} dB`));
});

test.run();
