// SPDX-License-Identifier: MIT
// The one rule for placing buffers in the shared memory. Every region starts 64-byte aligned (a cache
// line; also what v128 loads want) and keeps 16 bytes of slack past its end: the kernels' vector
// loads of a tensor's last channels may read up to 12 bytes beyond it (lanes that are then dropped),
// and those bytes must stay inside the region's lease.

/** Bytes a region of `bytes` takes: its size plus the slack, rounded up to 64. */
export const paddedBytes = (bytes: number): number => Math.ceil((bytes + 16) / 64) * 64;
