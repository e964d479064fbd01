// The trainer end to end on a tiny synthetic dataset: the loss falls when a small network overfits;
// the same seed gives bit-identical weights (and so does another thread count); a run stopped by its
// AbortSignal leaves a checkpoint from which a resumed run finishes exactly like an uninterrupted one;
// and the trained network runs unchanged through encodeNetwork → createUpscaler.
import { suite } from "uvu";
import { readFileSync } from "node:fs";
import * as assert from "uvu/assert";
import { train, type TrainOptions, type TrainResult } from "../../src/train/trainer.js";
import { decodeCheckpoint, encodeCheckpoint } from "../../src/train/checkpoint.js";
import { PatchSampler, cutPatch, makePairs, type Pair } from "../../src/train/data.js";
import { MIXES, subsampleChroma, type MixName } from "../../src/train/degrade.js";
import { blendNetworks } from "../../src/train/blend.js";
import { Rng } from "../../src/train/rng.js";
import { buildNetwork, deepenNetwork, INITIAL_SLOPE, macsPerPixel, resolveArch, widenNetwork } from "../../src/train/arch.js";
import { encodeNetwork, decodeNetwork } from "../../src/model/formats/srnet.js";
import { resizeGraph } from "../../src/model/builtin.js";
import { createUpscaler } from "../../src/api/upscaler.js";
import { psnr } from "../../src/metrics/quality.js";
import { downscale, Downscaler } from "../../src/api/downscale.js";
import { AbortError, UsageError } from "../../src/errors.js";
import { command as trainCommand } from "../../src/cli/train.js";
import { command as convertCommand } from "../../src/cli/convert.js";
import { encodePng } from "../../src/image/codec.js";
import type { ImageSource } from "../../src/train/data.js";
import { assertBitIdentical, rejects } from "../helpers.js";

const test = suite("train");

/**
 * Plane waves of 6–9 HR pixels per period, a different direction and frequency per channel and image.
 * Below the LR Nyquist limit, so the LR keeps them (attenuated) and a small network can learn to
 * restore what bilinear enlarging loses: a learnable task that shows progress within a few dozen steps.
 */
function synthetic(kind: number, w = 40, h = 40): ImageSource {
  const data = new Uint8ClampedArray(w * h * 4);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const i = 4 * (y * w + x);
      for (let c = 0; c < 3; c++) {
        const a = 0.7 + 0.5 * c + 0.9 * kind, f = 1 / (6 + 1.5 * ((c + kind) % 3));
        data[i + c] = 128 + 100 * Math.sin(2 * Math.PI * f * (x * Math.cos(a) + y * Math.sin(a)));
      }
      data[i + 3] = 255;
    }
  return { name: `waves-${kind}.png`, image: { data, width: w, height: h } };
}
const DATA = [0, 1, 2].map((k) => synthetic(k));
const VAL = [synthetic(3, 32, 32)];

const base = (over: Partial<TrainOptions> = {}): TrainOptions => ({
  data: DATA, scale: 2, arch: { width: 8, body: 1 }, steps: 40, batchSize: 4, patchSize: 12, lr: 1e-2, warmupSteps: 2,
  seed: 7, threads: 0, logEvery: 5, validation: { data: VAL, every: 20, maxSide: 64 }, ...over,
});

const weightsOf = (r: TrainResult) => Object.values(r.graph.weights).map((w) => w.data);
function assertSameWeights(a: TrainResult, b: TrainResult, label: string): void {
  const wa = weightsOf(a), wb = weightsOf(b);
  assert.is(wa.length, wb.length);
  wa.forEach((d, i) => assertBitIdentical(d, wb[i], `${label} weight ${i}`));
}

let overfit: TrainResult;

