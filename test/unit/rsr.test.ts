// SPDX-License-Identifier: MIT
// srgan-rust .rsr loader: the published files parse; truncation and corruption are ModelFormatErrors;
// synthetic networks written here (bincode → shuffle → a stored-LZMA2 xz stream) round-trip; the graph
// agrees with a direct f64 evaluation of the doc's formulas, and the wasm backend with the reference.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { ModelFormatError } from "../../src/errors.js";
import { validateGraph, type ValidatedGraph } from "../../src/model/graph.js";
import { loadNetwork } from "../../src/api/load-network.js";
import { decodeRsr, parseRsrPayload, shuffleBytes } from "../../src/model/formats/rsr.js";
import { rsrGraph, rsrJumps, rsrParameterSpec, type RsrArray, type RsrHyper } from "../../src/model/families/srgan-rust.js";
import { Engine } from "../../src/runtime/engine.js";
import { prepareNetwork } from "../../src/runtime/network.js";
import { planExecution } from "../../src/runtime/plan.js";
import { runPlanReference, runPlanWasm } from "../../src/runtime/executor.js";
import type { ConvAlgorithm } from "../../src/ops/op.js";
import { assertClose, haveShared, randomArray, rng, SHARED } from "../helpers.js";
import { bincode, payload, randomArrays, rsrFile } from "../rsr-writer.js";

const test = suite("rsr");

async function rejects(p: Promise<unknown> | (() => unknown), re: RegExp, label: string): Promise<void> {
  try {
    await (typeof p === "function" ? p() : p);
  } catch (e) {
    if (!(e instanceof ModelFormatError)) return assert.unreachable(`${label}: threw ${(e as Error)?.name}: ${(e as Error)?.message}`);
    assert.match(e.message, re, label);
    return;
  }
  assert.unreachable(`${label}: no error`);
}

// ---- a direct evaluation of the doc's formulas (f64), independent of our ops ------------------------

