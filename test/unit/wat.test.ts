// SPDX-License-Identifier: MIT
// Guards the vectorisation of the hot kernels by reading the text form the build emits
// (wasm/kernels.simd.wat, wasm/kernels.relaxed.wat): a refactor that silently turns a hot loop into
// scalar code, or drops the fused multiply-add from the relaxed build, fails here, not in a benchmark.
import { existsSync, readFileSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

interface Loop { label: string; ops: Map<string, number>; innermost: boolean }
interface Func { name: string; loops: Loop[]; calls: Set<string> }

/** Splits a module's text into functions, each with its loops (instruction counts, nesting). */
function parseWat(text: string): { funcs: Map<string, Func>; exports: Map<string, string> } {
  const funcs = new Map<string, Func>();
  const exports = new Map<string, string>();
  for (const m of text.matchAll(/^ \(export "([^"]+)" \(func (\$[^)\s]+)\)\)/gm)) exports.set(m[1], m[2]);
  // Binaryen prints one module field per line at indent 1, so a function runs to the next such line.
  const lines = text.split("\n");
  let cur: Func | null = null;
  let stack: Array<{ kind: string; loop?: Loop }> = [];
  for (const line of lines) {
    const head = /^ \(func (\$\S+)/.exec(line);
    if (head) {
      cur = { name: head[1], loops: [], calls: new Set() };
      funcs.set(cur.name, cur);
      stack = [];
      continue;
    }
    if (/^ \(/.test(line)) { cur = null; continue; }
    if (!cur) continue;
    const t = line.trim();
    const op = t.split(/\s+/)[0];
    if (!op || op.startsWith("(")) continue; // locals, params
    if (op === "loop") {
      const loop: Loop = { label: t.split(/\s+/)[1] ?? "", ops: new Map(), innermost: true };
      for (const s of stack) if (s.loop) s.loop.innermost = false;
      cur.loops.push(loop);
      stack.push({ kind: "loop", loop });
      continue;
    }
    if (op === "block" || op === "if" || op === "try") { stack.push({ kind: op }); continue; }
    if (op === "end") { stack.pop(); continue; }
    if (op === "call") cur.calls.add(t.split(/\s+/)[1]);
    // Count the op in every enclosing loop (an outer loop's body includes its inner loops).
    for (const s of stack) if (s.loop) s.loop.ops.set(op, (s.loop.ops.get(op) ?? 0) + 1);
  }
  return { funcs, exports };
}

/** The function and everything it calls, transitively (helpers the optimizer did not inline). */
function reachable(funcs: Map<string, Func>, root: string): Func[] {
  const seen = new Set<string>(), out: Func[] = [], todo = [root];
  while (todo.length) {
    const n = todo.pop()!;
    if (seen.has(n) || !funcs.has(n)) continue;
    seen.add(n);
    out.push(funcs.get(n)!);
    todo.push(...funcs.get(n)!.calls);
  }
  return out;
}

const has = (l: Loop, op: string) => (l.ops.get(op) ?? 0) > 0;
const SCALAR_FLOAT = ["f32.add", "f32.mul", "f32.sub", "f64.add", "f64.mul", "f64.sub"];
const isScalarFloatLoop = (l: Loop) => SCALAR_FLOAT.some((op) => has(l, op));
const isVectorLoop = (l: Loop) => [...l.ops.keys()].some((op) => op.startsWith("f32x4.")) && (has(l, "v128.load") || has(l, "v128.load32_splat"));

/** Innermost loops of `exportName` and its callees. */
function hotLoops(text: string, exportName: string): Loop[] {
  const { funcs, exports } = parseWat(text);
  const root = exports.get(exportName);
  assert.ok(root, `export ${exportName} not found in the .wat`);
  return reachable(funcs, root!).flatMap((f) => f.loops.filter((l) => l.innermost));
}

const watPath = (v: string) => join(ROOT, `wasm/kernels.${v}.wat`);
const test = suite("wat: hot loops use SIMD");
const present = existsSync(watPath("simd")) && existsSync(watPath("relaxed"));

if (!present) {
  test("wasm/*.wat exist (run npm run build:wasm)", () => assert.unreachable("wasm/kernels.{simd,relaxed}.wat missing: run npm run build:wasm"));
} else {
  const simd = readFileSync(watPath("simd"), "utf8");
  const relaxed = readFileSync(watPath("relaxed"), "utf8");

  test("the .wat files are not older than the kernel sources", () => {
    // Only the sources whose loops this file checks.
    const sources = ["assembly/kernels/conv2d.ts", "assembly/kernels/winograd.ts", "assembly/kernels/activation.ts", "assembly/kernels/add.ts", "assembly/util/simd.ts"];
    const newestSource = Math.max(...sources.map((f) => statSync(join(ROOT, f)).mtimeMs));
    for (const v of ["simd", "relaxed"]) {
      assert.ok(statSync(watPath(v)).mtimeMs >= newestSource - 1000, `wasm/kernels.${v}.wat is stale: run npm run build:wasm`);
    }
  });

  test("conv2d_f32 (simd): f32x4 mul + add on splat inputs and vector weights, no scalar float loop", () => {
    const loops = hotLoops(simd, "conv2d_f32");
    const mac = loops.filter((l) => has(l, "f32x4.mul") && has(l, "f32x4.add") && has(l, "v128.load") && has(l, "v128.load32_splat"));
    assert.ok(mac.length > 0, "no innermost loop of conv2d_f32 does f32x4.mul + f32x4.add over v128.load / load32_splat");
    // The register-blocked loop: several multiply-adds per iteration (4 pixels × 2 vectors).
    assert.ok(mac.some((l) => (l.ops.get("f32x4.mul") ?? 0) >= 8), "no innermost loop of conv2d_f32 has ≥ 8 f32x4.mul (register blocking lost)");
    for (const l of loops) assert.not.ok(isScalarFloatLoop(l), `scalar float arithmetic in hot loop ${l.label}`);
    for (const l of loops) assert.not.ok(has(l, "f32x4.relaxed_madd"), "relaxed_madd in the plain SIMD build");
  });

  test("conv2d_f32 (relaxed): f32x4.relaxed_madd, no separate mul + add in the multiply-add loops", () => {
    const loops = hotLoops(relaxed, "conv2d_f32");
    const mac = loops.filter((l) => has(l, "f32x4.relaxed_madd") && has(l, "v128.load") && has(l, "v128.load32_splat"));
    assert.ok(mac.length > 0, "no innermost loop of conv2d_f32 uses f32x4.relaxed_madd");
    assert.ok(mac.some((l) => (l.ops.get("f32x4.relaxed_madd") ?? 0) >= 8), "no innermost loop has ≥ 8 relaxed_madd (register blocking lost)");
    for (const l of mac) assert.not.ok(has(l, "f32x4.mul"), `f32x4.mul beside relaxed_madd in ${l.label}`);
    for (const l of loops) assert.not.ok(isScalarFloatLoop(l), `scalar float arithmetic in hot loop ${l.label}`);
  });

  for (const [v, text] of [["simd", simd], ["relaxed", relaxed]] as const) {
    test(`winograd_f23_f32 (${v}): the GEMM loop is register-blocked f32x4 multiply-add, no scalar float loop`, () => {
      const loops = hotLoops(text, "winograd_f23_f32");
      const madds = (l: Loop) => v === "simd" ? Math.min(l.ops.get("f32x4.mul") ?? 0, l.ops.get("f32x4.add") ?? 0) : (l.ops.get("f32x4.relaxed_madd") ?? 0);
      const gemm = loops.filter((l) => has(l, "v128.load") && has(l, "v128.load32_splat") && madds(l) >= 8);
      assert.ok(gemm.length > 0, "no innermost loop of winograd_f23_f32 has ≥ 8 f32x4 multiply-adds over v128.load / load32_splat");
      if (v === "relaxed") for (const l of gemm) assert.not.ok(has(l, "f32x4.mul"), `f32x4.mul beside relaxed_madd in ${l.label}`);
      else for (const l of loops) assert.not.ok(has(l, "f32x4.relaxed_madd"), "relaxed_madd in the plain SIMD build");
      for (const l of loops) assert.not.ok(isScalarFloatLoop(l), `scalar float arithmetic in hot loop ${l.label}`);
      // The transforms are vector code too.
      assert.ok(loops.filter(isVectorLoop).length >= 3, "the input/output transform loops are not f32x4");
    });
    test(`activation_f32 (${v}): the per-pixel loop is f32x4`, () => {
      const loops = hotLoops(text, "activation_f32");
      assert.ok(loops.length > 0, "activation_f32 has no loop");
      assert.ok(loops.some(isVectorLoop), "no innermost loop of activation_f32 uses f32x4 with v128 loads");
      assert.ok(loops.some((l) => has(l, "f32x4.max") || has(l, "v128.bitselect")), "activation loop lost its vector select/max");
    });
    test(`add_f32 (${v}): the main loop is f32x4.add over v128.load/store`, () => {
      const loops = hotLoops(text, "add_f32");
      assert.ok(loops.some((l) => has(l, "f32x4.add") && has(l, "v128.load") && has(l, "v128.store")), "add_f32 has no f32x4.add loop");
    });
  }

  test("the checker can fail: a scalar loop is not taken for a vector one", () => {
    const wat = [
      "(module",
      ' (export "scalar_mac" (func $m/scalar_mac))',
      ' (export "vector_mac" (func $m/vector_mac))',
      " (func $m/scalar_mac (param $0 i32) (param $1 i32) (result f32)",
      "  (local $2 f32)",
      "  loop $l",
      "   local.get $0", "   f32.load", "   local.get $1", "   f32.load", "   f32.mul", "   local.get $2", "   f32.add", "   local.set $2",
      "   br_if $l",
      "  end",
      "  local.get $2",
      " )",
      " (func $m/vector_mac (param $0 i32) (param $1 i32) (result v128)",
      "  (local $2 v128)",
      "  loop $l",
      "   local.get $0", "   v128.load32_splat", "   local.get $1", "   v128.load", "   f32x4.mul", "   local.get $2", "   f32x4.add", "   local.set $2",
      "   br_if $l",
      "  end",
      "  local.get $2",
      " )",
      ")",
    ].join("\n");
    const scalar = hotLoops(wat, "scalar_mac");
    assert.is(scalar.length, 1);
    assert.not.ok(isVectorLoop(scalar[0]));
    assert.ok(isScalarFloatLoop(scalar[0]));
    const vector = hotLoops(wat, "vector_mac");
    assert.ok(isVectorLoop(vector[0]));
    assert.not.ok(isScalarFloatLoop(vector[0]));
  });
}

test.run();
