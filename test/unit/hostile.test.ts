// Hostile and careless input to the library: decompression bombs refused from the header (fast, no
// memory), wrong option types named, model files that are missing or damaged described truthfully,
// dispose() during a job, and whole-image networks that report progress and stop on abort.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createUpscaler, decodeImage, readImageInfo, DEFAULT_MAX_PIXELS, encodeNetwork, type Upscaler } from "../../src/index.js";
import { globalNetwork, randomImage, rng, shuffleNetwork } from "../helpers.js";
import { blackPng, jpegClaiming } from "../bombs.js";

const test = suite("hostile");
const dir = mkdtempSync(join(tmpdir(), "srgan-hostile-"));
const codeOf = (e: unknown) => (e as { code?: string }).code;

async function rejection(p: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await p;
  } catch (e) {
    return e as Error & { code?: string };
  }
  throw new Error("expected a rejection");
}

test("decompression bombs: a 16000×16000 JPEG header and a valid 16000×16000 PNG are refused in < 1 s, < 300 MB", () => {
  const bombs: [string, Uint8Array][] = [["JPEG", jpegClaiming(16000, 16000)], ["PNG", blackPng(16000, 16000)]];
  assert.ok(bombs[0][1].length < 12_000 && bombs[1][1].length < 1_000_000, "small files");
  assert.ok(16000 * 16000 > DEFAULT_MAX_PIXELS);
  for (const [label, bytes] of bombs) {
    assert.equal(readImageInfo(bytes, { maxPixels: 2 ** 28 }), { format: label.toLowerCase(), width: 16000, height: 16000 }, `${label} header`);
    const rss = process.memoryUsage().rss, t = performance.now();
    try {
      decodeImage(bytes);
      assert.unreachable(`${label} decoded`);
    } catch (e) {
      assert.is(codeOf(e), "ERR_IMAGE_TOO_LARGE", `${label}: ${(e as Error).message}`);
      assert.match((e as Error).message, /16000×16000 .*over the limit of 67108864 pixels.*maxPixels/);
    }
    assert.ok(performance.now() - t < 1000, `${label}: refused in ${performance.now() - t} ms`);
    assert.ok(process.memoryUsage().rss - rss < 300 * 2 ** 20, `${label}: RSS grew by ${(process.memoryUsage().rss - rss) / 2 ** 20} MiB`);
  }
  assert.throws(() => decodeImage(bombs[1][1], { maxPixels: 2 ** 29 }), (e: Error) => e instanceof RangeError && /options\.maxPixels/.test(e.message));
  // Under the budget but far too short for its size (every 8×8 block takes a bit): refused before jpeg-js allocates.
  const short = jpegClaiming(8000, 8000), t = performance.now();
  assert.throws(() => decodeImage(short), (e: Error) => codeOf(e) === "ERR_IMAGE_DECODE" && /declares 8000×8000 pixels, which take at least 125000 bytes/.test(e.message));
  assert.ok(performance.now() - t < 1000, `short JPEG refused in ${performance.now() - t} ms`);
  // The budget is the caller's to raise: a 4096×4096 PNG under a 2^24 budget decodes.
  assert.is(decodeImage(blackPng(4096, 4096), { maxPixels: 2 ** 24 }).width, 4096);
});

test("upscaler.checkSize refuses an output over 2 GiB before anyone decodes it", async () => {
  const up = await createUpscaler({ model: "bicubic", threads: 0 });
  try {
    up.checkSize(4000, 4000); // 16000×16000 output: 1 GiB, fine
    const e = (() => { try { up.checkSize(6000, 6000); } catch (err) { return err; } })();
    assert.is(codeOf(e), "ERR_INVALID_INPUT");
    assert.match((e as Error).message, /6000×6000 input gives a 24000×24000 output, over the 2 GiB/);
    assert.throws(() => up.checkSize("12" as never, 5), (err: Error) => err instanceof TypeError && /image\.width must be a number, got '12' \(a string\)/.test(err.message));
  } finally {
    await up.dispose();
  }
});

test("options of upscale() with the wrong type are TypeErrors naming them; width '4' is named as a string", async () => {
  const up = await createUpscaler({ model: "bicubic", threads: 0 });
  const img = randomImage(rng(1), 4, 4);
  try {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ signal: "x" }, /options\.signal must be an AbortSignal, got 'x' \(a string\)/],
      [{ signal: {} }, /options\.signal must be an AbortSignal, got an object/],
      [{ onProgress: 5 }, /options\.onProgress must be a function, got 5/],
    ];
    for (const [opts, message] of cases) {
      const e = await rejection(up.upscale(img, opts as never));
      assert.instance(e, TypeError);
      assert.match(e.message, message);
    }
    const e = await rejection(up.upscale({ ...img, width: "4" as never }));
    assert.instance(e, TypeError);
    assert.match(e.message, /image\.width must be a number, got '4' \(a string\)/);
    assert.is(up.stats().activeLeases, 2, "nothing leased");
  } finally {
    await up.dispose();
  }
});