function direct(h: RsrHyper, arrays: RsrArray[], x: Float32Array, H: number, W: number): Float64Array {
  let p = 0;
  const next = () => arrays[p++].data;
  const g = h.globalNodeFactor, D = 2 ** h.logDepth, f = h.factor, P = H * W;
  const S = (v: number, L: number, C: number, R: number) =>
    v <= -1 ? -(2 / 3) * (C - 1.5 * L * v - 0.875 * L - 0.125 * R)
      : v >= 1 ? (2 / 3) * (C + 1.5 * R * v - 0.125 * L - 0.875 * R)
        : -(1 / 3) * (C * v ** 3 - 3 * C * v - 0.5 * (L + R) * v ** 3 + 0.75 * (L - R) * v * v);
  const spl = (t: Float64Array, c: number, s: Float32Array) => t.map((v, i) => S(v, s[i % c], s[c + (i % c)], s[2 * c + (i % c)]));
  const mean = (t: Float64Array, c: number) => { const m = new Float64Array(c); t.forEach((v, i) => { m[i % c] += v / P; }); return m; };
  const lin = (v: Float64Array, M: Float32Array, n: number) => { const o = new Float64Array(n); v.forEach((a, k) => { for (let j = 0; j < n; j++) o[j] += a * M[k * n + j]; }); return o; };
  const hs: { t: Float64Array; c: number }[] = [{ t: Float64Array.from(x), c: 3 }];
  const as: Float64Array[] = [];
  if (g > 0) { const Win = next(); as.push(spl(lin(mean(hs[0].t, 3), Win, 3 * g), 3 * g, next())); }
  let z = new Float64Array(0), c = 0;
  for (let i = 0; i < D; i++) {
    c = i < D - 1 ? h.width * rsrJumps(i).length : 3 * f * f;
    z = new Float64Array(P * c);
    const beta = new Float64Array(c);
    const conv = (k: number, K: Float32Array) => {
      const { t, c: ci } = hs[k];
      for (let y = 0; y < H; y++) for (let xx = 0; xx < W; xx++) for (let o = 0; o < c; o++) {
        let s = 0;
        for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) {
          const yy = y + a - 1, xb = xx + b - 1;
          if (yy < 0 || yy >= H || xb < 0 || xb >= W) continue;
          for (let q = 0; q < ci; q++) s += K[((o * 3 + a) * 3 + b) * ci + q] * t[(yy * W + xb) * ci + q];
        }
        z[(y * W + xx) * c + o] += s;
      }
    };
    if (g > 0) {
      next().forEach((v, j) => { beta[j] += v; });
      for (const s of rsrJumps(i)) { conv(i + 1 - s, next()); lin(as[i + 1 - s], next(), c).forEach((v, j) => { beta[j] += v; }); }
    } else {
      for (const s of rsrJumps(i)) conv(i + 1 - s, next());
      next().forEach((v, j) => { beta[j] += v; });
    }
    z = z.map((v, j) => v + beta[j % c]);
    if (i < D - 1) {
      const hn = spl(z, c, next());
      hs.push({ t: hn, c });
      if (g > 0) {
        let a = lin(mean(hn, c), next(), g * c);
        if (h.globalBias) { const b = next(); a = a.map((v, j) => v + b[j]); }
        as.push(spl(a, g * c, next()));
      }
    }
  }
  // Expand (dy, dx, colour channel split) + Linterp (half-pixel centres, clamped edges).
  const y = new Float64Array(P * f * f * 3);
  const tap = (o: number, n: number): [number, number, number] => {
    const u = (o + 0.5) / f - 0.5, i0 = Math.floor(u), t = u - i0;
    return [Math.min(Math.max(i0, 0), n - 1), Math.min(Math.max(i0 + 1, 0), n - 1), t];
  };
  for (let oy = 0; oy < H * f; oy++) for (let ox = 0; ox < W * f; ox++) for (let k = 0; k < 3; k++) {
    const [y0, y1, ty] = tap(oy, H), [x0, x1, tx] = tap(ox, W);
    const px = (yy: number, xq: number) => x[(yy * W + xq) * 3 + k];
    const bil = (1 - ty) * ((1 - tx) * px(y0, x0) + tx * px(y0, x1)) + ty * ((1 - tx) * px(y1, x0) + tx * px(y1, x1));
    const ch = ((oy % f) * f + (ox % f)) * 3 + k;
    y[(oy * W * f + ox) * 3 + k] = z[(Math.floor(oy / f) * W + Math.floor(ox / f)) * c + ch] + bil;
  }
  return y;
}

const engine = await Engine.create({ memoryLimit: 128 << 20, wasmVariant: "simd" });

function runBoth(vg: ValidatedGraph, x: Float32Array, H: number, W: number, conv: ConvAlgorithm = "direct") {
  const net = prepareNetwork(engine, vg, { conv });
  const plan = planExecution(vg, H, W);
  const lease = engine.pool.lease(plan.arenaBytes * 2);
  try {
    const a = lease.ptr, b = lease.ptr + plan.arenaBytes;
    for (const base of [a, b]) engine.f32(base + plan.input.offset, x.length).set(x);
    runPlanWasm(engine.kernels, net.handle, plan, a);
    runPlanReference(engine.memory.buffer, vg, plan, b);
    const n = plan.output.shape.h * plan.output.shape.w * plan.output.shape.c;
    return { wasm: engine.f32(a + plan.output.offset, n).slice(), ref: engine.f32(b + plan.output.offset, n).slice() };
  } finally {
    engine.pool.release(lease);
    engine.pool.release(net.weightsLease);
  }
}

// ---- the published files ----------------------------------------------------------------------------

const FILES = haveShared("srgan-rust .rsr files") ? ["natural", "anime"].map((n) => ({ n, bytes: new Uint8Array(readFileSync(`${SHARED}data/srgan-rust/${n}.rsr`)) })) : [];