test("a tiny network overfits a tiny dataset: the loss falls clearly and validation PSNR rises", async () => {
  const t0 = performance.now();
  overfit = await train(base());
  const h = overfit.history;
  console.log(`train: loss ${h[0].loss.toFixed(4)} → ${h[h.length - 1].loss.toFixed(4)} in ${overfit.step} steps, val ${h.map((e) => e.valPsnr?.toFixed(2)).filter(Boolean).join(" → ")} dB, ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  assert.is(overfit.step, 40);
  assert.ok(h[h.length - 1].loss < 0.7 * h[0].loss, `loss fell from ${h[0].loss} to ${h[h.length - 1].loss}`);
  assert.ok(h.every((e) => Number.isFinite(e.loss)));
  // The network starts at (almost) its bilinear residual; training must beat that on held-out data.
  const lr = await downscale(VAL[0].image!, 2);
  const up = await createUpscaler({ model: resizeGraph("bilinear", 2), threads: 0 });
  try {
    const bilinear = psnr(VAL[0].image!, await up.upscale(lr), { y: true, shave: 2 });
    console.log(`train: bilinear ${bilinear.toFixed(2)} dB on the validation image`);
    assert.ok(overfit.valPsnr! > bilinear + 2, `validation ${overfit.valPsnr} dB vs bilinear ${bilinear} dB`);
  } finally { await up.dispose(); }
});

test("the trained network runs unchanged through encodeNetwork → createUpscaler, with the PSNR validation measured", async () => {
  const bytes = encodeNetwork(overfit.graph);
  const g = decodeNetwork(bytes);
  assert.is(g.scale, 2);
  assert.is((g.meta!.training as { steps: number }).steps, 40);
  const up = await createUpscaler({ model: bytes, threads: 0, wasmVariant: overfit.wasmVariant as "simd" | "relaxed" });
  try {
    const lr = await downscale(VAL[0].image!, 2);
    const sr = await up.upscale(lr);
    assert.is(psnr(VAL[0].image!, sr, { y: true, shave: 2 }), overfit.valPsnr!);
  } finally { await up.dispose(); }
});

test("same seed ⇒ bit-identical weights: twice with 2 worker threads, and with 1 thread and inline", async () => {
  const opts = base({ steps: 6, validation: { every: 0, count: 0 } });
  const a = await train({ ...opts, threads: 2 });
  const b = await train({ ...opts, threads: 2 });
  assert.is(a.threads, 2);
  assertSameWeights(a, b, "threads 2 twice");
  const c = await train({ ...opts, threads: 1 });
  assertSameWeights(a, c, "threads 2 vs 1");
  const d = await train({ ...opts, threads: 0 });
  assertSameWeights(a, d, "threads 2 vs inline");
  // …and a different seed does change them (the comparison can fail).
  const e = await train({ ...opts, threads: 0, seed: 8 });
  assert.not.ok(weightsOf(a).every((w, i) => w.every((v, j) => v === weightsOf(e)[i][j])), "another seed gives other weights");
});

test("same seed with Winograd 3×3 (forward, input and weight gradients): 2 threads = inline, and not the direct kernels' bits", async () => {
  const opts = base({ steps: 6, validation: { every: 0, count: 0 }, convAlgorithm: "winograd" });
  const a = await train({ ...opts, threads: 2 });
  const b = await train({ ...opts, threads: 0 });
  assertSameWeights(a, b, "Winograd threads 2 vs inline");
  const direct = await train({ ...opts, threads: 0, convAlgorithm: "direct" });
  assert.not.ok(weightsOf(a).every((w, i) => w.every((v, j) => v === weightsOf(direct)[i][j])), "Winograd ran");
});

test("abort → checkpoint → resume continues identically", async () => {
  const { mkdtemp, rm, readFile } = await import("node:fs/promises");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const dir = await mkdtemp(join(tmpdir(), "srgan-train-"));
  try {
    const opts = base({ steps: 10, logEvery: 1, validation: { every: 0, count: 0 } });
    const whole = await train(opts);
    const ckpt = join(dir, "run.ckpt");
    const ac = new AbortController();
    const stopped = await train({ ...opts, checkpoint: ckpt, checkpointEvery: 1000, signal: ac.signal,
      onProgress: (p) => { if (p.step === 4) ac.abort(); } }).then(() => undefined, (e: unknown) => e);
    assert.instance(stopped, AbortError);
    const saved = decodeCheckpoint(new Uint8Array(await readFile(ckpt)));
    assert.is(saved.step, 4);
    // Resumed with another thread count (the trajectory does not depend on it).
    const resumed = await train({ ...opts, arch: "natural", seed: 99, threads: 2, resume: ckpt });
    assert.is(resumed.step, 10);
    assertSameWeights(whole, resumed, "resumed");
    assert.equal(resumed.history.map((h) => h.loss), whole.history.map((h) => h.loss));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("`srgan train` command: trains from a folder, writes the network and the checkpoint, and resumes", async () => {
  const { mkdtemp, rm, writeFile, mkdir, readFile } = await import("node:fs/promises");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const dir = await mkdtemp(join(tmpdir(), "srgan-train-cli-"));
  try {
    await mkdir(join(dir, "data"));
    for (const src of [...DATA, ...VAL]) await writeFile(join(dir, "data", src.name), encodePng(src.image!));
    const out = join(dir, "net.srnet");
    const lines: string[] = [], errs: string[] = [];
    const ctx = { signal: new AbortController().signal, out: (l: string) => lines.push(l), err: (l: string) => errs.push(l), tty: false };
    const argv = ["--data", join(dir, "data"), "--scale", "2", "--arch", "w6b1", "--steps", "6", "--out", out, "--batch", "2", "--patch", "10",
      "--lr", "1e-2", "--threads", "0", "--val-count", "1", "--val-every", "3", "--log-every", "3", "--f16"];
    await trainCommand.run(argv, ctx);
    assert.match(lines.join("\n"), /6 steps/);
    assert.match(errs[0], /^step 3\/6 +loss [\d.]+ +lr .* img\/s .* ETA .* val [\d.]+ dB/);
    const net = decodeNetwork(new Uint8Array(await readFile(out)));
    assert.is(net.scale, 2);
    assert.is((net.meta!.training as { images: number }).images, 3); // 4 files, the last held out
    assert.is(decodeCheckpoint(new Uint8Array(await readFile(`${out}.ckpt`))).step, 6);
    await trainCommand.run([...argv.map((a) => (a === "6" ? "8" : a)), "--resume", `${out}.ckpt`], ctx);
    assert.match(lines[1], /8 steps/);
    // `srgan convert` exports the checkpoint's network: the same weights as the network written at the end.
    await convertCommand.run([`${out}.ckpt`, join(dir, "from-ckpt.srnet"), "--f16"], ctx);
    assert.match(lines[2], /training checkpoint at step 8/);
    const trained = decodeNetwork(new Uint8Array(await readFile(out))), exported = decodeNetwork(new Uint8Array(await readFile(join(dir, "from-ckpt.srnet"))));
    for (const [name, w] of Object.entries(trained.weights)) assertBitIdentical(exported.weights[name].data, w.data, name);
    const torn = join(dir, "torn.ckpt");
    await writeFile(torn, (await readFile(`${out}.ckpt`)).subarray(0, 200));
    try {
      await convertCommand.run([torn, join(dir, "torn.srnet")], ctx);
      assert.unreachable("a truncated checkpoint must be refused");
    } catch (e) { assert.is((e as { code?: string }).code, "ERR_MODEL_FORMAT"); assert.ok((e as Error).message.includes(torn), (e as Error).message); }
    try {
      await trainCommand.run(["--data", dir, "--steps", "x", "--out", out], ctx);
      assert.unreachable("a bad --steps must be refused");
    } catch (e) { assert.instance(e, UsageError); }
    // --init NET --add-layers 1 --widen W fine-tunes NET deepened by one layer, then widened.
    const deeper = join(dir, "deeper.srnet");
    const width = decodeNetwork(new Uint8Array(readFileSync(out))).weights["conv0.kernel"].shape[0] + 2;
    await trainCommand.run(["--data", join(dir, "data"), "--scale", "2", "--init", out, "--add-layers", "1", "--widen", String(width), "--steps", "2", "--out", deeper,
      "--batch", "2", "--patch", "10", "--threads", "0", "--val-count", "1", "--val-every", "0"], ctx);
    const convs = (file: string) => decodeNetwork(new Uint8Array(readFileSync(file))).nodes.filter((n) => n.op === "Conv2D").length;
    assert.is(convs(deeper), convs(out) + 1);
    assert.is(decodeNetwork(new Uint8Array(readFileSync(deeper))).weights["conv0.kernel"].shape[0], width);
    // --init, --add-layers and --widen: refused when they make no sense, before any data is read.
    for (const [bad, why] of [[["--add-layers", "2"], /--add-layers needs --init/], [["--widen", "8"], /--widen needs --init/], [["--init", out, "--arch", "w6b1"], /--init FILE or --arch NAME, not both/]] as const) {
      try {
        await trainCommand.run(["--data", dir, "--steps", "2", "--out", out, ...bad], ctx);
        assert.unreachable(`${bad.join(" ")} must be refused`);
      } catch (e) { assert.instance(e, UsageError); assert.match((e as Error).message, why); }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("checkpoint format: round trip, corruption and truncation are refused", () => {
  const params = Float32Array.of(1, 2, 3, 4), m = Float32Array.of(0.1, 0.2, 0.3, 0.4), v = Float32Array.of(5, 6, 7, 8);
  const c = {
    step: 3, rngState: 12345, paramCount: 4, options: { lr: 1 }, elapsedMs: 10, history: [{ step: 3, loss: 0.5, lr: 1 }],
    graph: { name: "n", scale: 2, input: "x", output: "y", nodes: [], weights: [{ name: "w", shape: [4], offset: 0, length: 4 }] },
    params, m, v,
  };
  const bytes = encodeCheckpoint(c);
  const back = decodeCheckpoint(bytes);
  assert.is(back.step, 3);
  assert.is(back.rngState, 12345);
  assertBitIdentical(back.m, m, "m");
  assertBitIdentical(back.v, v, "v");
  const bad = bytes.slice(); bad[bad.length - 9] ^= 1;
  assert.throws(() => decodeCheckpoint(bad), /checksum/);
  assert.throws(() => decodeCheckpoint(bytes.subarray(0, bytes.length - 8)), /checksum|truncated|data bytes/);
});

test("patches: LR and HR cut at matching places under every flip/rotation", async () => {
  // HR where every s×s block is one colour: its exact LR is one pixel per block, so a patch pair must
  // agree block by block for each of the 8 transforms.
  const s = 2, lw = 9, lh = 7;
  const lrData = new Uint8Array(lw * lh * 3).map((_, i) => (i * 37) % 251);
  const hrData = new Uint8Array(lw * s * lh * s * 3);
  for (let y = 0; y < lh * s; y++) for (let x = 0; x < lw * s; x++) for (let c = 0; c < 3; c++) hrData[(y * lw * s + x) * 3 + c] = lrData[((y >> 1) * lw + (x >> 1)) * 3 + c];
  const pair: Pair = { name: "blocks", lr: { data: lrData, width: lw, height: lh }, hr: { data: hrData, width: lw * s, height: lh * s } };
  const n = 5;
  const lr = new Float32Array(n * n * 3), hr = new Float32Array(n * n * s * s * 3);
  const seen = new Set<string>();
  for (let t = 0; t < 8; t++) {
    cutPatch(pair.lr, 2, 1, n, t, lr);
    cutPatch(pair.hr, 4, 2, n * s, t, hr);
    for (let y = 0; y < n * s; y++) for (let x = 0; x < n * s; x++) for (let c = 0; c < 3; c++) {
      assert.is(hr[(y * n * s + x) * 3 + c], lr[((y >> 1) * n + (x >> 1)) * 3 + c], `transform ${t} at ${x},${y}`);
    }
    seen.add(Array.from(lr.subarray(0, 6)).join());
  }
  assert.is(seen.size, 8, "the 8 transforms differ");
  const sampler = new PatchSampler([pair], n, s, true);
  const r1 = new Rng(5), r2 = new Rng(5);
  const a = new Float32Array(lr.length), b = new Float32Array(hr.length), a2 = new Float32Array(lr.length), b2 = new Float32Array(hr.length);
  await sampler.drawBatch(r1, [{ lr: a, hr: b }]);
  await sampler.drawBatch(r2, [{ lr: a2, hr: b2 }]);
  assertBitIdentical(a, a2, "sampler is reproducible");
  assert.is(r1.state, r2.state);
});

test("architectures: the default family validates and counts its multiply-adds", () => {
  const g = buildNetwork("natural-fast", { scale: 4 });
  assert.is(g.nodes.length, 11); // 8 convs, pixel-shuffle, resize, add
  assert.is(macsPerPixel(resolveArch("natural-fast"), 4), 9 * (3 * 32 + 6 * 32 * 32 + 32 * 48));
  assert.throws(() => buildNetwork("w0b1", { scale: 4 }), /width/);
  assert.throws(() => buildNetwork("huge", { scale: 4 }), /arch must be/);
});

test("deepenNetwork: identity layers leave the outputs bit-identical and add trainable layers", async () => {
  const g = buildNetwork("w6b1", { scale: 2, seed: 3 });
  const deep = deepenNetwork(g, 2);
  assert.is(deep.nodes.length, g.nodes.length + 2);
  assert.is(deep.nodes.filter((n) => n.op === "Conv2D").length, 5);
  assert.is(deep.meta!.arch, "w6b3");
  assert.is(deep.meta!.macsPerPixel, macsPerPixel(resolveArch("w6b3"), 2));
  const img = { data: Uint8ClampedArray.from({ length: 4 * 9 * 7 }, (_, i) => (i * 37) % 256), width: 9, height: 7 };
  const run = async (graph: typeof g) => {
    const up = await createUpscaler({ model: graph, threads: 0 });
    try { return await up.upscale(img); } finally { await up.dispose(); }
  };
  assertBitIdentical((await run(deep)).data, (await run(g)).data);
  // Deepening a deepened network picks new layer names.
  const twice = deepenNetwork(deep, 2);
  assert.is(twice.meta!.arch, "w6b5");
  assertBitIdentical((await run(twice)).data, (await run(g)).data);
  assert.throws(() => deepenNetwork(resizeGraph("bicubic", 2), 1), /no body layer/);
});

test("widenNetwork: wider body, the multiply-adds of the wider arch, nearly the same outputs until trained", async () => {
  const g = deepenNetwork(buildNetwork("w6b2", { scale: 3, seed: 2 }), 1); // a deepened layer is widened too
  const wide = widenNetwork(g, 9, 4); // 9: not a multiple of 4
  assert.is(wide.meta!.arch, "w9b3");
  assert.is(wide.meta!.macsPerPixel, macsPerPixel(resolveArch("w9b3"), 3));
  assert.equal(wide.weights["head.kernel"].shape, [27, 3, 3, 9]);
  assert.equal(wide.weights["conv0.slope"].data.slice(6), Float32Array.of(0.25, 0.25, 0.25));
  const img = { data: Uint8ClampedArray.from({ length: 4 * 13 * 5 }, (_, i) => (i * 53 + 11) % 256), width: 13, height: 5 };
  const run = async (graph: typeof g) => {
    const up = await createUpscaler({ model: graph, threads: 0 });
    try { return (await up.upscale(img)).data; } finally { await up.dispose(); }
  };
  const want = await run(g);
  const diff = (a: Uint8ClampedArray) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - want[i])), 0);
  // The convolutions sum more (zero) terms in another order, so the last float bits may differ.
  assert.ok(diff(await run(wide)) <= 1, "widening keeps the outputs");
  // The zero weights are what keeps them: the comparison fails when they are not zero.
  const leaky = structuredClone(wide);
  leaky.weights["conv1.kernel"].data[8] = 0.5; // output 0, tap 0, input 8 (a new channel)
  assert.ok(diff(await run(leaky)) > 1, "a new channel read by an old one changes the outputs");
  assert.throws(() => widenNetwork(g, 5), /width must be/);
  assert.throws(() => widenNetwork(resizeGraph("bicubic", 2), 8), /no body/);
});

test("blendNetworks: α·tuned + (1−α)·base weight by weight, one architecture only", () => {
  const tuned = buildNetwork("w5b1", { scale: 2, seed: 1 }), base = buildNetwork("w5b1", { scale: 2, seed: 2 });
  for (const w of Object.values(base.weights)) if (w.data.every((v) => v === INITIAL_SLOPE)) w.data.fill(0.5); // slopes differ too
  const mid = blendNetworks(tuned, base, 0.25);
  for (const [name, w] of Object.entries(mid.weights)) {
    const t = tuned.weights[name].data, b = base.weights[name].data;
    assert.ok(w.data.every((v, i) => Math.abs(v - (0.25 * t[i] + 0.75 * b[i])) <= 1e-7), name);
    assert.ok(w.data.some((v, i) => v !== t[i]), `${name} moved`);
  }
  for (const name of Object.keys(tuned.weights)) assertBitIdentical(blendNetworks(tuned, base, 1).weights[name].data, tuned.weights[name].data, name);
  assert.equal(mid.meta!.blend, { alpha: 0.25, base: base.name, baseArch: "w5b1" });
  assert.throws(() => blendNetworks(tuned, buildNetwork("w6b1", { scale: 2 }), 0.5), (e: Error & { code?: string }) => e.code === "ERR_INVALID_INPUT" && /one architecture/.test(e.message));
  assert.throws(() => blendNetworks(tuned, base, 1.5), /alpha must be/);
});

for (const mixName of Object.keys(MIXES) as MixName[]) test(`${mixName} degradation: reproducible, a clean share equal to the bicubic LR, the rest degraded`, async () => {
  const mix = MIXES[mixName];
  // A textured 160×160 HR photo stand-in (noise-free, so only the degradation can add noise).
  const w = 160, data = new Uint8ClampedArray(w * w * 4).fill(255);
  for (let i = 0; i < w * w; i++) for (let c = 0; c < 3; c++) data[4 * i + c] = 128 + 100 * Math.sin((i % w) * (0.3 + 0.1 * c) + Math.floor(i / w) * 0.21);
  const [pair] = await makePairs([{ name: "t", image: { data, width: w, height: w } }], 2, mixName);
  const n = 12, sampler = new PatchSampler([pair], n, 2, false, mixName);
  const draw = async (seed: number) => {
    const slots = Array.from({ length: 64 }, () => ({ lr: new Float32Array(n * n * 3), hr: new Float32Array(4 * n * n * 3) }));
    await sampler.drawBatch(new Rng(seed), slots);
    return slots;
  };
  const a = await draw(7), b = await draw(7);
  a.forEach((slot, i) => assertBitIdentical(slot.lr, b[i].lr, `patch ${i} reproducible`));
  // Which patches equal the clean LR at the same place? Find each patch's place from its HR.
  let clean = 0;
  const lrClean = new Float32Array(n * n * 3), hrAt = new Float32Array(4 * n * n * 3);
  for (const slot of a) {
    let found = false;
    for (let y = 0; y + n <= pair.lr.height && !found; y++) for (let x = 0; x + n <= pair.lr.width && !found; x++) {
      cutPatch(pair.hr, 2 * x, 2 * y, 2 * n, 0, hrAt);
      if (hrAt.every((v, i) => v === slot.hr[i])) {
        found = true;
        cutPatch(pair.lr, x, y, n, 0, lrClean);
        if (lrClean.every((v, i) => v === slot.lr[i])) clean++;
      }
    }
    assert.ok(found, "the HR patch is an unaltered crop of the HR image");
  }
  // Expected clean share: the clean patches plus the others that drew no blur, bicubic, no noise and no JPEG
  // (real ≈ 0.26, real-light ≈ 0.13); 3 standard deviations either side (real: 6–27 of 64).
  const sharpen = "sharpen" in mix ? mix.sharpen : 0;
  const p = mix.clean + (1 - mix.clean) * (1 - mix.blur) * (1 - mix.box) * (1 - mix.noise) * (1 - sharpen) * (1 - mix.jpeg), sd = Math.sqrt(64 * p * (1 - p));
  assert.ok(clean >= Math.max(1, 64 * p - 3 * sd) && clean <= 64 * p + 3 * sd, `clean patches: ${clean} of 64 (expected ≈ ${(64 * p).toFixed(1)})`);
});

test("scale augmentation: each photo also shrunk to 3/4 and 1/2 (bicubic), each copy with its own LR", async () => {
  const w = 70, h = 53, data = new Uint8ClampedArray(w * h * 4).fill(255);
  for (let i = 0; i < w * h; i++) for (let c = 0; c < 3; c++) data[4 * i + c] = 128 + 90 * Math.sin((i % w) * (0.2 + 0.1 * c) + Math.floor(i / w) * 0.3);
  const image = { data, width: w, height: h };
  const pairs = await makePairs([{ name: "p", image }], 2, "bicubic", undefined, true);
  assert.equal(pairs.map((p) => [p.name, p.hr.width, p.hr.height, p.lr.width, p.lr.height]), [
    ["p", 70, 52, 35, 26], ["p@3/4", 50, 38, 25, 19], ["p@1/2", 34, 26, 17, 13], // 68×52 → 51×39, cropped to even
  ]);
  assert.equal((await makePairs([{ name: "p", image }], 2, "bicubic")).length, 1, "off by default");
  const tiny = { data: new Uint8ClampedArray(3 * 3 * 4).fill(90), width: 3, height: 3 };
  assert.equal((await makePairs([{ name: "t", image: tiny }], 2, "bicubic", undefined, true)).map((p) => p.name), ["t"], "no copy smaller than the scale");
  const d = new Downscaler();
  assertBitIdentical((await d.shrinkBy(image, 1, 2)).data, (await d.downscale(image, 2)).data, "1/2 is the ×2 downscale");
  const flat = { data: new Uint8ClampedArray(12 * 12 * 4).fill(77), width: 12, height: 12 };
  const shrunk = await d.shrinkBy(flat, 3, 4);
  assert.equal([shrunk.width, shrunk.height], [9, 9]);
  assert.ok(shrunk.data.every((v) => v === 77), "a flat image stays flat");
  await rejects(d.shrinkBy(image, 4, 4), /keep < of/);
});

test("subsampleChroma: Cb and Cr constant on each 2×2 block, luma kept (within rounding), grey untouched", () => {
  const w = 6, h = 4, px = new Uint8ClampedArray(w * h * 4);
  for (let i = 0; i < px.length; i++) px[i] = (i * 97 + 13) % 256;
  const before = px.slice();
  subsampleChroma(px, w, h);
  const luma = (a: Uint8ClampedArray, i: number) => 0.299 * a[i] + 0.587 * a[i + 1] + 0.114 * a[i + 2];
  const cb = (i: number) => -0.168736 * px[i] - 0.331264 * px[i + 1] + 0.5 * px[i + 2];
  for (let y = 0; y < h; y += 2) for (let x = 0; x < w; x += 2) {
    const at = [(y * w + x) * 4, (y * w + x + 1) * 4, ((y + 1) * w + x) * 4, ((y + 1) * w + x + 1) * 4];
    for (const i of at) {
      assert.ok(Math.abs(cb(i) - cb(at[0])) < 1.6, `Cb shared in the block at ${x},${y}`);
      if (Math.max(px[i], px[i + 1], px[i + 2]) < 255 && Math.min(px[i], px[i + 1], px[i + 2]) > 0) assert.ok(Math.abs(luma(px, i) - luma(before, i)) < 1, `luma kept at ${i}`);
      assert.equal(px[i + 3], before[i + 3], "alpha untouched");
    }
  }
  assert.ok(px.some((v, i) => v !== before[i]), "a colourful image changed");
  const grey = new Uint8ClampedArray(4 * 4 * 4).map((_, i) => (i % 4 === 3 ? 255 : 40 + 10 * Math.floor(i / 4)));
  const g = grey.slice();
  subsampleChroma(g, 4, 4);
  assertBitIdentical(g, grey, "grey has no chroma to lose");
});

test.run();
