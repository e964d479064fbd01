// The generated kernel bindings (src/backends/wasm/abi.generated.ts): current with assembly/index.ts,
// the same names, arities and constants as the built module, and a refused call is one KernelError.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Engine } from "../../src/runtime/engine.js";
import * as abi from "../../src/backends/wasm/abi.generated.js";
import { KernelError } from "../../src/errors.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const test = suite("wasm ABI bindings");
const engine = await Engine.create({ memoryLimit: 32 << 20, wasmVariant: "simd" });

test("the committed bindings are what scripts/gen-bindings.mjs writes from assembly/index.ts", () => {
  const res = spawnSync(process.execPath, ["scripts/gen-bindings.mjs", "--check"], { cwd: ROOT, encoding: "utf8" });
  assert.is(res.status, 0, res.stderr);
});

test("every kernel and constant of the built module is bound, with its arity and value", () => {
  const instance = new WebAssembly.Instance(engine.shared.module.module, { env: { memory: engine.shared.memory, abort() {} } });
  const fns = Object.entries(instance.exports).filter(([, v]) => typeof v === "function");
  const globals = Object.entries(instance.exports).filter(([, v]) => v instanceof WebAssembly.Global);
  assert.equal(Object.keys(engine.kernels).sort(), fns.map(([n]) => n).sort());
  for (const [name, fn] of fns) {
    assert.is((engine.kernels as unknown as Record<string, Function>)[name].length, (fn as Function).length, name);
  }
  const consts = Object.entries(abi).filter(([, v]) => typeof v === "number");
  assert.equal(Object.fromEntries(consts), Object.fromEntries(globals.map(([n, g]) => [n, (g as WebAssembly.Global).value])));
});

test("a kernel that refuses its arguments throws KernelError naming the call", () => {
  // resize_f32 returns 1 for c = 0 (assembly/kernels/resize.ts).
  const err = (() => {
    try { engine.kernels.resize_f32(64, 4, 4, 0, 64, 8, 8, abi.RESIZE_BICUBIC, 2, 1, 64, 0, 8); } catch (e) { return e; }
  })();
  assert.instance(err, KernelError);
  const e = err as KernelError;
  assert.is(e.code, "ERR_KERNEL");
  assert.is(e.kernel, "resize_f32");
  assert.is(e.status, 1);
  assert.is(e.args.c, 0);
  assert.match(e.message, "resize_f32(inPtr=64, inH=4, inW=4, c=0,");
  // Calls that succeed return the status, as the raw export does.
  const lease = engine.pool.lease(1024);
  try {
    assert.is(engine.kernels.add_f32(lease.ptr, lease.ptr, lease.ptr, 0, 16), 0);
  } finally {
    engine.pool.release(lease);
  }
});

test.run();
