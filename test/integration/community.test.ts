// The community networks (../shared/data/community) as published, against the independent float32
// reference (PyTorch, scripts/goldens/; golden outputs in test/fixtures/community): every file of every
// family, loaded from its path as a user names it, in float (the network on the extended image, as the
// golden) and as the upscaler delivers it (8-bit, tiled and threaded). Bounds: PSNR ≥ 50 dB on 8-bit
// output and a float error far below one level (the goldens' README shows a wrong bicubic coefficient
// still passing 50 dB, so the float bound is what catches such bugs).
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createUpscaler, decodeImage, decodeNetwork, encodeNetwork, loadNetwork } from "../../src/index.js";
import { Engine } from "../../src/runtime/engine.js";
import { validateGraph } from "../../src/model/graph.js";
import type { ValidatedGraph } from "../../src/model/types.js";
import type { RgbaImage } from "../../src/image/rgba.js";
import { haveShared, SHARED } from "../helpers.js";
import { runFloat } from "../run-float.js";

const test = suite("community networks");
const FIXTURES = fileURLToPath(new URL("../fixtures/community/", import.meta.url));

interface Golden { model: string; files: { name: string }[]; format: string; family: string; scale: number; input: string; mode: string; pad: number; output: [number, number, number]; golden: string }
const manifest = JSON.parse(readFileSync(join(FIXTURES, "manifest.json"), "utf8")) as { goldens: Golden[]; refused: { model: string; files: { name: string }[] }[] };
const modelPath = (g: { model: string; files: { name: string }[] }) => join(SHARED, "data/community", g.model.slice(0, g.model.lastIndexOf("/") + 1) + g.files[0].name);
const input = (name: string) => decodeImage(readFileSync(join(FIXTURES, name))) as RgbaImage;
const golden = (g: Golden) => { const b = gunzipSync(readFileSync(join(FIXTURES, g.golden))); return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4); };
const quantise = (v: number) => Math.floor(Math.min(255, Math.max(0, 255 * v + 0.5)));

/** PSNR of two 8-bit RGB renderings (dB; Infinity when equal) and their largest difference in levels. */
function psnr8(a: ArrayLike<number>, b: ArrayLike<number>): { db: number; levels: number } {
  let se = 0, levels = 0;
  for (let i = 0; i < a.length; i++) { const d = a[i] - b[i]; se += d * d; levels = Math.max(levels, Math.abs(d)); }
  return { db: se === 0 ? Infinity : 10 * Math.log10((255 * 255 * a.length) / se), levels };
}

const engine = await Engine.create({ memoryLimit: 1 << 30, wasmVariant: "simd" });

// Synthetic networks of our own (scripts/goldens/synthetic.py) for what ../shared's files do not cover:
// a ×2 RRDBNet (pixel-unshuffled input, RealESRGANer's reflect padding) holding params_ema and params,
// and a ×3 SRVGGNetCompact in .safetensors. In every clone.
const synthetic = JSON.parse(readFileSync(join(FIXTURES, "synthetic/manifest.json"), "utf8")) as { goldens: Array<{ file: string; family: string; scale: number; input: string; golden: string }> };
for (const g of synthetic.goldens) {
  test(`synthetic ${g.file} (${g.family} ×${g.scale}, ${g.input}): float output = the float32 reference (params_ema where both are stored)`, async () => {
    const graph = await loadNetwork(join(FIXTURES, "synthetic", g.file));
    assert.is(graph.scale, g.scale);
    const b = gunzipSync(readFileSync(join(FIXTURES, g.golden)));
    const want = new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
    const got = runFloat(engine, graph, input(g.input));
    assert.is(got.length, want.length, "output size");
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
    assert.ok(worst < 1e-4, `largest float difference ${worst}`);
  });
}

