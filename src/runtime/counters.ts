// SPDX-License-Identifier: MIT
// Slot layout of the control block at the start of the shared memory. Every thread reads and writes
// these slots with Atomics only; indices are named here and never inlined elsewhere (as piscina's
// symbols.ts does).

/** Bytes kept below the control block: address 0 must stay unused, since 0 means "no pointer" to the kernels. */
export const kReservedBytes = 64 * 1024;

// BigInt64 counters (a pool's lifetime accounting can pass 2 GiB).
export const kCurrentBytes = 0;   // bytes leased right now
export const kPeakBytes = 1;      // highest kCurrentBytes seen (kept by a compare-and-swap loop)
export const kActiveLeases = 2;   // leases not yet released
export const kTotalLeases = 3;    // leases ever granted
export const kNextLeaseId = 4;    // lease id allocator
export const kFailedLeases = 5;   // lease requests refused for lack of a free run
export const kCounterSlots = 8;
export const kCounterBytes = kCounterSlots * 8;

// Int32 thread slots (after the counters): slot i (1-based thread index) holds the owning worker's id,
// 0 when free. Workers claim one at start-up with compareExchange; the scheduler frees a dead worker's.
export const kMaxThreads = 64;
export const kThreadSlotBytes = (kMaxThreads + 1) * 4;

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
  /** Bytes in use per thread (0 = the scheduling thread, i ≥ 1 = worker i); only threads holding memory. */
  perThread: Record<number, number>;
  /** Size of the pool. */
  capacityBytes: number;
}