for (const { n, bytes } of FILES) {
  test(`${n}.rsr parses to 125 arrays / 356 866 floats`, async () => {
    const g = await decodeRsr(bytes, `${n}.rsr`);
    assert.is(Object.keys(g.weights).length, 125);
    assert.is(g.parameterCount, 356866);
    assert.equal(g.meta, { source: "srgan-rust .rsr", factor: 4, width: 16, logDepth: 4, globalNodeFactor: 1, globalBias: false });
    assert.ok(g.global && g.scale === 4 && g.name === n);
    // Doc §5: layer 14 is dead in both files, and anime's global input pathway is zero.
    for (const w of ["L14.bias", "L14.conv_from_h14", "L14.gspline"]) assert.ok(g.weights[w].data.every((v) => Math.abs(v) < 1e-30), w);
    assert.is(g.weights["gin.linear"].data.some((v) => Math.abs(v) >= 1e-30), n === "natural");
  });
}

if (FILES.length) {
  const { bytes } = FILES[0];
  test("loadNetwork routes the xz magic to the .rsr loader (bytes and path)", async () => {
    assert.is((await loadNetwork(bytes)).parameterCount, 356866);
    assert.is((await loadNetwork(`${SHARED}data/srgan-rust/anime.rsr`)).name, "anime");
  });

  test("truncated or corrupt files are ModelFormatErrors", async () => {
    for (const cut of [6, 100, 50_000, bytes.length - 13, bytes.length - 1]) await rejects(decodeRsr(bytes.subarray(0, cut)), /truncated/, `cut ${cut}`);
    // Footer intact, middle missing: the decoder itself must notice.
    await rejects(decodeRsr(Uint8Array.from([...bytes.subarray(0, 700_000), ...bytes.subarray(700_100)])), /corrupt|truncated/, "hole");
    for (const at of [12, 5000, 600_000, bytes.length - 20]) {
      const bad = bytes.slice();
      bad[at] ^= 0x55;
      await rejects(decodeRsr(bad), /corrupt|truncated/, `flip @${at}`);
    }
    await rejects(decodeRsr(Uint8Array.from([...bytes, 0, 0, 0, 0])), /truncated|padded|appended/, "trailing bytes");
    await rejects(loadNetwork(Uint8Array.from([0xfd, 0x37, 0x7a, 0x58])), /not a network file/, "4-byte file");
  });

  test("the real network: wasm, reference and the direct evaluation of the doc agree", async () => {
    const g = await decodeRsr(bytes);
    // Image-like values: uniform noise drives this network far outside its range (|y| ≈ 20), where f32
    // round-off alone reaches 1e-5; on image-like input f32 and f64 agree to ≲ 1e-6 (doc §7).
    const H = 6, W = 7;
    const x = Float32Array.from({ length: H * W * 3 }, (_, i) => 0.5 + 0.3 * Math.sin(i * 0.37) * Math.cos(i * 0.011));
    const { wasm, ref } = runBoth(g, x, H, W);
    const arrays = Object.values(g.weights).map((w) => ({ shape: w.shape, data: w.data }));
    assertClose(ref, direct(g.meta as unknown as RsrHyper, arrays, x, H, W), 2e-6, "reference vs direct");
    assertClose(wasm, ref, 2e-6, "wasm vs reference");
    // Winograd on every 3×3 input (even the 3-channel ones 'auto' leaves direct): its transforms add a
    // few roundings per output.
    assertClose(runBoth(g, x, H, W, "winograd").wasm, ref, 1e-5, "Winograd wasm vs reference");
  });
}

// ---- synthetic networks -------------------------------------------------------------------------------

const HYPERS: (RsrHyper & { header: "old" | "new" })[] = [
  { factor: 2, width: 4, logDepth: 1, globalNodeFactor: 0, header: "old" },
  { factor: 2, width: 3, logDepth: 2, globalNodeFactor: 1, header: "old" },
  { factor: 3, width: 2, logDepth: 2, globalNodeFactor: 2, globalBias: true, header: "new" },
];