if (haveShared("community network goldens")) {
  const graphs = new Map<string, Promise<ValidatedGraph>>();
  const graphOf = (g: Golden) => {
    const key = `${g.model} ×${g.scale}`;
    if (!graphs.has(key)) graphs.set(key, loadNetwork(modelPath(g), { scale: g.scale }));
    return graphs.get(key)!;
  };

  for (const g of manifest.goldens) {
    const name = `${g.model} (${g.family}, ×${g.scale}, ${g.mode}, ${g.input})`;
    test(`${name}: float output = the float32 reference`, async () => {
      let graph = await graphOf(g);
      // realesrgan-ncnn-vulkan's own border, the option users can ask for.
      if (g.mode === "reflect10") graph = validateGraph({ ...graph, inputPad: { mode: "reflect", size: 10 } });
      assert.is(graph.scale, g.scale, "scale");
      const want = golden(g);
      const got = runFloat(engine, graph, input(g.input));
      assert.is(got.length, want.length, "output size");
      let worst = 0;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
      const { db } = psnr8(Array.from(got, quantise), Array.from(want, quantise));
      assert.ok(worst < 2e-3, `largest float difference ${worst} (a level is ${1 / 255})`);
      assert.ok(db >= 50, `${db.toFixed(2)} dB`);
    });
  }

  // Squeeze-excitation pools whole feature maps: on an image too large to hold whole, the statistics
  // are computed stage by stage over tiles (src/runtime/stages.ts), and the result is the whole image's.
  for (const model of ["ncnn/waifu2x-cunet/scale2.0x_model", "ncnn/realcugan/up2x-conservative"]) {
    test(`${model}: in stages (small memory, 32-pixel tiles) = one whole-image pass, on our 160×120 example`, async () => {
      const g = manifest.goldens.find((x) => x.model === model)!;
      const img = decodeImage(readFileSync(fileURLToPath(new URL("../../examples/lighthouse.png", import.meta.url)))) as RgbaImage;
      const whole = await createUpscaler({ model: modelPath(g), threads: 2, memoryLimit: 2 ** 31 });
      const staged = await createUpscaler({ model: modelPath(g), threads: 2, memoryLimit: 96 << 20, tileSize: 32 });
      try {
        let events = 0;
        const a = await whole.upscale(img), b = await staged.upscale(img, { onProgress: () => events++ });
        assert.ok(events > 10, `${events} progress events: the staged path did not run`);
        const { db, levels } = psnr8(a.data, b.data);
        assert.ok(levels === 0, `staged differs from whole by up to ${levels} levels (${db.toFixed(1)} dB)`);
        assert.is(staged.stats().activeLeases, 2);
      } finally {
        await whole.dispose();
        await staged.dispose();
      }
    });
  }

  test("srgan convert's .srnet keeps every family exactly (border, align and all): the same floats", async () => {
    const families = new Map(manifest.goldens.map((g) => [g.family, g]));
    for (const g of families.values()) {
      const graph = await graphOf(g);
      const back = decodeNetwork(encodeNetwork(graph));
      assert.equal([back.inputPad, back.align, back.scale, back.shrink], [graph.inputPad, graph.align, graph.scale, graph.shrink], g.model);
      const img = input("input-tiny.png");
      const [a, b] = [runFloat(engine, graph, img), runFloat(engine, back, img)];
      assert.ok(a.every((v, i) => Object.is(v, b[i])), `${g.model} differs after the round trip`);
    }
  });

  test("an ncnn network given as { param, bin } bytes (a page's file picker) = the same network by path", async () => {
    const g = manifest.goldens.find((x) => x.model === "ncnn/realesrgan/realesr-animevideov3-x2")!;
    const path = modelPath(g);
    const byPath = await createUpscaler({ model: path, threads: 0 });
    const byBytes = await createUpscaler({ model: { param: readFileSync(path), bin: readFileSync(path.replace(/\.param$/, ".bin")) }, threads: 0 });
    try {
      const img = input(g.input);
      const [a, b] = [await byPath.upscale(img), await byBytes.upscale(img)];
      assert.ok(a.data.every((v, i) => v === b.data[i]));
      assert.is(byBytes.info().scale, 2);
    } finally {
      await byPath.dispose();
      await byBytes.dispose();
    }
  });

  for (const r of manifest.refused) {
    test(`${r.model}: refused with ERR_MODEL_FORMAT naming what was found`, async () => {
      try {
        await loadNetwork(modelPath(r));
        assert.unreachable("loaded");
      } catch (e) {
        assert.is((e as { code?: string }).code, "ERR_MODEL_FORMAT");
        assert.match((e as Error).message, /match no network family/);
        assert.match((e as Error).message, /residual_layer/);
      }
    });
  }

  // Through the API as users meet it: path → upscaler, tiled and threaded, 8-bit.
  for (const g of manifest.goldens.filter((x) => x.mode !== "reflect10" && x.input === "input.png")) {
    test(`${g.model}: createUpscaler({ model: path }), 2 threads, 16-pixel tiles = the reference within one level`, async () => {
      const up = await createUpscaler({ model: modelPath(g), scale: g.scale, threads: 2, tileSize: 16 });
      try {
        const out = await up.upscale(input(g.input));
        const rgb = Array.from({ length: out.width * out.height * 3 }, (_, i) => out.data[Math.floor(i / 3) * 4 + (i % 3)]);
        const { db, levels } = psnr8(rgb, Array.from(golden(g), quantise));
        assert.ok(db >= 50 && levels <= 1, `${db.toFixed(2)} dB, ${levels} levels`);
        assert.is(up.stats().activeLeases, 2, "only the weight leases remain");
      } finally {
        await up.dispose();
      }
    });
  }
}

test.run();