test("a missing network file is ERR_IO naming the path and the cause", async () => {
  const path = join(dir, "no-such.srnet");
  const e = await rejection(createUpscaler({ model: path, threads: 0 }));
  assert.is(e.code, "ERR_IO");
  assert.is(e.message, `cannot read network file '${path}': no such file or directory`);
});

test("a damaged .srnet: the message names the file; a flipped version field says corrupt, not 'upgrade'", async () => {
  const good = encodeNetwork(shuffleNetwork(rng(5), 4));
  const flipped = good.slice();
  flipped[8] ^= 0xff; flipped[9] ^= 0xff; flipped[10] ^= 0xff; flipped[11] ^= 0xff; // version 1 → 0xfffffffe
  const path = join(dir, "flipped.srnet");
  writeFileSync(path, flipped);
  const e = await rejection(createUpscaler({ model: path, threads: 0 }));
  assert.is(e.code, "ERR_MODEL_FORMAT");
  assert.match(e.message, new RegExp(`^${path.replace(/[.\\/]/g, "\\$&")}: network file checksum mismatch .*corrupt`));
  assert.not.match(e.message, /upgrade|version/);
});

test("dispose() during a running job rejects it with ERR_DISPOSED and frees every buffer", async () => {
  for (const threads of [0, 2]) {
    const up: Upscaler = await createUpscaler({ model: shuffleNetwork(rng(6), 16), threads, tileSize: 16 });
    const job = rejection(up.upscale(randomImage(rng(7), 200, 200)));
    await new Promise((r) => setTimeout(r, 30));
    await up.dispose();
    const e = await job;
    assert.is(e.code, "ERR_DISPOSED", `threads ${threads}: ${e.code}: ${e.message}`);
    assert.match(e.message, /disposed while the job ran/);
    assert.equal([up.stats().currentBytes, up.stats().activeLeases], [0, 0], `threads ${threads}: pool empty`);
  }
});

test("whole-image networks on the calling thread: progress per layer, and an abort between layers", async () => {
  const up = await createUpscaler({ model: globalNetwork(rng(8)), threads: 0 });
  const img = randomImage(rng(9), 48, 40);
  try {
    const fractions: number[] = [];
    await up.upscale(img, { onProgress: (p) => fractions.push(p.fraction) });
    assert.ok(fractions.length > 2, `progress events: ${fractions}`);
    assert.ok(fractions.every((f, i) => f > 0 && f <= 1 && (i === 0 || f > fractions[i - 1])), `rising: ${fractions}`);
    assert.is(fractions.at(-1), 1);
    // The abort is queued as a timer (as Ctrl-C arrives as an event): seen only if the job yields.
    const before = up.stats().currentBytes;
    const controller = new AbortController();
    const e = await rejection(up.upscale(img, { signal: controller.signal, onProgress: () => setTimeout(() => controller.abort(new Error("stop")), 0) }));
    assert.is(e.code, "ERR_ABORTED");
    assert.equal([up.stats().currentBytes, up.stats().activeLeases], [before, 2], "pool back to baseline");
  } finally {
    await up.dispose();
  }
});

test("checkSize of a whole-image network counts the pool it can have, not what a running job holds now", async () => {
  const up = await createUpscaler({ model: globalNetwork(rng(3)), threads: 0, memoryLimit: 32 << 20 });
  const pool = (up as unknown as { engine: { pool: { lease(n: number): unknown; release(l: unknown): void; largestFreeRun(): number } } }).engine.pool;
  try {
    up.checkSize(128, 128);
    const busy = pool.lease(pool.largestFreeRun() - (1 << 20)); // another job's whole-image lease
    try {
      up.checkSize(128, 128); // still fits once that job ends: not refused up front
    } finally {
      pool.release(busy);
    }
    const e = (() => { try { up.checkSize(3000, 3000); } catch (err) { return err; } })();
    assert.is(codeOf(e), "ERR_OUT_OF_MEMORY");
  } finally {
    await up.dispose();
  }
});

test("Node without process.getBuiltinModule (before 20.16) is told so, not sent to configure a bundler", () => {
  const code = "delete process.getBuiltinModule; const { createUpscaler } = await import('./src/index.ts');" +
    "for (const model of ['bicubic', 'models/natural-x4.srnet']) {" +
    "try { await createUpscaler({ threads: 0, model }); console.log('created'); } catch (e) { console.log(e.code + ': ' + e.message); } }";
  const out = execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], { cwd: fileURLToPath(new URL("../../", import.meta.url)), encoding: "utf8" });
  // For a network file too: the reader's refusal is not an I/O error about that file.
  const lines = out.trim().split("\n");
  assert.is(lines.length, 2, out);
  for (const line of lines) assert.match(line, /^ERR_UNSUPPORTED: Node \S+ is too old: srgan-wasm needs Node 20\.16 or later/);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
