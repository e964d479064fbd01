// The `srgan` CLI end to end on small generated images and networks in a temp dir: outputs, exit
// codes (0 / 1 / 2) and one-line errors. The core contract is checked on real processes (`node
// --import tsx src/cli/main.ts …`); the rest calls main() in this process, as each spawn costs ~1 s.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import { existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { deflateSync } from "node:zlib";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { decodeImage, encodeJpeg, encodePng } from "../../src/image/codec.js";
import { decodeNetwork, encodeNetwork } from "../../src/model/formats/srnet.js";
import type { Graph } from "../../src/model/graph.js";
import { progressBar } from "../../src/cli/progress.js";
import { main } from "../../src/cli/main.js";
import { writeImage } from "../../src/cli/io.js";
import { globalNetwork, rng, TSX } from "../helpers.js";
import { blackPng, jpegClaiming } from "../bombs.js";

const test = suite("cli");
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "srgan-cli-"));
const p = (...parts: string[]) => join(dir, ...parts);

interface Result { status: number | null; stdout: string; stderr: string }

function srgan(args: string[], env: Record<string, string> = {}): Promise<Result> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [...TSX, "src/cli/main.ts", ...args], {
      cwd: ROOT, env: { ...process.env, SRGAN_DEBUG: "", ...env }, stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "", stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", fail);
    child.on("close", (status) => done({ status, stdout, stderr }));
  });
}

/** main() in this process, with stdout/stderr captured. */
async function srganHere(args: string[], env: Record<string, string> = {}): Promise<Result> {
  let stdout = "", stderr = "";
  const { write: out } = process.stdout, { write: err } = process.stderr;
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  process.stdout.write = ((chunk: string) => { stdout += chunk; return true; }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string) => { stderr += chunk; return true; }) as typeof process.stderr.write;
  Object.assign(process.env, env);
  try {
    return { status: await main(args), stdout, stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  }
}

const lines = (s: string) => s.split("\n").filter((l) => l.length > 0);

/** Exactly one stderr line, `srgan: CODE: …`, and no stack trace. */
function assertOneLineError(r: Result, status: number, code: string, pattern?: RegExp) {
  const err = lines(r.stderr);
  assert.is(r.status, status, `exit status (stderr: ${r.stderr})`);
  assert.is(err.length, 1, `one stderr line, got:\n${r.stderr}`);
  assert.match(err[0], new RegExp(`^srgan: ${code}: `));
  if (pattern) assert.match(err[0], pattern);
  assert.not.match(r.stderr, /\n\s+at /, "no stack trace");
}

function image(w: number, h: number, seed: number) {
  const rand = rng(seed);
  const data = new Uint8ClampedArray(w * h * 4);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const i = (y * w + x) * 4;
    data[i] = (x * 255) / w; data[i + 1] = (y * 255) / h; data[i + 2] = 128 + 60 * Math.sin(x / 2) * rand(); data[i + 3] = 255;
  }
  return { data, width: w, height: h };
}

/** A tiny trained-looking network: near-identity 3×3 conv (with bias), then bicubic ×2. */
function tinyNetwork(): Graph {
  const rand = rng(77);
  const k = new Float32Array(3 * 3 * 3 * 3);
  for (let o = 0; o < 3; o++) for (let i = 0; i < 9 * 3; i++) k[o * 27 + i] = (rand() - 0.5) * 0.02 + (i === 4 * 3 + o ? 1 : 0);
  return {
    name: "tiny", scale: 2, input: "x", output: "y",
    nodes: [
      { op: "Conv2D", inputs: ["x"], output: "c", attrs: { k: 3, cout: 3 }, weights: { kernel0: "c.k", bias: "c.b" } },
      { op: "Resize", inputs: ["c"], output: "y", attrs: { method: "bicubic", scale: 2 }, weights: {} },
    ],
    weights: { "c.k": { shape: [3, 3, 3, 3], data: k }, "c.b": { shape: [3], data: Float32Array.from([0.001, -0.002, 0.0015]) } },
    meta: { description: "test network" },
  };
}

