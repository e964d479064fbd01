// Threads on one shared memory: threaded, tiled and single-threaded results are bit-identical;
// concurrent callers share one upscaler; abort, worker death and failures return every buffer.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createUpscaler, type Upscaler } from "../../src/index.js";
import { rng, randInt, shuffleNetwork, globalNetwork, randomImage } from "../helpers.js";

const test = suite("threads");
const rand = rng(2024);
const net = shuffleNetwork(rand, 12);

let inline: Upscaler, threaded: Upscaler;
const baseline = (up: Upscaler) => { const s = up.stats(); return { currentBytes: s.currentBytes, activeLeases: s.activeLeases }; };
const sameBytes = (a: Uint8ClampedArray, b: Uint8ClampedArray) => a.length === b.length && a.every((v, i) => v === b[i]);

test.before(async () => {
  inline = await createUpscaler({ model: net, threads: 0, tileSize: 4096 });
  threaded = await createUpscaler({ model: net, threads: 4, tileSize: 16 });
});
test.after(async () => {
  await inline.dispose();
  await threaded.dispose();
});

test("threaded + tiled output is bit-identical to one whole-image pass (odd, prime, 1×1, 1×N sizes)", async () => {
  for (const [w, h] of [[1, 1], [1, 9], [13, 1], [31, 17], [37, 41], [64, 3]]) {
    const img = randomImage(rand, w, h);
    const a = await inline.upscale(img);
    const b = await threaded.upscale(img);
    assert.is(b.width, w * 4); assert.is(b.height, h * 4);
    assert.ok(sameBytes(a.data, b.data), `${w}x${h} differs`);
  }
  assert.equal(baseline(threaded), { currentBytes: threaded.stats().currentBytes, activeLeases: 2 }, "only the two weight leases remain");
});

test("Winograd: threaded + tiled output (odd tile sizes too) is bit-identical to one whole-image pass", async () => {
  const one = await createUpscaler({ model: net, threads: 0, tileSize: 4096, convAlgorithm: "winograd" });
  const tiled = [await createUpscaler({ model: net, threads: 3, tileSize: 16, convAlgorithm: "winograd" }),
    await createUpscaler({ model: net, threads: 2, tileSize: 9, convAlgorithm: "winograd" })];
  try {
    for (const [w, h] of [[1, 1], [1, 9], [13, 1], [31, 17], [37, 41], [64, 3]]) {
      const img = randomImage(rand, w, h);
      const a = await one.upscale(img);
      for (const up of tiled) assert.ok(sameBytes(a.data, (await up.upscale(img)).data), `${w}x${h} differs`);
    }
  } finally {
    await one.dispose();
    for (const up of tiled) await up.dispose();
  }
});

// Winograd's bands run at once, each on its own scratch (a shared one corrupts the larger image).
for (const convAlgorithm of ["direct", "winograd"] as const) test(`whole-image-statistics network (${convAlgorithm}): layer-major bands on 3 threads equal one thread, bit for bit`, async () => {
  const g = globalNetwork(rng(11));
  const one = await createUpscaler({ model: g, threads: 0, convAlgorithm });
  const three = await createUpscaler({ model: g, threads: 3, convAlgorithm });
  try {
    for (const [w, h] of [[1, 1], [7, 1], [29, 23], [160, 120]]) {
      const img = randomImage(rand, w, h);
      const a = await one.upscale(img), b = await three.upscale(img);
      assert.ok(sameBytes(a.data, b.data), `${w}x${h}`);
    }
    assert.is(three.stats().activeLeases, 2);
  } finally {
    await one.dispose(); await three.dispose();
  }
});

test("concurrent callers on one upscaler get the same results as sequential calls", async () => {
  const images = Array.from({ length: 9 }, () => randomImage(rand, randInt(rand, 5, 40), randInt(rand, 5, 40)));
  const expected: Awaited<ReturnType<Upscaler["upscale"]>>[] = [];
  for (const img of images) expected.push(await inline.upscale(img));
  const before = baseline(threaded);
  const got = await Promise.all(images.map((img) => threaded.upscale(img)));
  got.forEach((g, i) => assert.ok(sameBytes(g.data, expected[i].data), `image ${i}`));
  assert.equal(baseline(threaded), before);
});

test("race detection: random delays around every task reorder completions; outputs and counters never change", async () => {
  const up = await createUpscaler({ model: net, threads: 3, tileSize: 12 });
  const jitter = rng(31337);
  const runner = (up as unknown as { runner: { run(t: unknown): Promise<unknown>; concurrency: number } }).runner;
  const inner = runner.run.bind(runner);
  const sleep = () => new Promise((r) => setTimeout(r, Math.floor(jitter() * 4)));
  runner.run = async (task) => { await sleep(); const done = await inner(task); await sleep(); return done; };
  try {
    const images = [randomImage(rand, 29, 17), randomImage(rand, 8, 40), randomImage(rand, 33, 33)];
    const expected: Awaited<ReturnType<Upscaler["upscale"]>>[] = [];
    for (const img of images) expected.push(await inline.upscale(img));
    const baselineStats = baseline(up);
    for (let round = 0; round < 4; round++) {
      const got = await Promise.all(images.map((img) => up.upscale(img)));
      got.forEach((g, i) => assert.ok(sameBytes(g.data, expected[i].data), `round ${round}, image ${i}`));
      assert.equal(baseline(up), baselineStats, `counters after round ${round}`);
    }
  } finally {
    await up.dispose();
  }
});

