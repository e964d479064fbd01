// The lock-free buffer pool: behaviour, typed errors, and a loom-style exhaustive check of every
// interleaving of its atomic steps for 2–3 threads on small pools (the real code, driven step by step).
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { BufferPool, type Lease, type PoolLayout } from "../../src/runtime/buffer-pool.js";
import { kCounterBytes, kThreadSlotBytes } from "../../src/runtime/counters.js";
import { OutOfMemoryError, SrganError } from "../../src/errors.js";
import { rng, randInt } from "../helpers.js";

const test = suite("BufferPool");

function makePool(blockCount: number, blockBytes = 16): { pool: BufferPool; buffer: SharedArrayBuffer; layout: PoolLayout } {
  const tablesPtr = Math.ceil((kCounterBytes + kThreadSlotBytes) / 64) * 64;
  const poolPtr = tablesPtr + 12 * blockCount;
  const buffer = new SharedArrayBuffer(poolPtr + blockCount * blockBytes);
  const layout = { countersPtr: 0, threadSlotsPtr: kCounterBytes, tablesPtr, poolPtr, blockBytes, blockCount };
  return { pool: new BufferPool(buffer, layout), buffer, layout };
}

test("leases whole blocks, accounts current/peak, returns to zero", () => {
  const { pool } = makePool(8);
  const a = pool.lease(1), b = pool.lease(17), c = pool.lease(0);
  assert.is(a.bytes, 16); assert.is(b.bytes, 32); assert.is(c.bytes, 16);
  assert.ok(a.ptr + a.bytes <= b.ptr || b.ptr + b.bytes <= a.ptr);
  let s = pool.stats();
  assert.is(s.currentBytes, 64); assert.is(s.peakBytes, 64); assert.is(s.activeLeases, 3);
  pool.release(b);
  s = pool.stats();
  assert.is(s.currentBytes, 32); assert.is(s.peakBytes, 64);
  pool.release(a); pool.release(c);
  s = pool.stats();
  assert.is(s.currentBytes, 0); assert.is(s.activeLeases, 0); assert.is(s.totalLeases, 3);
  assert.equal(s.perThread, {});
});

test("out of memory is a typed error with sizes and a fix, and leaves nothing held", () => {
  const { pool } = makePool(4);
  const a = pool.lease(16 * 3);
  try {
    pool.lease(32);
    assert.unreachable("should have thrown");
  } catch (e) {
    assert.instance(e, OutOfMemoryError);
    assert.is((e as OutOfMemoryError).code, "ERR_OUT_OF_MEMORY");
    assert.is((e as OutOfMemoryError).requestedBytes, 32);
    assert.is((e as OutOfMemoryError).availableBytes, 16);
    assert.match((e as Error).message, /memoryLimit/);
  }
  assert.is(pool.stats().currentBytes, 48);
  assert.is(pool.stats().failedLeases, 1);
  pool.release(a);
  assert.is(pool.lease(64).bytes, 64);
});

test("double release and forged leases are refused (ERR_POOL) without freeing anything", () => {
  const { pool } = makePool(4);
  const a = pool.lease(16);
  pool.release(a);
  const b = pool.lease(16); // reuses a's block under a new id
  assert.throws(() => pool.release(a), (e: unknown) => e instanceof SrganError && e.code === "ERR_POOL");
  assert.throws(() => pool.release({ ...b, firstBlock: 99 }), (e: unknown) => e instanceof SrganError && e.code === "ERR_POOL");
  assert.is(pool.stats().activeLeases, 1);
  pool.release(b);
});

test("per-thread bytes follow setThread", () => {
  const { pool } = makePool(8);
  const a = pool.lease(32), b = pool.lease(16);
  pool.setThread(a, 3);
  assert.equal(pool.stats().perThread, { 0: 16, 3: 32 });
  pool.setThread(a, 0);
  assert.equal(pool.stats().perThread, { 0: 48 });
  pool.release(a); pool.release(b);
});

// ---- exhaustive interleavings -------------------------------------------------------------------

type Program = (pool: BufferPool) => Generator<void, unknown>;
/** Each simulated thread leases `blocks` blocks, then (optionally) releases them. */
const leaseThenRelease = (blocks: number, release: boolean): Program => function* (pool) {
  let lease: Lease;
  try {
    lease = yield* pool.leaseSteps(blocks * 16);
  } catch (e) {
    if (e instanceof OutOfMemoryError) return "oom";
    throw e;
  }
  // While held, nobody else may own any of its blocks: checked by the verifier below via the table.
  if (release) yield* pool.releaseSteps(lease);
  return lease;
};

interface Outcome { results: unknown[]; pool: BufferPool; buffer: SharedArrayBuffer; layout: PoolLayout; maxHeld: number }