writeFileSync(p("small.png"), encodePng(image(24, 16, 1)));
writeFileSync(p("truth.png"), encodePng(image(32, 32, 2)));
writeFileSync(p("tiny.srnet"), encodeNetwork(tinyNetwork()));
const good = encodePng(image(20, 12, 3));
writeFileSync(p("corrupt.png"), good.subarray(0, good.length - 30));

test("as a process: upscale writes a 4× PNG; usage error exits 2, corrupt input 1, one line each", async () => {
  const [up, usage, corrupt] = await Promise.all([
    srgan(["upscale", p("small.png"), p("small-4x.png"), "--model", "bicubic", "--threads", "0", "--stats"]),
    srgan(["upscale", p("small.png"), p("x.png"), "--frobnicate"]),
    srgan(["upscale", p("corrupt.png"), p("out.png"), "--threads", "0"]),
  ]);
  assert.is(up.status, 0, up.stderr);
  const out = decodeImage(readFileSync(p("small-4x.png")));
  assert.is(out.width, 96);
  assert.is(out.height, 64);
  assert.match(up.stdout, /→ .*small-4x\.png \(96×64/);
  assert.match(up.stdout, /pool: peak \d+ bytes .* current \d+ bytes/);
  assert.is(up.stderr, "", "quiet stderr when not a terminal");
  assertOneLineError(usage, 2, "ERR_USAGE", /upscale: unknown option '--frobnicate'/);
  assertOneLineError(corrupt, 1, "ERR_IMAGE_DECODE", /corrupt\.png: PNG is truncated/);
  assert.not.ok(existsSync(p("x.png")) || existsSync(p("out.png")), "no output on failure");
});

test("usage errors exit 2 with one line", async () => {
  const cases: [string[], RegExp][] = [
    [[], /no command/],
    [["upscal", "a", "b"], /unknown command 'upscal' \(did you mean 'upscale'\?\)/],
    [["--frobnicate"], /unknown option '--frobnicate'/],
    [["upscale", p("small.png")], /upscale: missing OUT/],
    [["upscale", p("small.png"), p("x.png"), "extra"], /unexpected argument 'extra'/],
    [["upscale", p("small.png"), p("x.png"), "--threads", "lots"], /--threads must be an integer/],
    [["upscale", p("small.png"), p("x.png"), "--model"], /option '--model' needs a value/],
    [["psnr", "a", "b", "--y=1"], /option '--y' takes no value/],
    [["downscale", p("small.png"), p("x.png")], /--factor N is required/],
    [["downscale", p("small.png"), p("x.png"), "-f", "2", "--method", "lanczos"], /--method must be one of bicubic, box, box-linear/],
    [["quantise", "a", "b", "--mode", "int4"], /--mode must be one of f16, trunc12/],
    [["batch", p("small.png"), p("small.png")], /OUT_DIR must differ/],
  ];
  for (const [args, pattern] of cases) assertOneLineError(await srganHere(args), 2, "ERR_USAGE", pattern);
  assert.not.ok(existsSync(p("x.png")));
});

test("failures exit 1 with one line; SRGAN_DEBUG=1 adds the stack", async () => {
  assertOneLineError(await srganHere(["upscale", p("missing.png"), p("out.png"), "--threads", "0"]), 1, "ERR_IO", /missing\.png': no such file/);
  assertOneLineError(await srganHere(["upscale", p("small.png"), p("out.bmp"), "--threads", "0"]), 1, "ERR_IMAGE_ENCODE", /\.png, \.jpg or \.jpeg/);
  assertOneLineError(await srganHere(["upscale", p("small.png"), p("out.png"), "--model", p("small.png"), "--threads", "0"]), 1, "ERR_MODEL_FORMAT", /not a network file/);
  assertOneLineError(await srganHere(["info", p("nothing.srnet")]), 1, "ERR_IO", /nothing\.srnet/);
  const debug = await srganHere(["upscale", p("corrupt.png"), p("out.png"), "--threads", "0"], { SRGAN_DEBUG: "1" });
  assert.is(debug.status, 1);
  assert.match(debug.stderr, /^srgan: ERR_IMAGE_DECODE: /);
  assert.match(debug.stderr, /\n\s+at /, "stack trace with SRGAN_DEBUG=1");
  assert.not.ok(existsSync(p("out.png")), "no output on failure");
});

test("batch: one upscaler for all, skips a bad file, resumes, exit 1 when any failed", async () => {
  const inDir = p("batch-in"), outDir = p("batch-out");
  mkdirSync(join(inDir, "sub"), { recursive: true });
  writeFileSync(join(inDir, "a.png"), encodePng(image(12, 10, 4)));
  writeFileSync(join(inDir, "b.jpg"), encodeJpeg(image(16, 8, 5), 90));
  writeFileSync(join(inDir, "bad.png"), good.subarray(0, 50));
  writeFileSync(join(inDir, "notes.txt"), "not an image");
  writeFileSync(join(inDir, "sub", "c.png"), encodePng(image(8, 8, 6)));

  const first = await srgan(["batch", inDir, outDir, "--model", "bicubic", "--threads", "0", "--recursive"]);
  assert.is(first.status, 1, first.stderr);
  assert.match(first.stdout, /batch: 3 upscaled, 0 skipped \(output exists\), 1 failed/);
  assert.match(first.stdout, /failed: bad\.png/);
  assert.match(first.stderr, /FAILED bad\.png: ERR_IMAGE_DECODE: /);
  assert.is(decodeImage(readFileSync(join(outDir, "a.png"))).width, 48);
  assert.is(decodeImage(readFileSync(join(outDir, "b.jpg"))).height, 32);
  assert.is(decodeImage(readFileSync(join(outDir, "sub", "c.png"))).width, 32);
  assert.not.ok(existsSync(join(outDir, "bad.png")));
  assert.not.ok(existsSync(join(outDir, "notes.txt")));

  // Resume: a.png's output is kept as is; the removed one is redone; the bad file fails again.
  const before = statSync(join(outDir, "a.png")).mtimeMs;
  unlinkSync(join(outDir, "b.jpg"));
  const second = await srgan(["batch", inDir, outDir, "--model", "bicubic", "--threads", "0", "--recursive"]);
  assert.is(second.status, 1, second.stderr);
  assert.match(second.stdout, /batch: 1 upscaled, 2 skipped \(output exists\), 1 failed/);
  assert.match(second.stderr, /skip a\.png/);
  assert.is(statSync(join(outDir, "a.png")).mtimeMs, before);
  assert.ok(existsSync(join(outDir, "b.jpg")));

  // With the bad file gone, the same command succeeds and has nothing left to do.
  unlinkSync(join(inDir, "bad.png"));
  const third = await srganHere(["batch", inDir, outDir, "--threads", "0", "--recursive"]);
  assert.is(third.status, 0, third.stderr);
  assert.match(third.stdout, /batch: 0 upscaled, 3 skipped/);

  // --format png would map a.jpg and a.png to the same output: refused before any work.
  writeFileSync(join(inDir, "a.jpg"), encodeJpeg(image(8, 8, 7), 90));
  const clash = await srganHere(["batch", inDir, p("batch-png"), "--format", "png", "--threads", "0"]);
  assertOneLineError(clash, 2, "ERR_USAGE", /a\.jpg and a\.png would both be written/);
  assert.not.ok(existsSync(p("batch-png")));
});

test("--help on the top level and on every command exits 0", async () => {
  const commands = ["upscale", "batch", "downscale", "psnr", "ssim", "info", "convert", "quantise", "profile-memory", "eval", "train"];
  const top = await srganHere(["--help"]);
  const each = [];
  for (const c of commands) each.push(await srganHere([c, "--help", "--frobnicate"]));
  assert.is(top.status, 0);
  for (const c of commands) assert.match(top.stdout, new RegExp(`\\n  ${c} `), `top-level help lists ${c}`);
  each.forEach((r, i) => {
    assert.is(r.status, 0, `${commands[i]} --help: ${r.stderr}`);
    assert.match(r.stdout, new RegExp(`^Usage: srgan ${commands[i]} `));
  });
});

test("downscale, psnr and ssim print values", async () => {
  const down = await srganHere(["downscale", p("truth.png"), p("truth-x4.png"), "--factor", "4"]);
  assert.is(down.status, 0, down.stderr);
  assert.is(decodeImage(readFileSync(p("truth-x4.png"))).width, 8);
  assert.is((await srganHere(["upscale", p("truth-x4.png"), p("truth-back.png"), "--threads", "0"])).status, 0);
  const same = await srganHere(["psnr", p("truth.png"), p("truth.png")]);
  const psnrY = await srganHere(["psnr", p("small.png"), p("small.png"), "--y", "--shave", "2"]);
  const ssimR = await srganHere(["ssim", p("truth.png"), p("truth.png")]);
  const mismatch = await srganHere(["psnr", p("truth.png"), p("small.png")]);
  const close = await srganHere(["psnr", p("truth.png"), p("truth-back.png")]);
  assert.is(same.stdout.trim(), "inf");
  assert.is(psnrY.stdout.trim(), "inf");
  assert.is(ssimR.stdout.trim(), "1.000000");
  assertOneLineError(mismatch, 1, "ERR_INVALID_INPUT", /same size/);
  const db = Number(close.stdout.trim());
  assert.ok(db > 15 && db < 60, `bicubic round trip PSNR ${close.stdout}`);
});

test("profile-memory prints the job's pool peak and the process peak RSS", async () => {
  const r = await srganHere(["profile-memory", p("truth.png"), "--threads", "0"]);
  assert.is(r.status, 0, r.stderr);
  const peak = Number(/pool peak (\d+) bytes/.exec(r.stdout)?.[1]);
  assert.ok(peak > 0, r.stdout);
  const weights = /weights (\S+ \S+) \+ job/.exec(r.stdout)?.[1];
  assert.ok(weights, r.stdout);
  assert.ok(r.stdout.includes(`after the job ${weights} in 2 leases`), "only the weights remain leased after the job");
  assert.match(r.stdout, /process peak RSS/);
});

test("convert to .onnx: upscale --model x.onnx writes what --model natural writes; OUT's extension picks the format", async () => {
  const conv = await srganHere(["convert", "natural", p("natural.onnx")]);
  assert.is(conv.status, 0, conv.stderr);
  assert.match(conv.stdout, /natural \(built-in\) → .*natural\.onnx \(ONNX opset 13, [\d.]+ MiB; natural ×4, 422,568 parameters\)/);
  // One after the other: srganHere swaps process.stdout.write, so two at once would restore the wrong one.
  const viaOnnx = await srganHere(["upscale", p("small.png"), p("onnx-4x.png"), "--model", p("natural.onnx"), "--threads", "0"]);
  const direct = await srganHere(["upscale", p("small.png"), p("natural-4x.png"), "--model", "natural", "--threads", "0"]);
  assert.is(viaOnnx.status, 0, viaOnnx.stderr);
  assert.is(direct.status, 0, direct.stderr);
  assert.ok(readFileSync(p("onnx-4x.png")).equals(readFileSync(p("natural-4x.png"))), "same bytes through the ONNX round trip");
  assertOneLineError(await srganHere(["convert", "natural", p("n.onx")]), 2, "ERR_USAGE", /convert: OUT must end in \.srnet or \.onnx \(the format to write\), got '.*n\.onx'/);
  assertOneLineError(await srganHere(["convert", "natural", p("n.onnx"), "--f16"]), 2, "ERR_USAGE", /--f16 applies to \.srnet output only/);
  assert.not.ok(existsSync(p("n.onx")) || existsSync(p("n.onnx")));
});

test("info, convert (lossless and --f16) and quantise on a .srnet file", async () => {
  const info = await srganHere(["info", p("tiny.srnet")]);
  const json = await srganHere(["info", p("tiny.srnet"), "--json"]);
  const conv = await srganHere(["convert", p("tiny.srnet"), p("copy.srnet")]);
  const conv16 = await srganHere(["convert", p("tiny.srnet"), p("half.srnet"), "--f16"]);
  const trunc = await srganHere(["quantise", p("tiny.srnet"), p("trunc.srnet"), "--mode", "trunc12"]);
  assert.is(info.status, 0, info.stderr);
  assert.match(info.stdout, /name:\s+tiny/);
  assert.match(info.stdout, /scale:\s+×2/);
  assert.match(info.stdout, /parameters:\s+84\n/);
  assert.match(info.stdout, /multiply-adds:\s+81 per input pixel/, "the README's multiply-adds column comes from here");
  assert.match(info.stdout, /Conv2D ×1, Resize ×1/);
  const j = JSON.parse(json.stdout);
  assert.equal([j.parameters, j.multiplyAddsPerInputPixel, j.scale, j.ops.map((o: { op: string }) => o.op)], [84, 81, 2, ["Conv2D", "Resize"]]);
  assert.ok(j.receptiveRadius >= 1);

  assert.is(conv.status, 0, conv.stderr);
  const original = tinyNetwork();
  const copy = decodeNetwork(new Uint8Array(readFileSync(p("copy.srnet"))));
  for (const [name, w] of Object.entries(original.weights)) assert.equal(Array.from(copy.weights[name].data), Array.from(w.data), `${name} lossless`);
  assert.is(conv16.status, 0, conv16.stderr);
  assert.ok(statSync(p("half.srnet")).size < statSync(p("copy.srnet")).size, "f16 is smaller");

  assert.is(trunc.status, 0, trunc.stderr);
  assert.match(trunc.stdout, /trunc12 .* gzipped/);
  const t = decodeNetwork(new Uint8Array(readFileSync(p("trunc.srnet"))));
  for (const [name, w] of Object.entries(t.weights)) {
    const bits = new Uint32Array(w.data.buffer, w.data.byteOffset, w.data.length);
    assert.ok(bits.every((b) => (b & 0xfff) === 0), `${name}: low 12 mantissa bits are zero`);
    const orig = original.weights[name].data;
    assert.ok(w.data.every((v, i) => Math.abs(v) <= Math.abs(orig[i]) && Math.abs(v - orig[i]) <= Math.abs(orig[i]) * 2 ** -11), `${name}: truncated toward zero`);
  }
});

test("quantise --image reports the PSNR change", async () => {
  const r = await srganHere(["quantise", p("tiny.srnet"), p("q16.srnet"), "--mode", "f16", "--image", p("truth.png"), "--threads", "0"]);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /original\s+\d+\.\d{4} dB/);
  assert.match(r.stdout, /quantised\s+\d+\.\d{4} dB\s+change [+-]\d+\.\d{4} dB/);
});

test("the progress bar draws only after its delay and erases itself", () => {
  let written = "";
  const stream = { columns: 60, write: (s: string) => { written += s; return true; } };
  const quiet = progressBar("job", true, stream, 60_000);
  quiet.update(0.5);
  quiet.done();
  assert.is(written, "", "nothing before the delay");
  const bar = progressBar("job", true, stream, 0);
  bar.update(0.5, "2/4 tiles");
  assert.match(written, /^\rjob \[#+-+\]\s+50% 2\/4 tiles/);
  bar.done();
  assert.ok(written.endsWith("\r\x1b[K"));
  const off = progressBar("job", false, stream, 0);
  const len = written.length;
  off.update(0.9);
  assert.is(written.length, len, "disabled when not a terminal");
});

test("refused before any work: decompression bombs, an output over 2 GiB, a missing or blocked OUT", async () => {
  writeFileSync(p("bomb.png"), blackPng(16000, 16000));
  writeFileSync(p("bomb.jpg"), jpegClaiming(16000, 16000));
  for (const name of ["bomb.png", "bomb.jpg"]) {
    const rss = process.memoryUsage().rss, t = performance.now();
    const r = await srganHere(["upscale", p(name), p("bomb-out.png")]);
    assertOneLineError(r, 1, "ERR_IMAGE_TOO_LARGE", /16000×16000 pixels, over the limit/);
    assert.ok(performance.now() - t < 1000, `${name}: ${performance.now() - t} ms`);
    assert.ok(process.memoryUsage().rss - rss < 300 * 2 ** 20, `${name}: RSS +${(process.memoryUsage().rss - rss) >> 20} MiB`);
  }
  // Within the decode budget, but ×4 is 24000×24000: refused from the header (its pixel data is junk).
  writeFileSync(p("wide.png"), blackPng(6000, 6000, deflateSync(new Uint8Array(10))));
  assertOneLineError(await srganHere(["upscale", p("wide.png"), p("wide-4x.png"), "--model", "bicubic", "--threads", "0"]), 1, "ERR_INVALID_INPUT", /wide\.png: a 6000×6000 input gives a 24000×24000 output/);
  // OUT cannot be written: said before the (here failing) decode.
  assertOneLineError(await srganHere(["upscale", p("corrupt.png"), p("no-dir", "out.png"), "--threads", "0"]), 1, "ERR_IO", /directory '.*no-dir' does not exist/);
  mkdirSync(p("in-the-way.png"));
  assertOneLineError(await srganHere(["upscale", p("corrupt.png"), p("in-the-way.png"), "--threads", "0"]), 1, "ERR_IO", /in-the-way\.png': it is a directory/);
  assertOneLineError(await srganHere(["downscale", p("corrupt.png"), p("no-dir", "out.png"), "-f", "2"]), 1, "ERR_IO", /does not exist/);
  assert.not.ok(readdirSync(dir).some((n) => n.endsWith(".partial")), "the writability probe leaves nothing");
});

test("OUT that is IN (same path, another spelling, a symlink, a hard link) is refused unless --overwrite", async () => {
  mkdirSync(p("same"));
  const a = p("same", "a.png");
  const original = encodePng(image(6, 5, 8));
  writeFileSync(a, original);
  symlinkSync(a, p("same", "link.png"));
  linkSync(a, p("same", "hard.png"));
  for (const out of [a, p("same", ".", "a.png"), p("same", "link.png"), p("same", "hard.png")]) {
    assertOneLineError(await srganHere(["upscale", a, out, "--model", "bicubic", "--threads", "0"]), 2, "ERR_USAGE", /OUT '.*' is the input file itself.*--overwrite/);
  }
  assertOneLineError(await srganHere(["downscale", a, a, "-f", "2"]), 2, "ERR_USAGE", /is the input file itself/);
  assert.equal(new Uint8Array(readFileSync(a)), original, "input untouched");
  const r = await srganHere(["upscale", a, a, "--model", "bicubic", "--threads", "0", "--overwrite"]);
  assert.is(r.status, 0, r.stderr);
  assert.is(decodeImage(readFileSync(a)).width, 24);
  mkdirSync(p("same-out"));
  symlinkSync(p("same-out"), p("same-out-link"));
  assertOneLineError(await srganHere(["batch", p("same-out"), p("same-out-link")]), 2, "ERR_USAGE", /OUT_DIR must differ/);
});

test("--memory-limit takes sizes with units; out of memory names the flag; --threads -1 names the range", async () => {
  const big = await srganHere(["upscale", p("small.png"), p("mem.png"), "--model", "bicubic", "--threads", "0", "--memory-limit", "1.5GiB", "--stats"]);
  assert.is(big.status, 0, big.stderr);
  const capacity = Number(/capacity (\S+) MiB/.exec(big.stdout)?.[1]);
  assert.ok(capacity > 1400 && capacity <= 1536, `pool capacity ${capacity} MiB`);
  for (const bad of ["12MiB", "5GiB", "lots", "-1"]) {
    assertOneLineError(await srganHere(["upscale", p("small.png"), p("mem.png"), "--memory-limit", bad]), 2, "ERR_USAGE", /--memory-limit must be a size from 16\.0 MiB .* such as 2GiB/);
  }
  // A whole-image network needs memory for every activation at once: 16 MiB is too little for 300×300.
  writeFileSync(p("global.srnet"), encodeNetwork(globalNetwork(rng(4))));
  writeFileSync(p("300.png"), encodePng(image(300, 300, 9)));
  const oom = await srganHere(["upscale", p("300.png"), p("300-4x.png"), "--model", p("global.srnet"), "--threads", "0", "--memory-limit", "16MiB"]);
  assertOneLineError(oom, 1, "ERR_OUT_OF_MEMORY", /raise --memory-limit/);
  assert.not.match(oom.stderr, /options\./);
  const ok = await srganHere(["upscale", p("300.png"), p("300-4x.png"), "--model", p("global.srnet"), "--threads", "0", "--memory-limit", "256MiB"]);
  assert.is(ok.status, 0, ok.stderr);
  for (const flag of ["--threads", "-t"]) {
    assertOneLineError(await srganHere(["upscale", p("small.png"), p("x.png"), flag, "-1"]), 2, "ERR_USAGE", /--threads must be an integer in \[0, 64\], got '-1'/);
  }
});

test("stale .NAME.PID.partial files of ours are removed by the next write there; live and foreign ones stay", async () => {
  mkdirSync(p("partials"));
  const dead = p("partials", ".x.png.99999999.partial"), live = p("partials", `.y.png.${process.ppid}.partial`), foreign = p("partials", ".notes.partial");
  for (const f of [dead, live, foreign]) writeFileSync(f, "half a file");
  const r = await srganHere(["downscale", p("truth.png"), p("partials", "t.png"), "-f", "2"]);
  assert.is(r.status, 0, r.stderr);
  assert.not.ok(existsSync(dead), "a dead process's temp file is removed");
  assert.ok(existsSync(live) && existsSync(foreign), "a live process's and other names are kept");
});

test("batch redoes an existing output that is torn, empty or of the wrong size, and skips a whole one", async () => {
  const inDir = p("resume-in"), outDir = p("resume-out");
  mkdirSync(inDir);
  for (const [i, name] of ["a.png", "b.png", "c.png", "d.jpg"].entries()) writeFileSync(join(inDir, name), name.endsWith(".png") ? encodePng(image(8, 6, 10 + i)) : encodeJpeg(image(8, 6, 10 + i), 90));
  const first = await srganHere(["batch", inDir, outDir, "--model", "bicubic", "--threads", "0"]);
  assert.is(first.status, 0, first.stderr);
  const whole = readFileSync(join(outDir, "b.png"));
  writeFileSync(join(outDir, "a.png"), whole.subarray(0, whole.length - 20)); // torn
  writeFileSync(join(outDir, "b.png"), new Uint8Array(0)); // empty
  writeFileSync(join(outDir, "c.png"), encodePng(image(8, 6, 1))); // not the ×4 size
  const second = await srganHere(["batch", inDir, outDir, "--model", "bicubic", "--threads", "0"]);
  assert.is(second.status, 0, second.stderr);
  assert.match(second.stdout, /batch: 3 upscaled, 1 skipped/);
  assert.match(second.stderr, /redo a\.png: .*a\.png is truncated/);
  assert.match(second.stderr, /redo b\.png: .*b\.png is not a readable image \(ERR_IMAGE_DECODE: the file is empty\)/);
  assert.match(second.stderr, /redo c\.png: .*c\.png is 8×6, not 32×24/);
  assert.match(second.stderr, /skip d\.jpg/);
  for (const name of ["a.png", "b.png", "c.png"]) assert.is(decodeImage(readFileSync(join(outDir, name))).width, 32, name);
});

test("PNG outputs are encoded by rows: the same pixels as encodePng, without a second copy of the image", async () => {
  for (const [label, img] of [["opaque", image(37, 23, 12)], ["translucent", { ...image(19, 7, 13), data: image(19, 7, 13).data.map((v, i) => (i % 4 === 3 ? (i * 7) & 255 : v)) }]] as const) {
    await writeImage(p(`stream-${label}.png`), img);
    const back = decodeImage(readFileSync(p(`stream-${label}.png`)));
    assert.equal([back.width, back.height], [img.width, img.height], label);
    assert.ok(Buffer.from(back.data).equals(Buffer.from(img.data)), `${label}: pixels`);
  }
  // 4096² RGBA is 64 MiB: a whole-buffer encoder adds an RGB copy (48 MiB) and more; by rows it adds < 48.
  const child = spawn(process.execPath, [...TSX, "test/fixtures/png-write-peak.ts", "4096", p("peak.png")], { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  await new Promise((done) => child.on("close", done));
  const { growthMiB } = JSON.parse(out);
  assert.ok(growthMiB < 48, `writing raised the peak RSS by ${growthMiB} MiB`);
});

test("--model auto: natural-real for a JPEG input, natural for a PNG (upscale and batch say which ran)", async () => {
  mkdirSync(p("auto-in"), { recursive: true });
  writeFileSync(p("auto-in", "a.png"), encodePng(image(12, 10, 8)));
  writeFileSync(p("auto-in", "b.jpg"), encodeJpeg(image(12, 10, 9), 80));
  const jpeg = await srganHere(["upscale", p("auto-in", "b.jpg"), p("auto-b.png"), "--model", "auto", "--threads", "0"]);
  assert.is(jpeg.status, 0, jpeg.stderr);
  assert.match(jpeg.stdout, /with natural-real \(auto: JPEG input\) ×4/);
  const png = await srganHere(["upscale", p("auto-in", "a.png"), p("auto-a.png"), "--model", "auto", "--threads", "0"]);
  assert.match(png.stdout, /with natural \(auto: PNG input\) ×4/);
  const batch = await srganHere(["batch", p("auto-in"), p("auto-out"), "--model", "auto", "--threads", "0"]);
  assert.is(batch.status, 0, batch.stderr);
  assert.match(batch.stderr, /a\.png → .*, natural,/);
  assert.match(batch.stderr, /b\.jpg → .*, natural-real,/);
  // The choice is the network's: the JPEG's output is the same bytes as --model natural-real gives.
  await srganHere(["upscale", p("auto-in", "b.jpg"), p("real-b.png"), "--model", "natural-real", "--threads", "0"]);
  assert.ok(readFileSync(p("auto-b.png")).equals(readFileSync(p("real-b.png"))));
  assert.ok(readFileSync(p("auto-a.png")).equals(readFileSync(p("auto-out", "a.png"))), "batch and upscale agree on a.png");
  // A model or scale that cannot run fails the batch once, before any file or OUT_DIR.
  const bad = await srganHere(["batch", p("auto-in"), p("bad-out"), "--model", "natural-fast", "--scale", "2", "--threads", "0"]);
  assertOneLineError(bad, 2, "ERR_SCALE", /'natural-fast' exists at ×4, not ×2/);
  assert.not.ok(existsSync(p("bad-out")));
});

test("without --model, upscale and batch run auto: natural-real for a JPEG, natural for a PNG, and say which ran", async () => {
  const jpeg = await srganHere(["upscale", p("auto-in", "b.jpg"), p("default-b.png"), "--threads", "0"]);
  assert.is(jpeg.status, 0, jpeg.stderr);
  assert.match(jpeg.stdout, /with natural-real \(auto: JPEG input\) ×4/);
  assert.ok(readFileSync(p("default-b.png")).equals(readFileSync(p("real-b.png"))), "the bytes of --model natural-real");
  const png = await srganHere(["upscale", p("auto-in", "a.png"), p("default-a.png"), "--threads", "0"]);
  assert.match(png.stdout, /with natural \(auto: PNG input\) ×4/);
  const batch = await srganHere(["batch", p("auto-in"), p("default-out"), "--threads", "0"]);
  assert.is(batch.status, 0, batch.stderr);
  assert.match(batch.stderr, /a\.png → .*, natural,/);
  assert.match(batch.stderr, /b\.jpg → .*, natural-real,/);
  const help = await srganHere(["upscale", "--help"]);
  assert.match(help.stdout, /default: auto there/);
});

test("messages: a directory that takes no files, a misspelt network, a scale the network lacks (exit 2)", async () => {
  // /proc exists but holds no new files: not "does not exist".
  const proc = await srganHere(["upscale", p("small.png"), "/proc/out.png", "--model", "bicubic", "--threads", "0"]);
  assertOneLineError(proc, 1, "ERR_IO", /directory '\/proc' exists but takes no new files/);
  const typo = await srganHere(["upscale", p("small.png"), p("typo.png"), "--model", "natral", "--threads", "0"]);
  assertOneLineError(typo, 2, "ERR_USAGE", /--model 'natral' is neither a built-in network nor a file \(did you mean 'natural'\?\); the built-ins are natural, natural-fast, natural-real, nearest, bilinear, bicubic, and 'auto'/);
  const far = await srganHere(["upscale", p("small.png"), p("typo.png"), "--model", "lanczos", "--threads", "0"]);
  assertOneLineError(far, 2, "ERR_USAGE", /'lanczos' is neither .*; the built-ins are/);
  assert.not.match(far.stderr, /did you mean/);
  // A path still gets the loader's reason.
  assertOneLineError(await srganHere(["upscale", p("small.png"), p("typo.png"), "--model", p("none.srnet"), "--threads", "0"]), 1, "ERR_IO", /none\.srnet': no such file/);
  const scale = await srganHere(["upscale", p("small.png"), p("typo.png"), "--scale", "3", "--threads", "0"]);
  assertOneLineError(scale, 2, "ERR_SCALE", /exists at ×4 and ×2, not ×3|not ×3/);
  assert.not.ok(existsSync(p("typo.png")));
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
