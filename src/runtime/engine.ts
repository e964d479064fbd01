// SPDX-License-Identifier: MIT
// One shared WebAssembly.Memory with its layout (reserved page, Atomics control block, block table,
// pool), the compiled kernel module, and this thread's kernel instance. Workers rebuild an Engine view
// from `EngineShared` (memory + module + layout): same memory, own instance, own views.
import { instantiateKernels, loadKernelModule, type KernelModule, type WasmVariantOption } from "../backends/wasm/module.js";
import type { Kernels } from "../backends/wasm/abi.js";
import { BufferPool, type PoolLayout } from "./buffer-pool.js";
import { kCounterBytes, kReservedBytes } from "./counters.js";
import { OutOfMemoryError } from "../errors.js";

const PAGE = 65536;
const BLOCK_BYTES = 64 * 1024;
/** Largest memory a wasm32 module can address. */
export const MAX_MEMORY_BYTES = 4 * 1024 * 1024 * 1024 - PAGE;

/** What a worker needs to join the engine (structured-clonable). */
export interface EngineShared {
  memory: WebAssembly.Memory;
  module: KernelModule;
  layout: PoolLayout;
}

export class Engine {
  readonly kernels: Kernels;
  readonly pool: BufferPool;

  private constructor(readonly shared: EngineShared, thread: number) {
    this.kernels = instantiateKernels(shared.module, shared.memory);
    this.pool = new BufferPool(shared.memory.buffer, shared.layout, thread);
  }

  /** Creates a fresh shared memory of `memoryLimit` bytes (address space is reserved; pages are touched lazily). */
  static async create(opts: { memoryLimit: number; wasmVariant?: WasmVariantOption }): Promise<Engine> {
    const module = await loadKernelModule(opts.wasmVariant);
    const countersPtr = kReservedBytes;
    const tablePtr = countersPtr + kCounterBytes;
    const maxBlocks = Math.floor((opts.memoryLimit - tablePtr) / (BLOCK_BYTES + 4));
    if (maxBlocks < 16) throw new RangeError(`options.memoryLimit must be at least ${(tablePtr + 16 * (BLOCK_BYTES + 4)) >> 20} MiB, got ${opts.memoryLimit}`);
    const poolPtr = Math.ceil((tablePtr + 4 * maxBlocks) / BLOCK_BYTES) * BLOCK_BYTES;
    const blockCount = Math.floor((opts.memoryLimit - poolPtr) / BLOCK_BYTES);
    const pages = Math.ceil((poolPtr + blockCount * BLOCK_BYTES) / PAGE);
    let memory: WebAssembly.Memory;
    try {
      memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
    } catch (cause) {
      throw new OutOfMemoryError(pages * PAGE, 0, `The engine could not reserve a shared memory of that size (${(cause as Error).message}); pass a smaller memoryLimit.`);
    }
    return new Engine({ memory, module, layout: { countersPtr, tablePtr, poolPtr, blockBytes: BLOCK_BYTES, blockCount } }, 0);
  }

  /** Joins an existing engine from another thread (index ≥ 1 for workers). */
  static join(shared: EngineShared, thread: number): Engine {
    return new Engine(shared, thread);
  }

  get memory(): WebAssembly.Memory {
    return this.shared.memory;
  }

  f32(ptr: number, length: number): Float32Array {
    return new Float32Array(this.shared.memory.buffer, ptr, length);
  }

  u8(ptr: number, length: number): Uint8Array {
    return new Uint8Array(this.shared.memory.buffer, ptr, length);
  }
}