for (const [t, h] of HYPERS.entries()) {
  const tag = `f${h.factor} w${h.width} d${h.logDepth} g${h.globalNodeFactor}${h.globalBias ? " +gbias" : ""} (${h.header} header)`;
  test(`synthetic ${tag}: round-trips; wasm = reference = direct evaluation`, async () => {
    const rand = rng(100 + t);
    const arrays = randomArrays(h, rand);
    const g = await decodeRsr(rsrFile(h, arrays, h.header), "synthetic.rsr");
    assert.is(g.meta!.width, h.width);
    assert.is(g.meta!.globalBias, !!h.globalBias);
    const spec = rsrParameterSpec(h);
    spec.forEach(({ name }, i) => assert.equal(g.weights[name].data, arrays[i].data, name));
    const H = 5, W = 6;
    const x = randomArray(H * W * 3, rand, 0, 1);
    const { wasm, ref } = runBoth(g, x, H, W);
    assertClose(ref, direct(h, arrays, x, H, W), 1e-5, "reference vs direct");
    assertClose(wasm, ref, 1e-4, "wasm vs reference");
    assertClose(runBoth(g, x, H, W, "winograd").wasm, ref, 1e-4, "Winograd wasm vs reference");
  });
}

test("payload errors name what is wrong", async () => {
  const h = HYPERS[1];
  const arrays = randomArrays(h, rng(7));
  const plain = bincode(h, arrays, "old");
  const bad = (b: Uint8Array) => () => parseRsrPayload(shuffleBytes(b));
  const patched = (at: number, v: number[]) => { const b = plain.slice(); b.set(v, at); return b; };
  const a0 = 20; // first array: version byte, ndim, dims…
  for (const cut of [3, 19, 30, a0 + 1 + 8 + 8 * 2 + 8 + 7, plain.length - 1]) await rejects(bad(plain.subarray(0, cut)), /truncated|remain|holds/, `cut ${cut}`);
  await rejects(bad(Uint8Array.from([...plain, 0])), /1 bytes follow the last array/, "trailing byte");
  await rejects(bad(patched(a0, [2])), /version 2/, "version");
  await rejects(bad(patched(a0 + 1 + 8 + 16, [4])), /stores 4 elements/, "element count");
  await rejects(bad(patched(a0 + 1 + 8, [0, 0, 0, 0x40])), /more data than the file holds|impossibly large/, "huge dim");
  const n = arrays.length;
  await rejects(bad(bincode(h, arrays.slice(0, -1), "old")), new RegExp(`has ${n - 1} arrays; a network with .* has ${n}`), "array count");
  const conv = rsrParameterSpec(h).findIndex((p) => p.name === "L1.conv_from_h1"); // [6, 3, 3, 3]
  const swapped = arrays.map((a, i) => (i === conv ? { shape: [3, 3, 3, 6], data: a.data } : a));
  await rejects(bad(bincode(h, swapped, "old")), new RegExp(`array #${conv} \\(L1\\.conv_from_h1\\) has shape \\[3,3,3,6\\], expected \\[6,3,3,3\\]`), "conv shape");
  const nan = arrays.map((a, i) => (i === 5 ? { shape: a.shape, data: Float32Array.of(NaN, ...a.data.subarray(1)) } : a));
  await rejects(bad(bincode(h, nan, "old")), /value 0 is NaN/, "NaN");
  await rejects(() => rsrGraph(h, arrays.slice(1)), new RegExp(`needs ${n} arrays`), "builder count");
});

test("random byte flips never crash: a ModelFormatError or a valid graph", () => {
  const h = HYPERS[1];
  const good = payload(h, randomArrays(h, rng(8)));
  const rand = rng(9);
  let errors = 0;
  for (let i = 0; i < 300; i++) {
    const b = good.slice();
    b[Math.floor(rand() * b.length)] ^= 1 << Math.floor(rand() * 8);
    try {
      const { desc, arrays } = parseRsrPayload(b);
      validateGraph(rsrGraph(desc, arrays));
    } catch (e) {
      if (!(e instanceof ModelFormatError)) throw e;
      errors++;
    }
  }
  assert.ok(errors > 0, "some flips must be caught");
});

test("pool returns to baseline", () => {
  assert.is(engine.pool.stats().currentBytes, 0);
  assert.is(engine.pool.stats().activeLeases, 0);
});

test.run();
