// SPDX-License-Identifier: MIT
// A lock-free block allocator inside the shared WebAssembly.Memory, usable from every thread at once.
//
// The pool is `blockCount` blocks of `blockBytes`. A table holds one Int32 per block: 0 when free, else
// the id of the lease that owns it. To lease n blocks a thread finds a run that looks free and claims it
// block by block with Atomics.compareExchange(0 → id); if another thread wins any block first, it puts
// back what it claimed and scans on. A block therefore never has two owners, and no thread ever waits
// on another. Releasing stores 0 back after checking the blocks still carry the lease's id (so a double
// release or a forged lease is caught instead of freeing someone else's memory).
//
// Accounting mirrors srgan-rust's tracking allocator: current bytes by Atomics.add/sub, peak by a CAS
// loop (raise only if higher; retry when another thread moved it meanwhile), per-thread bytes.
import { SrganError, OutOfMemoryError, mib } from "../errors.js";
import {
  kCurrentBytes, kPeakBytes, kActiveLeases, kTotalLeases, kNextLeaseId, kFailedLeases, kWorkerBytesBase,
  kMaxWorkers, kCounterSlots, type PoolStats,
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
  readonly thread: number;
}

/** Where the pool's pieces live inside the shared memory; identical in every thread. */
export interface PoolLayout {
  countersPtr: number;
  tablePtr: number;
  poolPtr: number;
  blockBytes: number;
  blockCount: number;
}

/** Hook points for race-detection tests: called between the atomic steps of lease and release. */
export type YieldHook = (where: "scan" | "claim" | "rollback" | "release" | "peak") => void;

export class BufferPool {
  readonly layout: PoolLayout;
  private readonly counters: BigInt64Array;
  private readonly table: Int32Array;
  /** Test hook: lets race tests interleave threads at every atomic step. */
  yieldHook: YieldHook | undefined;

  constructor(buffer: SharedArrayBuffer | ArrayBuffer, layout: PoolLayout, readonly thread = 0) {
    if (thread < 0 || thread > kMaxWorkers) throw new RangeError(`thread index must be in [0, ${kMaxWorkers}]`);
    this.layout = layout;
    this.counters = new BigInt64Array(buffer, layout.countersPtr, kCounterSlots);
    this.table = new Int32Array(buffer, layout.tablePtr, layout.blockCount);
  }

  get capacityBytes(): number {
    return this.layout.blockBytes * this.layout.blockCount;
  }

  /** Leases at least `bytes` bytes (rounded up to whole blocks). Throws OutOfMemoryError when no run is free. */
  lease(bytes: number): Lease {
    if (!Number.isFinite(bytes) || bytes < 0) throw new RangeError(`lease size must be a non-negative byte count, got ${bytes}`);
    const { blockBytes, blockCount, poolPtr } = this.layout;
    const need = Math.max(1, Math.ceil(bytes / blockBytes));
    const id = Number(Atomics.add(this.counters, kNextLeaseId, 1n)) + 1;
    const t = this.table;
    let i = 0;
    scan: while (i + need <= blockCount) {
      // Find a run that looks free.
      let j = 0;
      while (j < need && Atomics.load(t, i + j) === 0) j++;
      this.yieldHook?.("scan");
      if (j < need) { i += j + 1; continue; }
      // Claim it block by block; back out if another thread got there first.
      for (j = 0; j < need; j++) {
        this.yieldHook?.("claim");
        if (Atomics.compareExchange(t, i + j, 0, id) !== 0) {
          for (let r = 0; r < j; r++) { this.yieldHook?.("rollback"); Atomics.store(t, i + r, 0); }
          i += j + 1;
          continue scan;
        }
      }
      const leased = need * blockBytes;
      this.account(leased);
      return { id, ptr: poolPtr + i * blockBytes, bytes: leased, firstBlock: i, blockCount: need, thread: this.thread };
    }
    Atomics.add(this.counters, kFailedLeases, 1n);
    const free = this.freeBytes();
    throw new OutOfMemoryError(need * blockBytes, free,
      `Lower the tile size (option tileSize) or raise the pool (option memoryLimit, now ${mib(this.capacityBytes)}).`);
  }

  /** Returns a lease's blocks. Throws ERR_POOL on a double release or a lease this pool never granted. */
  release(lease: Lease): void {
    const t = this.table;
    if (lease.firstBlock < 0 || lease.firstBlock + lease.blockCount > this.layout.blockCount) {
      throw new SrganError("ERR_POOL", `lease ${lease.id} does not belong to this pool`);
    }
    for (let j = 0; j < lease.blockCount; j++) {
      if (Atomics.load(t, lease.firstBlock + j) !== lease.id) {
        throw new SrganError("ERR_POOL", `lease ${lease.id} was already released (or never granted); releasing it twice would free memory another job owns`);
      }
    }
    for (let j = 0; j < lease.blockCount; j++) { this.yieldHook?.("release"); Atomics.store(t, lease.firstBlock + j, 0); }
    const b = BigInt(lease.bytes);
    Atomics.sub(this.counters, kCurrentBytes, b);
    Atomics.sub(this.counters, kActiveLeases, 1n);
    Atomics.sub(this.counters, kWorkerBytesBase + lease.thread, b);
  }

  private account(bytes: number): void {
    const b = BigInt(bytes);
    const now = Atomics.add(this.counters, kCurrentBytes, b) + b;
    Atomics.add(this.counters, kActiveLeases, 1n);
    Atomics.add(this.counters, kTotalLeases, 1n);
    Atomics.add(this.counters, kWorkerBytesBase + this.thread, b);
    // Peak: raise only if ours is higher; if another thread changed it in between, look again.
    for (;;) {
      const seen = Atomics.load(this.counters, kPeakBytes);
      if (now <= seen) break;
      this.yieldHook?.("peak");
      if (Atomics.compareExchange(this.counters, kPeakBytes, seen, now) === seen) break;
    }
  }

  freeBytes(): number {
    let free = 0;
    for (let i = 0; i < this.layout.blockCount; i++) if (Atomics.load(this.table, i) === 0) free++;
    return free * this.layout.blockBytes;
  }

  /** Largest run of free blocks, in bytes (what one lease can get right now). */
  largestFreeRun(): number {
    let best = 0, run = 0;
    for (let i = 0; i < this.layout.blockCount; i++) {
      run = Atomics.load(this.table, i) === 0 ? run + 1 : 0;
      if (run > best) best = run;
    }
    return best * this.layout.blockBytes;
  }

  stats(): PoolStats {
    const c = this.counters;
    const perThread: Record<number, number> = {};
    for (let i = 0; i <= kMaxWorkers; i++) {
      const v = Number(Atomics.load(c, kWorkerBytesBase + i));
      if (v !== 0) perThread[i] = v;
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

  /** Starts a new peak measurement window at the current usage. */
  resetPeak(): void {
    Atomics.store(this.counters, kPeakBytes, Atomics.load(this.counters, kCurrentBytes));
  }
}
