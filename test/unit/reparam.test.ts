// Training-time re-parameterisation (src/train/reparam.ts): the folded kernel computes exactly what
// the branches compute side by side, the chain rule matches finite differences, and a run with
// branches is reproducible across thread counts and resumes, and saves a plain network.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import type { Graph, GraphNode, Weight } from "../../src/model/graph.js";
import { createUpscaler } from "../../src/api/upscaler.js";
import { buildNetwork } from "../../src/train/arch.js";
import { compileProgram } from "../../src/train/program.js";
import { addBranches, branchesOf, BranchFolder, foldGraph } from "../../src/train/reparam.js";
import { Rng } from "../../src/train/rng.js";
import { checkpointGraph, decodeCheckpoint } from "../../src/train/checkpoint.js";
import { train, type TrainOptions } from "../../src/train/trainer.js";
import { assertBitIdentical } from "../helpers.js";
import { Engine } from "../../src/runtime/engine.js";
import { MATMUL_ACCUMULATE } from "../../src/backends/wasm/abi.js";

const test = suite("reparam");
const rng = new Rng(11);
const random = (n: number, scale: number) => Float32Array.from({ length: n }, () => scale * (2 * rng.next() - 1));

test("addBranches starts at the same kernels; foldGraph removes the branches", () => {
  const g = buildNetwork("w6b1", { scale: 2, seed: 3 });
  const b = addBranches(g, 5);
  assert.is(branchesOf(b).length, 3); // conv0, conv1, head: every 3×3
  assert.ok(Object.keys(b.weights).length > Object.keys(g.weights).length);
  const f = foldGraph(b);
  assert.equal(Object.keys(f.weights).sort(), Object.keys(g.weights).sort());
  assert.is(f.meta?.reparam, undefined);
  for (const name of Object.keys(g.weights)) assertBitIdentical(f.weights[name].data, g.weights[name].data, name);
});

test("the folded 3×3 kernel gives the sum of the 3×3, 1×1 and 1×1→3×3 branches run as separate convolutions", async () => {
  // cin 5, cout 3, m = 3: channel counts not divisible by 4, an odd image size.
  const cin = 5, cout = 3;
  const w = (shape: number[], s = 0.3): Weight => ({ shape, data: random(shape.reduce((a, b) => a * b, 1), s) });
  const conv = (name: string, input: string, k: number, co: number): GraphNode =>
    ({ op: "Conv2D", inputs: [input], output: name, attrs: { k, cout: co }, weights: { kernel0: `${name}.kernel`, bias: `${name}.bias` } });
  // Input 3 channels → 5 channels by a fixed 1×1 conv, then the layer under test 5 → 3.
  const lift: Weight = w([cin, 1, 1, 3], 0.6);
  const zero = (n: number): Weight => ({ shape: [n], data: new Float32Array(n) });
  const g: Graph = {
    name: "t", scale: 1, channels: 3, input: "x", output: "y",
    nodes: [conv("lift", "x", 1, cin), conv("body", "lift", 3, cout)],
    weights: { "lift.kernel": lift, "lift.bias": zero(cin), "body.kernel": w([cout, 3, 3, cin]), "body.bias": { shape: [cout], data: Float32Array.of(0.3, 0.5, 0.4) } },
  };
  g.nodes[1] = { ...g.nodes[1], output: "y" };
  const withBranches = addBranches(g, 9);
  const [br] = branchesOf(withBranches).filter((b) => b.kernel === "body.kernel");
  withBranches.weights[br.centre] = w([cout, cin]);
  withBranches.weights[br.squeeze] = w([cout, 3, 3, cout]);
  const folded = foldGraph(withBranches);

  // The same layer as four convolutions and three adds.
  const sum: Graph = {
    name: "t", scale: 1, channels: 3, input: "x", output: "y",
    nodes: [conv("lift", "x", 1, cin), conv("k", "lift", 3, cout), conv("c", "lift", 1, cout), conv("e", "lift", 1, cout), conv("s", "e", 3, cout),
      { op: "Add", inputs: ["k", "c"], output: "kc", attrs: {}, weights: {} }, { op: "Add", inputs: ["kc", "s"], output: "y", attrs: {}, weights: {} }],
    weights: {
      "lift.kernel": lift, "lift.bias": zero(cin),
      "k.kernel": g.weights["body.kernel"], "k.bias": g.weights["body.bias"],
      "c.kernel": { shape: [cout, 1, 1, cin], data: withBranches.weights[br.centre].data }, "c.bias": zero(cout),
      "e.kernel": { shape: [cout, 1, 1, cin], data: withBranches.weights[br.expand].data }, "e.bias": zero(cout),
      "s.kernel": withBranches.weights[br.squeeze], "s.bias": zero(cout),
    },
  };
  const img = { data: Uint8ClampedArray.from({ length: 4 * 11 * 7 }, (_, i) => (i * 53 + 7) % 256), width: 11, height: 7 };
  const run = async (model: Graph) => {
    const up = await createUpscaler({ model, threads: 0 });
    try { return (await up.upscale(img)).data; } finally { await up.dispose(); }
  };
  const a = await run(folded), b = await run(sum), plain = await run(g);
  let maxDiff = 0, changed = 0;
  for (let i = 0; i < a.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
    if (a[i] !== plain[i]) changed++;
  }
  assert.ok(maxDiff <= 1, `folded vs branches: max difference ${maxDiff} levels`);
  assert.ok(changed > a.length / 4, "the branches change the output (the comparison can fail)");
});

