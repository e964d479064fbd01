// Option validation table (piscina style): every bad option is a TypeError/RangeError naming it.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { resolveOptions } from "../../src/api/options.js";
import { createUpscaler } from "../../src/index.js";

const test = suite("options");

const bad: Array<[string, Record<string, unknown>, RegExp]> = [
  ["threads negative", { threads: -1 }, /options\.threads/],
  ["threads fractional", { threads: 1.5 }, /options\.threads/],
  ["threads too many", { threads: 65 }, /options\.threads/],
  ["threads string", { threads: "many" }, /options\.threads/],
  ["tileSize too small", { tileSize: 4 }, /options\.tileSize/],
  ["tileSize NaN", { tileSize: NaN }, /options\.tileSize/],
  ["memoryLimit tiny", { memoryLimit: 1024 }, /options\.memoryLimit/],
  ["memoryLimit huge", { memoryLimit: 2 ** 33 }, /options\.memoryLimit/],
  ["wasmVariant unknown", { wasmVariant: "avx" }, /options\.wasmVariant/],
  ["convAlgorithm unknown", { convAlgorithm: "fft" }, /options\.convAlgorithm/],
  ["backend unknown", { backend: "cuda" }, /options\.backend/],
  ["scale zero", { scale: 0 }, /options\.scale/],
  ["scale fractional", { scale: 2.5 }, /options\.scale/],
  ["scale string", { scale: "2" }, /options\.scale/],
];

for (const [name, opts, message] of bad) {
  test(`rejects ${name}`, () => {
    assert.throws(() => resolveOptions(opts as never), (e: unknown) => (e instanceof RangeError || e instanceof TypeError) && message.test((e as Error).message));
  });
}

test("defaults are documented values", () => {
  const o = resolveOptions({});
  assert.is(o.tileSize, 256);
  assert.is(o.memoryLimit, 1 << 30);
  assert.is(o.wasmVariant, "auto");
  assert.is(o.convAlgorithm, "auto");
  assert.ok(o.threads >= 1);
  assert.is(resolveOptions({ threads: 0 }).threads, 0);
});

test("backend: 'auto' without a GPU runs on wasm; 'webgl' where none exists is a typed error", async () => {
  const auto = await createUpscaler({ backend: "auto", threads: 0 });
  assert.is(auto.info().backend, "wasm");
  const out = await auto.upscale({ data: new Uint8ClampedArray(16).fill(200), width: 2, height: 2 });
  assert.is(out.width, 8);
  assert.is(auto.info().backend, "wasm");
  await auto.dispose();
  try { await createUpscaler({ backend: "webgl", threads: 0 }); assert.unreachable(); } catch (e) { assert.is((e as { code: string }).code, "ERR_UNSUPPORTED"); }
});

test("a bad model is a TypeError / typed model error", async () => {
  try { await createUpscaler({ model: 42 as never, threads: 0 }); assert.unreachable(); } catch (e) { assert.instance(e, TypeError); assert.match((e as Error).message, /options\.model/); }
  try { await createUpscaler({ model: "no-such-network.srnet", threads: 0 }); assert.unreachable(); } catch (e) { assert.is((e as { code: string }).code, "ERR_IO"); assert.match((e as Error).message, /no-such-network\.srnet': no such file/); }
  try { await createUpscaler({ model: new Uint8Array([1, 2, 3]), threads: 0 }); assert.unreachable(); } catch (e) { assert.is((e as { code: string }).code, "ERR_MODEL_FORMAT"); }
});


test("scale picks the built-in of that scale; a scale no network has, or a mismatch, is ERR_SCALE", async () => {
  const { loadNetwork } = await import("../../src/api/load-network.js");
  assert.is((await loadNetwork("bicubic", { scale: 3 })).scale, 3);
  assert.is((await loadNetwork("natural")).scale, 4);
  const code = async (p: Promise<unknown>) => p.then(() => "resolved", (e: { code?: string }) => e.code);
  assert.is(await code(loadNetwork("natural", { scale: 3 })), "ERR_SCALE");
  assert.is(await code(loadNetwork("natural-fast", { scale: 2 })), "ERR_SCALE");
  const x4 = await loadNetwork("natural-fast");
  assert.is(await code(loadNetwork(x4, { scale: 2 })), "ERR_SCALE");
  assert.is((await loadNetwork(x4, { scale: 4 })).scale, 4);
  const up = await createUpscaler({ model: "bilinear", scale: 2, threads: 0 });
  try {
    const out = await up.upscale({ data: new Uint8ClampedArray(4 * 3 * 5).fill(200), width: 3, height: 5 });
    assert.equal([out.width, out.height, up.info().scale], [6, 10, 2]);
  } finally {
    await up.dispose();
  }
});

test("model 'auto': autoModel picks natural-real for JPEG at ×4, natural otherwise; the upscaler holds both and picks per job", async () => {
  const { autoModel } = await import("../../src/model/builtin.js");
  const { loadNetwork } = await import("../../src/api/load-network.js");
  assert.is(autoModel("jpeg"), "natural-real");
  assert.is(autoModel("png"), "natural");
  assert.is(autoModel(undefined), "natural");
  assert.is(autoModel("jpeg", 2), "natural"); // no natural-real at ×2
  try {
    await loadNetwork("auto");
    assert.unreachable("'auto' is two networks");
  } catch (e) {
    assert.instance(e, TypeError);
    assert.match((e as Error).message, /createUpscaler\(\{ model: 'auto' \}\)/);
  }
  const auto = await createUpscaler({ model: "auto", threads: 0 });
  const real = await createUpscaler({ model: "natural-real", threads: 0 });
  const natural = await createUpscaler({ model: "natural", threads: 0 });
  try {
    assert.is(auto.info().model, natural.info().model, "before any job: natural");
    const img = { data: new Uint8ClampedArray(12 * 10 * 4).map((_, i) => (i % 4 === 3 ? 255 : (i * 37) % 256)), width: 12, height: 10 };
    const same = (a: { data: Uint8ClampedArray }, b: { data: Uint8ClampedArray }) => a.data.every((v, i) => v === b.data[i]);
    assert.ok(same(await auto.upscale(img, { format: "jpeg" }), await real.upscale(img)), "JPEG: natural-real's output");
    assert.is(auto.info().model, real.info().model);
    assert.ok(same(await auto.upscale(img, { format: "png" }), await natural.upscale(img)), "PNG: natural's output");
    assert.is(auto.info().model, natural.info().model);
    assert.ok(same(await auto.upscale(img), await natural.upscale(img)), "no format: natural");
    try {
      await auto.upscale(img, { format: "gif" as never });
      assert.unreachable();
    } catch (e) {
      assert.instance(e, TypeError);
      assert.match((e as Error).message, /options\.format/);
    }
    const x2 = await createUpscaler({ model: "auto", scale: 2, threads: 0 });
    assert.is((await x2.upscale(img, { format: "jpeg" })).width, 24, "×2 has natural only");
    await x2.dispose();
    assert.is(auto.stats().activeLeases, 3, "two networks' weights and the alpha resize");
  } finally {
    for (const up of [auto, real, natural]) await up.dispose();
  }
});

test.run();
