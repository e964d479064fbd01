// SPDX-License-Identifier: MIT
// One shared WebAssembly.Memory with its layout (reserved page, Atomics control block, block table,
// pool), the compiled kernel module, and this thread's kernel instance. Workers rebuild an Engine view
// from `EngineShared` (memory + module + layout): same memory, own instance, own views.
import { instantiateKernels, loadKernelModule, type KernelModule, type WasmVariantOption } from "../backends/wasm/module.js";
import type { Kernels } from "../backends/wasm/abi.js";
import { BufferPool, type PoolLayout } from "./buffer-pool.js";
import { kCounterBytes, kMaxThreads, kReservedBytes, kThreadSlotBytes } from "./counters.js";
import { OutOfMemoryError, UnsupportedError } from "../errors.js";

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
    this.thread = thread;
  }

  /** 0 on the scheduling thread, 1..kMaxThreads in workers. */
  readonly thread: number;

  /** Creates a fresh shared memory of `memoryLimit` bytes (address space is reserved; pages are touched lazily). */
  static async create(opts: { memoryLimit: number; wasmVariant?: WasmVariantOption }): Promise<Engine> {
    const module = await loadKernelModule(opts.wasmVariant);
    const countersPtr = kReservedBytes;
    const threadSlotsPtr = countersPtr + kCounterBytes;
    const tablesPtr = Math.ceil((threadSlotsPtr + kThreadSlotBytes) / 64) * 64;
    const maxBlocks = Math.floor((opts.memoryLimit - tablesPtr) / (BLOCK_BYTES + 12));
    if (maxBlocks < 16) throw new RangeError(`options.memoryLimit must be at least ${(tablesPtr + 16 * (BLOCK_BYTES + 12)) >> 20} MiB, got ${opts.memoryLimit}`);
    const poolPtr = Math.ceil((tablesPtr + 12 * maxBlocks) / BLOCK_BYTES) * BLOCK_BYTES;
    const blockCount = Math.floor((opts.memoryLimit - poolPtr) / BLOCK_BYTES);
    const pages = Math.ceil((poolPtr + blockCount * BLOCK_BYTES) / PAGE);
    let memory: WebAssembly.Memory;
    try {
      memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
    } catch (cause) {
      // Some engines refuse shared memory outright outside cross-origin isolation (Chromium allows it and
      // only hides the SharedArrayBuffer constructor); say so rather than blame the size.
      if (typeof SharedArrayBuffer === "undefined") {
        throw new UnsupportedError("this page cannot create shared WebAssembly memory: serve it cross-origin isolated, with the headers Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp (or credentialless). See docs/platforms.md.");
      }
      throw new OutOfMemoryError(pages * PAGE, 0, `The engine could not reserve a shared memory of that size (${(cause as Error).message}); pass a smaller memoryLimit.`);
    }
    return new Engine({ memory, module, layout: { countersPtr, threadSlotsPtr, tablesPtr, poolPtr, blockBytes: BLOCK_BYTES, blockCount } }, 0);
  }

  /**
   * Joins an existing engine from a worker: claims a free thread index (1..kMaxThreads) for `workerId`
   * with compareExchange, so per-thread accounting can name it. The scheduler frees it when the worker ends.
   */
  static join(shared: EngineShared, workerId: number): Engine {
    const slots = new Int32Array(shared.memory.buffer, shared.layout.threadSlotsPtr, kMaxThreads + 1);
    for (let i = 1; i <= kMaxThreads; i++) {
      if (Atomics.compareExchange(slots, i, 0, workerId) === 0) return new Engine(shared, i);
    }
    throw new RangeError(`more than ${kMaxThreads} workers joined one engine`);
  }

  get memory(): WebAssembly.Memory {
    return this.shared.memory;
  }

  /** Frees the thread index held by `workerId` (a worker that exited or died); returns it, or 0. */
  releaseThreadSlot(workerId: number): number {
    const slots = this.threadSlots();
    for (let i = 1; i <= kMaxThreads; i++) if (Atomics.compareExchange(slots, i, workerId, 0) === workerId) return i;
    return 0;
  }

  private threadSlots(): Int32Array {
    return new Int32Array(this.shared.memory.buffer, this.shared.layout.threadSlotsPtr, kMaxThreads + 1);
  }

  f32(ptr: number, length: number): Float32Array {
    return new Float32Array(this.shared.memory.buffer, ptr, length);
  }

  f64(ptr: number, length: number): Float64Array {
    return new Float64Array(this.shared.memory.buffer, ptr, length);
  }

  u8(ptr: number, length: number): Uint8Array {
    return new Uint8Array(this.shared.memory.buffer, ptr, length);
  }
}
