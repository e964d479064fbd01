// SPDX-License-Identifier: MIT
// Compiles the kernel module once and instantiates it on a shared memory (once per thread).
// Two builds ship: plain SIMD and relaxed SIMD (fused multiply-add). 'auto' picks relaxed where the
// engine validates it; in Node 20 that needs V8's --experimental-wasm-relaxed-simd, which we set at
// run time before compiling.
import { UnsupportedError, SrganError } from "../../errors.js";
import { ABI_VERSION, bindKernels, type Kernels } from "./abi.js";
import { readAsset } from "../../platform/assets.js";
import { nodeBuiltin } from "../../platform/features.js";

export type WasmVariant = "simd" | "relaxed";
export type WasmVariantOption = WasmVariant | "auto";

export interface KernelModule {
  module: WebAssembly.Module;
  variant: WasmVariant;
}

const cache = new Map<WasmVariantOption, Promise<KernelModule>>();

/** Loads (once per process) and compiles the kernel module. */
export function loadKernelModule(option: WasmVariantOption = "auto"): Promise<KernelModule> {
  let p = cache.get(option);
  if (!p) {
    p = (async () => {
      let variant: WasmVariant = option === "relaxed" ? "relaxed" : "simd";
      let bytes = await readAsset("kernels.simd.wasm");
      if (option !== "simd") {
        const relaxed = await readAsset("kernels.relaxed.wasm");
        if (validateRelaxed(relaxed)) { bytes = relaxed; variant = "relaxed"; }
        else if (option === "relaxed") {
          throw new UnsupportedError("wasmVariant 'relaxed' needs relaxed SIMD, which this engine lacks (Node 20 needs --experimental-wasm-relaxed-simd). Use wasmVariant: 'simd' or 'auto'.");
        }
      }
      if (!WebAssembly.validate(bytes)) {
        throw new UnsupportedError("this engine cannot run WebAssembly SIMD with threads (shared memory). Node >= 20, Chrome >= 91, Firefox >= 89, Safari >= 16.4 and Deno can.");
      }
      return { module: await WebAssembly.compile(bytes), variant };
    })();
    cache.set(option, p);
    p.catch(() => cache.delete(option));
  }
  return p;
}

/** Instantiates the kernels on `memory`; every thread calls this once with the same module and memory. */
export function instantiateKernels(km: KernelModule, memory: WebAssembly.Memory): Kernels {
  const instance = new WebAssembly.Instance(km.module, { env: { memory, abort: kernelAbort } });
  const abi = (instance.exports.ABI_VERSION as WebAssembly.Global | undefined)?.value;
  if (abi !== ABI_VERSION) {
    throw new SrganError("ERR_KERNEL", `kernel module ABI ${abi} does not match this package's ${ABI_VERSION}: dist/wasm is stale; run npm run build.`);
  }
  return bindKernels(instance.exports);
}

function kernelAbort(): never {
  throw new SrganError("ERR_KERNEL", "a wasm kernel aborted");
}

// Relaxed SIMD validates flag-free in Chromium and Deno; Node 20 needs a V8 flag, which can still be
// set before the module is compiled. Flags are process-wide, so workers inherit it.
function validateRelaxed(bytes: Uint8Array<ArrayBuffer>): boolean {
  if (WebAssembly.validate(bytes)) return true;
  try {
    const v8 = nodeBuiltin<{ setFlagsFromString(f: string): void }>("node:v8");
    if (!v8) return false;
    v8.setFlagsFromString("--experimental-wasm-relaxed-simd");
  } catch { return false; }
  return WebAssembly.validate(bytes);
}
