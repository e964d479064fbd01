// SPDX-License-Identifier: MIT
// Slot layout of the control block at the start of the shared memory. Every thread reads and writes
// these slots with Atomics only; indices are named here and never inlined elsewhere.
//
// Byte counters are BigInt64 (a pool can exceed 2 GiB of accounting over its life); the block table is
// Int32 (one slot per pool block holding the owning lease id, 0 = free).

/** Bytes reserved below the control block (kernels use no static data, but keep address 0 unused: 0 is "no pointer"). */
export const kReservedBytes = 64 * 1024;

// BigInt64 slots
export const kCurrentBytes = 0;   // bytes leased right now
export const kPeakBytes = 1;      // highest kCurrentBytes ever seen (kept by a compare-and-swap loop)
export const kActiveLeases = 2;   // leases not yet released
export const kTotalLeases = 3;    // leases ever granted
export const kNextLeaseId = 4;    // lease id allocator
export const kFailedLeases = 5;   // lease requests refused for lack of space
export const kWorkerBytesBase = 8; // kWorkerBytesBase + worker index: bytes currently held by that worker (0 = main thread)
export const kMaxWorkers = 64;
export const kCounterSlots = kWorkerBytesBase + kMaxWorkers + 1;
export const kCounterBytes = kCounterSlots * 8;

export interface PoolStats {
  /** Bytes currently leased from the shared pool. */
  currentBytes: number;
  /** Highest `currentBytes` since creation (or the last `resetPeak`). */
  peakBytes: number;
  /** Leases currently held. */
  activeLeases: number;
  /** Leases granted since creation. */
  totalLeases: number;
  /** Lease requests refused because no run of free blocks was large enough. */
  failedLeases: number;
  /** Bytes held per thread: index 0 is the main thread, i ≥ 1 is worker i. Only non-zero entries. */
  perThread: Record<number, number>;
  /** Size of the pool. */
  capacityBytes: number;
}
