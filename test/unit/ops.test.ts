// The op-case corpus (test/ops/cases.ts) on the wasm engine against the TypeScript reference: every
// op alone on odd channel counts, and small networks of them, at 1×1, 1×N, N×1 and odd sizes.
// Conv2D and Resize have their own files for kernel-level detail (bands, Winograd, relaxed SIMD).
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { Engine } from "../../src/runtime/engine.js";
import type { ValidatedGraph } from "../../src/model/graph.js";
import { getOp, opNames } from "../../src/ops/registry.js";
import { prepareNetwork } from "../../src/runtime/network.js";
import { planExecution } from "../../src/runtime/plan.js";
import { runPlanWasm } from "../../src/runtime/executor.js";
import { Builder, caseInput, compare, mismatch, opCases, reference, type OpCase } from "../ops/cases.js";
import { rng } from "../helpers.js";

const test = suite("ops");
const engine = await Engine.create({ memoryLimit: 64 << 20, wasmVariant: "simd" });
const cases = opCases();

/** Runs `g` on the wasm engine at each size, whole image (tiles are the scheduler's business). */
function runWasm(g: ValidatedGraph, inputs: Array<{ x: Float32Array; h: number; w: number }>): Float32Array[] {
  const net = prepareNetwork(engine, g);
  try {
    return inputs.map(({ x, h, w }) => {
      const plan = planExecution(g, h, w);
      const lease = engine.pool.lease(plan.arenaBytes);
      try {
        engine.f32(lease.ptr + plan.input.offset, x.length).set(x);
        runPlanWasm(engine.kernels, net.handle, plan, lease.ptr);
        const s = plan.output.shape;
        return engine.f32(lease.ptr + plan.output.offset, s.h * s.w * s.c).slice();
      } finally {
        engine.pool.release(lease);
      }
    });
  } finally {
    engine.pool.release(net.weightsLease);
  }
}

/** Every size of `c` on wasm vs the reference: the failures as text ([] when it passes). */
function check(c: OpCase): { failures: string[]; informative: boolean } {
  const inputs = c.sizes.map(([h, w]) => ({ x: caseInput(c, h, w), h, w }));
  const got = runWasm(c.graph, inputs);
  const failures: string[] = [];
  let informative = false;
  inputs.forEach(({ x, h, w }, i) => {
    const want = reference(c.graph, x, h, w).data;
    informative ||= want.some((v) => v !== 0);
    const why = mismatch(compare(got[i], want), c.tol.wasm);
    if (why) failures.push(`${h}×${w}: ${why}`);
  });
  return { failures, informative };
}

for (const c of cases) {
  test(`${c.name}: wasm = reference within ${c.tol.wasm} at ${c.sizes.map(([h, w]) => `${h}×${w}`).join(", ")}`, () => {
    const { failures, informative } = check(c);
    assert.equal(failures, [], failures.join("; "));
    assert.ok(informative, "the reference output is all zeros: this case could not tell a wrong kernel apart");
  });
}

test("the corpus catches a wrong op: an Activation reference off by 1e-4 fails every case that uses it", () => {
  const op = getOp("Activation")!;
  const right = op.reference;
  op.reference = (call) => {
    right(call);
    const o = call.output.data, c = call.output.shape.c;
    for (let i = call.y0 * call.output.shape.w * c; i < call.y1 * call.output.shape.w * c; i++) o[i] += 1e-4;
  };
  try {
    const using = cases.filter((c) => c.graph.nodes.some((n) => n.op === "Activation"));
    assert.ok(using.length >= 8, `only ${using.length} cases use Activation`);
    for (const c of using) assert.ok(check(c).failures.length > 0, `${c.name} did not notice`);
  } finally {
    op.reference = right;
  }
  assert.equal(check(cases[0]).failures, []);
});

test("PixelShuffle orders really differ (the corpus can tell them apart)", () => {
  const [tf, torch] = (["tf", "torch"] as const).map((order) => {
    const b = new Builder(rng(5));
    return b.probe(order, 8, 2, b.op("PixelShuffle", ["x"], { r: 2, order }));
  });
  const x = Float32Array.from({ length: 3 * 3 * 8 }, (_, i) => i);
  const [a] = runWasm(tf, [{ x, h: 3, w: 3 }]), [b] = runWasm(torch, [{ x, h: 3, w: 3 }]);
  assert.ok(compare(a, b).worst > 0);
});

test("every registered op has an op-corpus case and a WebGL program", () => {
  for (const name of opNames()) {
    assert.ok(cases.some((c) => c.graph.nodes.some((n) => n.op === name)), `no op-corpus case (test/ops/cases.ts) uses ${name}`);
    assert.type(getOp(name)!.webgl, "function", `${name} has no WebGL program`);
  }
});

test("pool returns to baseline", () => {
  assert.is(engine.pool.stats().activeLeases, 0);
});

test.run();