test("chain(): branch gradients match finite differences of the fold", () => {
  const g = addBranches(buildNetwork("w5b1", { scale: 2, seed: 4 }), 6);
  const prog = compileProgram(g);
  const folder = BranchFolder.of(prog.spec, g)!;
  const P = prog.spec.paramCount;
  const params = random(P, 0.5);
  const G = random(P, 1); // dL/dW for L = Σ G·fold(params) over the kernel slots
  const kernelSlots = branchesOf(g).map((b) => prog.spec.params[b.kernel]);
  const loss = (p: Float32Array) => {
    const eff = new Float32Array(P);
    folder.fold(p, eff);
    let s = 0;
    for (const e of kernelSlots) for (let i = e.offset; i < e.offset + e.length; i++) s += G[i] * eff[i];
    return s;
  };
  const grad = new Float32Array(P);
  for (const e of kernelSlots) grad.set(G.subarray(e.offset, e.offset + e.length), e.offset);
  folder.chain(params, grad);
  for (const b of branchesOf(g)) {
    for (const name of [b.centre, b.expand, b.squeeze, b.kernel]) {
      const e = prog.spec.params[name];
      for (const i of [e.offset, e.offset + (e.length >> 1), e.offset + e.length - 1]) {
        const h = 1e-2, p1 = params.slice(), p2 = params.slice();
        p1[i] += h;
        p2[i] -= h;
        const numeric = (loss(p1) - loss(p2)) / (Math.fround(params[i] + h) - Math.fround(params[i] - h));
        assert.ok(Math.abs(numeric - grad[i]) <= 2e-3 * Math.max(1, Math.abs(numeric)), `${name}[${i - e.offset}]: chain ${grad[i]}, numeric ${numeric}`);
      }
    }
  }
});

// The matmul kernel under foldWasm/chainWasm, against a float64 reference: shapes around its 4-row ×
// 8-column blocks and tails (1×1, n % 8 in 1..7, m % 4 in 1..3, k = 0), with and without accumulating.
test("matmul_f32 matches a float64 reference on random shapes, both builds", async () => {
  for (const wasmVariant of ["simd", "relaxed"] as const) {
    const engine = await Engine.create({ memoryLimit: 16 << 20, wasmVariant });
    const shapes: [number, number, number][] = [[1, 1, 1], [1, 1, 0], [4, 8, 3], [5, 9, 7], [3, 13, 1], [7, 4, 5], [9, 15, 17], [48, 48, 432], [2, 3, 64]];
    for (let r = 0; r < 6; r++) shapes.push([1 + Math.floor(rng.next() * 20), 1 + Math.floor(rng.next() * 30), Math.floor(rng.next() * 40)]);
    for (const [m, n, k] of shapes) {
      for (const accumulate of [false, true]) {
        const a = random(m * k, 1), b = random(k * n, 1), c0 = random(m * n, 1);
        const lease = engine.pool.lease(4 * (m * k + k * n + m * n) + 64);
        const aPtr = lease.ptr, bPtr = aPtr + 4 * m * k, cPtr = bPtr + 4 * k * n;
        engine.f32(aPtr, m * k).set(a);
        engine.f32(bPtr, k * n).set(b);
        engine.f32(cPtr, m * n).set(c0);
        engine.kernels.matmul_f32(aPtr, bPtr, cPtr, m, n, k, accumulate ? MATMUL_ACCUMULATE : 0);
        const got = engine.f32(cPtr, m * n).slice();
        engine.pool.release(lease);
        for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
          let want = accumulate ? c0[i * n + j] : 0, mag = Math.abs(want);
          for (let p = 0; p < k; p++) { want += a[i * k + p] * b[p * n + j]; mag += Math.abs(a[i * k + p] * b[p * n + j]); }
          assert.ok(Math.abs(got[i * n + j] - want) <= 1e-6 * (1 + mag), `${wasmVariant} ${m}×${n}×${k}${accumulate ? " acc" : ""} [${i},${j}]: ${got[i * n + j]} vs ${want}`);
        }
      }
    }
    assert.throws(() => engine.kernels.matmul_f32(0, 0, 0, -1, 1, 1, 0), /matmul_f32/);
  }
});

