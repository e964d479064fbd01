// Real networks through ONNX: every built-in network, srgan-rust's .rsr and community networks (ncnn
// realesr-animevideov3-x4, waifu2x CUNet with squeeze-excitation, a legacy .pth RRDB) exported, run in
// onnxruntime-web and compared with our own output on the same image (≥ 50 dB on 8-bit output, float
// differences far below one level), then imported back: the same graph, the same output bit for bit.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { loadNetwork } from "../../src/index.js";
import { Engine } from "../../src/runtime/engine.js";
import { encodeOnnx } from "../../src/model/formats/onnx-export.js";
import { decodeNetworkFiles } from "../../src/model/network-formats.js";
import type { ValidatedGraph } from "../../src/model/types.js";
import { runFloat } from "../run-float.js";
import { compare8, rgbOf, runOnnx } from "../onnx-runtime.js";
import { assertBitIdentical, haveShared, randomImage, rng, SHARED } from "../helpers.js";

const test = suite("ONNX export of real networks");
const engine = await Engine.create({ memoryLimit: 1 << 30, wasmVariant: "simd" });
// Odd, unequal sides: every resize phase and border meets the edge; CUNet needs its 18-pixel border inside the image.
const image = randomImage(rng(24), 45, 42);

async function check(name: string, g: ValidatedGraph): Promise<void> {
  const ours = runFloat(engine, g, image);
  const model = encodeOnnx(g);
  const theirs = await runOnnx(model, rgbOf(image), image.height, image.width, 3);
  assert.equal([theirs.h, theirs.w], [image.height * g.scale, image.width * g.scale], `${name}: output size`);
  const { db, maxDiff } = compare8(theirs.data, ours);
  assert.ok(db >= 50, `${name}: ${db.toFixed(1)} dB`);
  assert.ok(maxDiff < 1e-4, `${name}: float difference ${maxDiff}`);
  const back = await decodeNetworkFiles({ main: model }, `${name}.onnx`);
  assert.equal(back.nodes.map((n) => n.op), g.nodes.map((n) => n.op), `${name}: ops after the round trip`);
  assertBitIdentical(runFloat(engine, back, image), ours, `${name} round trip`);
}

const BUILTINS: [string, number][] = [["natural", 4], ["natural", 2], ["natural-fast", 4], ["natural-real", 4],
  ["bicubic", 4], ["bicubic", 3], ["bilinear", 4], ["bilinear", 2], ["nearest", 4], ["nearest", 3]];
for (const [name, scale] of BUILTINS) {
  test(`built-in ${name} ×${scale}`, async () => check(`${name} ×${scale}`, await loadNetwork(name, { scale })));
}

if (haveShared("ONNX export of srgan-rust and community networks")) {
  const community = join(SHARED, "data/community");
  const files: [string, string][] = [
    ["srgan-rust natural.rsr (global means, spline)", join(SHARED, "data/srgan-rust/natural.rsr")],
    ["ncnn realesr-animevideov3-x4", join(community, "ncnn/realesrgan/realesr-animevideov3-x4.param")],
    ["ncnn waifu2x CUNet noise1 ×2 (squeeze-excitation, edge border, align 2)", join(community, "ncnn/waifu2x-cunet/noise1_scale2.0x_model.param")],
    ["legacy .pth RRDB 4x-NMKD-YandereNeo-Superlite", join(community, "pytorch/4x-NMKD-YandereNeo-Superlite.pth")],
  ];
  for (const [name, path] of files) test(name, async () => check(name, await loadNetwork(path)));
}

test.run();
