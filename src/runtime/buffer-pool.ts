// SPDX-License-Identifier: MIT
// A lock-free block allocator inside the shared WebAssembly.Memory, usable from every thread at once.
//
// The pool is `blockCount` blocks of `blockBytes`. Three Int32 tables hold one entry per block:
//   owner-id  0 when free, else the id of the lease holding the block (claimed with compareExchange)
//   run       on a lease's first block: its length in blocks
//   thread    on a lease's first block: the thread using it now (0 = scheduler, i ≥ 1 = worker i)
// To lease n blocks a thread finds a run that looks free and claims it block by block with
// compareExchange(0 → id); if another thread wins any block first it puts back what it claimed and
// scans on. A block therefore never has two owners and no thread ever waits on another. Release checks
// the blocks still carry the lease's id (a double release or a forged lease is caught, not obeyed).
//
// Accounting mirrors srgan-rust's tracking allocator: current bytes by Atomics.add/sub, the peak by a
// compare-and-swap loop. Per-thread bytes are derived from the tables, so handing a lease to a worker
// (setThread) is one atomic store and a worker that dies mid-task leaves nothing to repair.
import { SrganError, OutOfMemoryError, mib } from "../errors.js";
import {
  kCurrentBytes, kPeakBytes, kActiveLeases, kTotalLeases, kNextLeaseId, kFailedLeases, kCounterSlots, kMaxThreads,
  type PoolStats,
} from "./counters.js";

/** A contiguous run of pool memory owned by one job or worker until released. */
export interface Lease {
  readonly id: number;
  /** Byte offset of the first usable byte in the shared memory. */
  readonly ptr: number;
  /** Usable bytes (a whole number of blocks). */
  readonly bytes: number;
  readonly firstBlock: number;
  readonly blockCount: number;
}

/** Where the pool's pieces live inside the shared memory; identical in every thread. */
export interface PoolLayout {
  countersPtr: number;
  threadSlotsPtr: number;
  /** Three consecutive Int32 tables of blockCount entries: owner-id, run, thread. */
  tablesPtr: number;
  poolPtr: number;
  blockBytes: number;
  blockCount: number;
}