/** Runs the programs following `schedule` (thread index per step); with `finish`, then each thread to its end in order. */
function replay(blockCount: number, programs: Program[], schedule: number[], finish = false): { outcome: Outcome; runnable: number[] } {
  const { pool, buffer, layout } = makePool(blockCount);
  const owner = new Int32Array(buffer, layout.tablesPtr, blockCount);
  const gens = programs.map((p) => p(pool));
  const done: boolean[] = programs.map(() => false);
  const results: unknown[] = programs.map(() => undefined);
  let maxHeld = 0;
  const step = (t: number) => {
    const r = gens[t].next();
    if (r.done) { done[t] = true; results[t] = r.value; }
    let held = 0;
    for (let i = 0; i < blockCount; i++) if (owner[i] !== 0) held++;
    maxHeld = Math.max(maxHeld, held);
  };
  for (const t of schedule) if (!done[t]) step(t);
  if (finish) programs.forEach((_, t) => { while (!done[t]) step(t); });
  const runnable = programs.map((_, i) => i).filter((i) => !done[i]);
  return { outcome: { results, pool, buffer, layout, maxHeld }, runnable };
}

function explore(blockCount: number, programs: Program[], verify: (o: Outcome) => void, limit = 400_000): number {
  let count = 0;
  const stack: number[][] = [[]];
  while (stack.length) {
    const schedule = stack.pop()!;
    const { outcome, runnable } = replay(blockCount, programs, schedule);
    if (runnable.length === 0) { verify(outcome); count++; continue; }
    for (const t of runnable) stack.push([...schedule, t]);
    if (count > limit) throw new Error("state space larger than the test's bound");
  }
  return count;
}

function verifyReleasedAll(o: Outcome): void {
  const s = o.pool.stats();
  assert.is(s.currentBytes, 0, "current returns to zero");
  assert.is(s.activeLeases, 0);
  const owner = new Int32Array(o.buffer, o.layout.tablesPtr, o.layout.blockCount);
  assert.ok(owner.every((v) => v === 0), "every block free");
  const granted = o.results.filter((r) => r !== "oom") as Lease[];
  // Peak is the true maximum of concurrently held bytes, never less (and never more than granted).
  assert.ok(s.peakBytes <= granted.reduce((a, l) => a + l.bytes, 0));
  assert.ok(s.peakBytes >= Math.max(0, ...granted.map((l) => l.bytes)));
}

test("every interleaving: 2 threads lease 2 blocks each from 3, then release", () => {
  const n = explore(3, [leaseThenRelease(2, true), leaseThenRelease(2, true)], verifyReleasedAll);
  assert.ok(n > 1000, `explored ${n} interleavings`);
});

test("every interleaving: 3 threads contend for a 1-block pool, lease and release", () => {
  const seen = new Set<string>();
  const n = explore(1, [leaseThenRelease(1, true), leaseThenRelease(1, true), leaseThenRelease(1, true)], (o) => {
    verifyReleasedAll(o);
    assert.ok(o.maxHeld <= 1);
    seen.add(o.results.map((r) => (r === "oom" ? "x" : "ok")).join(","));
  });
  assert.ok(n > 1000, `explored ${n} interleavings`);
  assert.ok(seen.size > 1, "both winning and losing outcomes occur");
});

test("every interleaving: 2 threads race for the last block; the loser fails cleanly", () => {
  const n = explore(1, [leaseThenRelease(1, false), leaseThenRelease(1, false)], (o) => {
    const granted = o.results.filter((r) => r !== "oom") as Lease[];
    assert.is(granted.length, 1);
    assert.is(o.pool.stats().currentBytes, 16);
    assert.is(o.pool.stats().failedLeases, 1);
  });
  assert.ok(n >= 6, `explored ${n} interleavings`);
});

test("random interleavings of 4 threads with mixed sizes keep every invariant", () => {
  const rand = rng(7);
  for (let trial = 0; trial < 3000; trial++) {
    const programs = Array.from({ length: 4 }, () => leaseThenRelease(randInt(rand, 1, 3), true));
    const schedule: number[] = [];
    for (let i = 0; i < 80; i++) schedule.push(randInt(rand, 0, 3));
    const { outcome } = replay(6, programs, schedule, true);
    verifyReleasedAll(outcome);
  }
});

test("the checker can fail: a pool that skips the compare-exchange is caught", () => {
  // Same programs, but claims with a plain store (what a racy pool would do): two leases end up
  // sharing a block in some interleaving, and the verifier must notice.
  const racy: Program = function* (pool) {
    const p = pool as unknown as { ownerId: Int32Array };
    const orig = Atomics.compareExchange;
    const fake = ((a: Int32Array, i: number, _e: number, v: number) => { const old = a[i]; a[i] = v; return old === v ? 0 : 0; }) as typeof Atomics.compareExchange;
    (Atomics as { compareExchange: typeof fake }).compareExchange = fake;
    try { return yield* leaseThenRelease(1, false)(pool); } finally { (Atomics as { compareExchange: typeof orig }).compareExchange = orig; void p; }
  };
  let caught = false;
  try {
    explore(1, [racy, racy], (o) => {
      const granted = o.results.filter((r) => r !== "oom") as Lease[];
      assert.ok(new Set(granted.map((l) => l.firstBlock)).size === granted.length, "shared block");
    });
  } catch {
    caught = true;
  }
  assert.ok(caught, "the verifier detected two owners of one block");
});

test.run();