test("foldWasm / chainWasm (what training runs) agree with the TypeScript fold / chain", async () => {
  // w5b1: 5 channels (not divisible by 4), ×3 so the head has 5 → 27 channels.
  const g = addBranches(buildNetwork("w5b1", { scale: 3, seed: 4 }), 6);
  const prog = compileProgram(g);
  const folder = BranchFolder.of(prog.spec, g)!;
  const P = prog.spec.paramCount;
  const params = random(P, 0.5), grad = random(P, 1);
  const engine = await Engine.create({ memoryLimit: 16 << 20 });
  const lease = engine.pool.lease(4 * (3 * P + folder.scratchFloats()) + 64);
  const [pPtr, ePtr, gPtr, sPtr] = [0, 1, 2, 3].map((i) => lease.ptr + 4 * P * i);
  engine.f32(pPtr, P).set(params);
  engine.f32(gPtr, P).set(grad);
  folder.foldWasm(engine, pPtr, ePtr);
  folder.chainWasm(engine, pPtr, gPtr, sPtr);
  const eff = new Float32Array(P), refGrad = grad.slice();
  folder.fold(params, eff);
  folder.chain(params, refGrad);
  const close = (a: Float32Array, b: Float32Array, what: string) => {
    let changed = 0;
    for (let i = 0; i < P; i++) {
      assert.ok(Math.abs(a[i] - b[i]) <= 1e-5 * (1 + Math.abs(b[i])), `${what}[${i}]: ${a[i]} vs ${b[i]}`);
      if (b[i] !== params[i] && b[i] !== grad[i]) changed++;
    }
    assert.ok(changed > 0, `${what} changed something (the comparison can fail)`);
  };
  close(engine.f32(ePtr, P), eff, "folded");
  close(engine.f32(gPtr, P), refGrad, "chained gradient");
  engine.pool.release(lease);
});

test("training with branches: reproducible on any thread count, resumable, saved as a plain network", async () => {
  const { mkdtemp, readFile, rm } = await import("node:fs/promises");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const wave = (k: number) => {
    const data = new Uint8ClampedArray(32 * 32 * 4);
    for (let i = 0; i < 32 * 32; i++) for (let c = 0; c < 4; c++) data[4 * i + c] = c === 3 ? 255 : 128 + 100 * Math.sin((i % 32) / (3 + c + k) + Math.floor(i / 32) / (4 + k));
    return { name: `w${k}.png`, image: { data, width: 32, height: 32 } };
  };
  const opts: TrainOptions = { data: [0, 1, 2].map(wave), scale: 2, arch: { width: 6, body: 1 }, steps: 8, batchSize: 4, patchSize: 10, lr: 5e-3,
    warmupSteps: 1, seed: 3, threads: 0, logEvery: 1, validation: { every: 0, count: 0 }, reparam: true };
  const inline = await train(opts);
  const threaded = await train({ ...opts, threads: 2 });
  const plain = await train({ ...opts, reparam: false });
  const names = Object.keys(plain.graph.weights).sort();
  assert.equal(Object.keys(inline.graph.weights).sort(), names, "the saved network has only the plain weights");
  assert.is((inline.graph.meta!.training as { reparam: boolean }).reparam, true);
  for (const n of names) assertBitIdentical(inline.graph.weights[n].data, threaded.graph.weights[n].data, n);
  assert.not.equal(inline.history.map((h) => h.loss), plain.history.map((h) => h.loss), "branches change the trajectory");
  const dir = await mkdtemp(join(tmpdir(), "srgan-reparam-"));
  try {
    const ckpt = join(dir, "r.ckpt");
    const ac = new AbortController();
    await train({ ...opts, checkpoint: ckpt, checkpointEvery: 1000, signal: ac.signal, onProgress: (p) => { if (p.step === 5) ac.abort(); } })
      .then(() => assert.unreachable("aborted"), () => undefined);
    const resumed = await train({ ...opts, threads: 1, resume: ckpt, checkpoint: ckpt });
    for (const n of names) assertBitIdentical(resumed.graph.weights[n].data, inline.graph.weights[n].data, `resumed ${n}`);
    // The checkpoint's network as `srgan convert` exports it is the saved one: branches folded, not dropped.
    const exported = checkpointGraph(decodeCheckpoint(new Uint8Array(await readFile(ckpt))));
    assert.equal(Object.keys(exported.weights).sort(), names);
    for (const n of names) assertBitIdentical(exported.weights[n].data, inline.graph.weights[n].data, `exported ${n}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