/** Runs a step generator to completion. */
function drive<T>(steps: Generator<void, T>): T {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

export class BufferPool {
  private readonly counters: BigInt64Array;
  private readonly ownerId: Int32Array;
  private readonly run: Int32Array;
  private readonly thread: Int32Array;

  constructor(buffer: ArrayBufferLike, readonly layout: PoolLayout, readonly threadIndex = 0) {
    if (!Number.isInteger(threadIndex) || threadIndex < 0 || threadIndex > kMaxThreads) throw new RangeError(`thread index must be in [0, ${kMaxThreads}]`);
    const n = layout.blockCount;
    this.counters = new BigInt64Array(buffer, layout.countersPtr, kCounterSlots);
    this.ownerId = new Int32Array(buffer, layout.tablesPtr, n);
    this.run = new Int32Array(buffer, layout.tablesPtr + 4 * n, n);
    this.thread = new Int32Array(buffer, layout.tablesPtr + 8 * n, n);
  }

  get capacityBytes(): number {
    return this.layout.blockBytes * this.layout.blockCount;
  }

  /** Leases at least `bytes` bytes (whole blocks) for this thread. Throws OutOfMemoryError when no run is free. */
  lease(bytes: number): Lease {
    return drive(this.leaseSteps(bytes));
  }

  /** Returns a lease's blocks. Throws ERR_POOL on a double release or a lease this pool never granted. */
  release(lease: Lease): void {
    drive(this.releaseSteps(lease));
  }

  /**
   * lease() as a generator that yields after every atomic step. lease() runs it straight through; the
   * interleaving tests run several of them step by step in every possible order (a loom-style model
   * check of exactly this code).
   * @internal
   */
  *leaseSteps(bytes: number): Generator<void, Lease> {
    if (!Number.isFinite(bytes) || bytes < 0) throw new RangeError(`lease size must be a non-negative byte count, got ${bytes}`);
    const { blockBytes, blockCount, poolPtr } = this.layout;
    const need = Math.max(1, Math.ceil(bytes / blockBytes));
    // (Taking an id needs no yield: ids only have to be distinct, and the atomic add guarantees that.)
    const id = Number(Atomics.add(this.counters, kNextLeaseId, 1n) % 0x7fffffffn) + 1;
    const t = this.ownerId;
    let i = 0;
    scan: while (i + need <= blockCount) {
      // Find a run that looks free…
      let j = 0;
      while (j < need && Atomics.load(t, i + j) === 0) j++;
      yield;
      if (j < need) { i += j + 1; continue; }
      // …and claim it block by block; if another thread got a block first, put ours back and scan on.
      for (j = 0; j < need; j++) {
        const prev = Atomics.compareExchange(t, i + j, 0, id);
        yield;
        if (prev !== 0) {
          for (let r = 0; r < j; r++) { Atomics.store(t, i + r, 0); yield; }
          i += j + 1;
          continue scan;
        }
      }
      Atomics.store(this.run, i, need);
      Atomics.store(this.thread, i, this.threadIndex);
      yield* this.accountSteps(BigInt(need * blockBytes));
      return { id, ptr: poolPtr + i * blockBytes, bytes: need * blockBytes, firstBlock: i, blockCount: need };
    }
    Atomics.add(this.counters, kFailedLeases, 1n);
    throw new OutOfMemoryError(need * blockBytes, this.largestFreeRun(),
      `Lower options.tileSize, or raise options.memoryLimit (the pool is ${mib(this.capacityBytes)}).`);
  }

  /** @internal release() step by step, see leaseSteps. */
  *releaseSteps(lease: Lease): Generator<void, void> {
    this.check(lease);
    Atomics.sub(this.counters, kCurrentBytes, BigInt(lease.bytes));
    Atomics.sub(this.counters, kActiveLeases, 1n);
    yield;
    // The first block goes last: until then the run still reads as one lease to stats().
    for (let j = lease.blockCount - 1; j >= 0; j--) { Atomics.store(this.ownerId, lease.firstBlock + j, 0); yield; }
  }

  /** Marks which thread is using a lease now (one atomic store; per-thread stats follow). */
  setThread(lease: Lease, threadIndex: number): void {
    this.check(lease);
    Atomics.store(this.thread, lease.firstBlock, threadIndex);
  }

  private check(lease: Lease): void {
    const ok = lease.firstBlock >= 0 && lease.firstBlock + lease.blockCount <= this.layout.blockCount &&
      Atomics.load(this.run, lease.firstBlock) === lease.blockCount;
    for (let j = 0; ok && j < lease.blockCount; j++) {
      if (Atomics.load(this.ownerId, lease.firstBlock + j) !== lease.id) {
        throw new SrganError("ERR_POOL", `lease ${lease.id} was already released (or never granted): releasing it again would free memory another job owns`);
      }
    }
    if (!ok) throw new SrganError("ERR_POOL", `lease ${lease.id} does not belong to this pool`);
  }

  private *accountSteps(b: bigint): Generator<void, void> {
    const now = Atomics.add(this.counters, kCurrentBytes, b) + b;
    yield;
    Atomics.add(this.counters, kActiveLeases, 1n);
    Atomics.add(this.counters, kTotalLeases, 1n);
    // Peak: raise it only if ours is higher; if another thread moved it in between, look again.
    for (;;) {
      const seen = Atomics.load(this.counters, kPeakBytes);
      yield;
      if (now <= seen || Atomics.compareExchange(this.counters, kPeakBytes, seen, now) === seen) break;
    }
  }

  /** Largest run of free blocks, in bytes (what one lease can get right now). */
  largestFreeRun(): number {
    let best = 0, run = 0;
    for (let i = 0; i < this.layout.blockCount; i++) {
      run = Atomics.load(this.ownerId, i) === 0 ? run + 1 : 0;
      if (run > best) best = run;
    }
    return best * this.layout.blockBytes;
  }

  stats(): PoolStats {
    const c = this.counters;
    const perThread: Record<number, number> = {};
    for (let i = 0; i < this.layout.blockCount;) {
      const id = Atomics.load(this.ownerId, i);
      if (id === 0) { i++; continue; }
      const len = Math.max(1, Atomics.load(this.run, i));
      const th = Atomics.load(this.thread, i);
      perThread[th] = (perThread[th] ?? 0) + len * this.layout.blockBytes;
      i += len;
    }
    return {
      currentBytes: Number(Atomics.load(c, kCurrentBytes)),
      peakBytes: Number(Atomics.load(c, kPeakBytes)),
      activeLeases: Number(Atomics.load(c, kActiveLeases)),
      totalLeases: Number(Atomics.load(c, kTotalLeases)),
      failedLeases: Number(Atomics.load(c, kFailedLeases)),
      perThread,
      capacityBytes: this.capacityBytes,
    };
  }

  /** Starts a new peak window at the current usage. */
  resetPeak(): void {
    Atomics.store(this.counters, kPeakBytes, Atomics.load(this.counters, kCurrentBytes));
  }
}
