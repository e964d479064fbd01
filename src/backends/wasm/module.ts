// SPDX-License-Identifier: MIT
// Compiles the kernel module once and instantiates it on a shared memory (once per thread).
// Two builds ship: plain SIMD and relaxed SIMD (fused multiply-add). 'auto' picks relaxed where the
// engine has it (a tiny probe module validates), and reads only that build; in Node 20 that needs
// V8's --experimental-wasm-relaxed-simd, which we set at run time before compiling.
import { UnsupportedError, SrganError } from "../../errors.js";
import { ABI_VERSION, bindKernels, type Kernels } from "./abi.js";
import { hasKernelBuild, readAsset } from "../../platform/assets.js";
import { nodeBuiltin } from "../../platform/features.js";

export type WasmVariant = "simd" | "relaxed";
export type WasmVariantOption = WasmVariant | "auto";

export interface KernelModule {
  module: WebAssembly.Module;
  variant: WasmVariant;
}

const cache = new Map<WasmVariantOption, Promise<KernelModule>>();

/**
 * Loads (once per process) and compiles the kernel module. The engine is asked first whether it has
 * relaxed SIMD (a tiny module validated), so exactly one build is read: on a page that is one fetch,
 * not two in a row.
 */
export function loadKernelModule(option: WasmVariantOption = "auto"): Promise<KernelModule> {
  let p = cache.get(option);
  if (!p) {
    p = (async () => {
      const relaxed = option !== "simd" && hasKernelBuild("relaxed") && engineHasRelaxedSimd();
      if (option === "relaxed" && !relaxed) {
        throw new UnsupportedError(hasKernelBuild("relaxed")
          ? "wasmVariant 'relaxed' needs relaxed SIMD, which this engine lacks (Node 20 needs --experimental-wasm-relaxed-simd). Use wasmVariant: 'simd' or 'auto'."
          : "wasmVariant 'relaxed' needs the relaxed build, and configureAssets({ wasmBytes }) gave none. Pass wasmBytes.relaxed, or use wasmVariant: 'simd' or 'auto'.");
      }
      let variant: WasmVariant = relaxed ? "relaxed" : "simd";
      let bytes = await readAsset(`kernels.${variant}.wasm`);
      // A relaxed build that does not validate where relaxed SIMD does (a broken or foreign file given
      // to configureAssets) leaves 'auto' with the plain build, as an engine without relaxed SIMD would.
      if (variant === "relaxed" && option === "auto" && !WebAssembly.validate(bytes)) {
        variant = "simd";
        bytes = await readAsset("kernels.simd.wasm");
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

/**
 * The smallest module that uses relaxed SIMD: `() -> v128 { i8x16.relaxed_swizzle(splat 1, splat 2) }`.
 * Hand-assembled (header, type, function, code sections) so that asking costs no fetch.
 */
const RELAXED_SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type section: one type, () -> v128
  0x03, 0x02, 0x01, 0x00, // function section: one function of type 0
  0x0a, 0x0f, 0x01, 0x0d, 0x00, // code section: one body of 13 bytes, no locals
  0x41, 0x01, 0xfd, 0x0f, // i32.const 1; i8x16.splat
  0x41, 0x02, 0xfd, 0x0f, // i32.const 2; i8x16.splat
  0xfd, 0x80, 0x02, // i8x16.relaxed_swizzle (0xfd 0x100)
  0x0b, // end
]);

// Relaxed SIMD validates flag-free in Chromium and Deno; Node 20 needs a V8 flag, which can still be
// set before the module is compiled. Flags are process-wide, so workers inherit it.
function engineHasRelaxedSimd(): boolean {
  if (WebAssembly.validate(RELAXED_SIMD_PROBE)) return true;
  try {
    const v8 = nodeBuiltin<{ setFlagsFromString(f: string): void }>("node:v8");
    if (!v8) return false;
    v8.setFlagsFromString("--experimental-wasm-relaxed-simd");
  } catch { return false; }
  return WebAssembly.validate(RELAXED_SIMD_PROBE);
}