test("stress: 60 random jobs with random tile sizes, all in flight together", async () => {
  const ups = await Promise.all([8, 11, 23].map((tileSize) => createUpscaler({ model: net, threads: 3, tileSize })));
  try {
    const jobs = Array.from({ length: 60 }, (_, i) => ({ img: randomImage(rand, randInt(rand, 1, 33), randInt(rand, 1, 33)), up: ups[i % 3] }));
    const expected = await Promise.all(jobs.map((j) => inline.upscale(j.img)));
    const got = await Promise.all(jobs.map((j) => j.up.upscale(j.img)));
    got.forEach((g, i) => assert.ok(sameBytes(g.data, expected[i].data), `job ${i}`));
    for (const up of ups) assert.is(up.stats().activeLeases, 2);
  } finally {
    await Promise.all(ups.map((u) => u.dispose()));
  }
});

test("abort stops the job with AbortError and returns every buffer; the upscaler keeps working", async () => {
  const before = baseline(threaded);
  const ac = new AbortController();
  const img = randomImage(rand, 120, 90);
  let progressCalls = 0;
  const p = threaded.upscale(img, { signal: ac.signal, onProgress: () => { if (++progressCalls === 2) ac.abort(new Error("user cancelled")); } });
  try {
    await p;
    assert.unreachable("should have aborted");
  } catch (e) {
    assert.is((e as Error).name, "AbortError");
    assert.is((e as { code: string }).code, "ERR_ABORTED");
    assert.is(((e as Error).cause as Error).message, "user cancelled");
  }
  assert.equal(baseline(threaded), before);
  const pre = new AbortController();
  pre.abort();
  try { await threaded.upscale(img, { signal: pre.signal }); assert.unreachable(); } catch (e) { assert.is((e as Error).name, "AbortError"); }
  const again = await threaded.upscale(randomImage(rand, 9, 9));
  assert.is(again.width, 36);
  assert.equal(baseline(threaded), before);
});

test("a worker terminated mid-job is replaced, the tile re-runs, the result is unchanged, nothing leaks", async () => {
  const img = randomImage(rand, 150, 120);
  const expected = await inline.upscale(img);
  const before = baseline(threaded);
  const piscina = (threaded as unknown as { runner: { piscina: { threads: Array<{ terminate(): Promise<number> }> } } }).runner.piscina;
  let killed = false;
  const got = await threaded.upscale(img, {
    onProgress: () => { if (!killed) { killed = true; void piscina.threads[0].terminate(); } },
  });
  assert.ok(killed);
  assert.ok(sameBytes(got.data, expected.data));
  assert.equal(baseline(threaded), before);
  // Dead workers' thread indices are freed: per-thread use is back to the scheduler's weights only.
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(Object.keys(threaded.stats().perThread), ["0"]);
});

test("invalid input is a typed error and leaves the pool untouched", async () => {
  const before = baseline(threaded);
  for (const bad of [
    { data: new Uint8ClampedArray(10), width: 2, height: 2 },
    { data: new Uint8ClampedArray(0), width: 0, height: 0 },
    { data: new Uint8ClampedArray(4), width: 1.5, height: 1 },
    // 20000×7000 → 80000×28000 RGBA is 8.9 GB: refused before anything is allocated.
    { data: new Uint8ClampedArray(20000 * 7000 * 4), width: 20000, height: 7000 },
  ]) {
    try { await threaded.upscale(bad); assert.unreachable(); } catch (e) { assert.is((e as { code: string }).code, "ERR_INVALID_INPUT"); }
  }
  assert.equal(baseline(threaded), before);
});

test("a small memoryLimit shrinks tiles instead of failing, with identical output", async () => {
  const small = await createUpscaler({ model: net, threads: 2, tileSize: 1024, memoryLimit: 16 << 20 });
  try {
    const img = randomImage(rand, 700, 500);
    const got = await small.upscale(img);
    assert.ok(sameBytes(got.data, (await inline.upscale(img)).data));
    assert.ok(small.stats().peakBytes <= 16 << 20);
    assert.is(small.stats().activeLeases, 2);
  } finally {
    await small.dispose();
  }
});

test("an image too large to hold whole for a whole-image-statistics network runs in stages: equal to the whole-image run, in bounded memory, nothing leaks", async () => {
  const globalNet = globalNetwork(rng(5));
  const big = await createUpscaler({ model: globalNet, threads: 2 });
  const small = await createUpscaler({ model: globalNet, threads: 2, memoryLimit: 16 << 20, tileSize: 64 });
  try {
    const before = baseline(small);
    assert.is(small.info().receptiveRadius, Infinity);
    const img = randomImage(rand, 400, 300);
    const fractions: number[] = [];
    const staged = await small.upscale(img, { onProgress: (p) => fractions.push(p.fraction) });
    const whole = await big.upscale(img);
    assert.ok(sameBytes(staged.data, whole.data), "staged differs from the whole-image run");
    assert.ok(small.stats().peakBytes <= 16 << 20);
    assert.ok(fractions.length > 4 && fractions.every((f, i) => i === 0 || f >= fractions[i - 1]) && fractions.at(-1) === 1, "progress over the stages");
    assert.equal(baseline(small), before);
  } finally {
    await small.dispose();
    await big.dispose();
  }
});

test("dispose releases the weights and refuses later use", async () => {
  const up = await createUpscaler({ model: net, threads: 2 });
  assert.is(up.stats().activeLeases, 2);
  await up.dispose();
  assert.is(up.stats().activeLeases, 0);
  assert.is(up.stats().currentBytes, 0);
  try { await up.upscale(randomImage(rand, 4, 4)); assert.unreachable(); } catch (e) { assert.is((e as { code: string }).code, "ERR_DISPOSED"); }
});

test.run();
