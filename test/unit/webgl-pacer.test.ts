// SPDX-License-Identifier: MIT
// GpuPacer (src/backends/webgl/gpu-pacer.ts) on a stand-in GL whose fences signal when the test says
// the "GPU" finished a node: the CPU side stays exactly one node ahead, a readback waits for the last
// one, a check that throws (an abort) stops the wait at the next poll, and no fence is left behind.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { GpuPacer } from "../../src/backends/webgl/gpu-pacer.js";

const test = suite("GpuPacer");

/** Fences numbered 1, 2, … in issue order; fence n signals once finish(n) ran (and the thread got a turn). */
function fakeGpu() {
  let issued = 0, finished = 0, flushes = 0;
  const live = new Set<number>();
  const gl = {
    SYNC_GPU_COMMANDS_COMPLETE: 1, TIMEOUT_EXPIRED: 2, CONDITION_SATISFIED: 3,
    fenceSync: () => { live.add(++issued); return { n: issued }; },
    flush: () => { flushes++; },
    clientWaitSync: (s: { n: number }) => (s.n <= finished ? 3 : 2),
    deleteSync: (s: { n: number }) => { live.delete(s.n); },
  };
  return { gl: gl as unknown as WebGL2RenderingContext, finish: (n: number) => { finished = n; }, live, flushes: () => flushes };
}

/** Resolves to what `p` settled with, or "pending" after `ms`. */
const within = <T>(p: Promise<T>, ms: number) => Promise.race([p.then(() => "resolved", (e: Error) => `rejected: ${e.message}`), new Promise<string>((r) => setTimeout(() => r("pending"), ms))]);

test("one node ahead: afterNode waits for the node before, drain for the last; every fence is deleted", async () => {
  const gpu = fakeGpu();
  let checks = 0;
  const pacer = new GpuPacer(gpu.gl, () => { checks++; });
  assert.is(await within(pacer.afterNode(), 50), "resolved", "nothing before the first node");
  const second = pacer.afterNode();
  assert.is(await within(second, 40), "pending", "waits while node 1 runs");
  gpu.finish(1);
  assert.is(await within(second, 40), "resolved", "node 1 done: node 2 may run while node 3 is issued");
  const drained = pacer.drain();
  assert.is(await within(drained, 40), "pending", "drain waits for node 2");
  gpu.finish(2);
  assert.is(await within(drained, 40), "resolved");
  assert.equal([...gpu.live], [], "no fence left");
  assert.is(gpu.flushes(), 2, "each fence is flushed so it can signal");
  assert.ok(checks >= 4, `the check runs at every poll (${checks})`);
});

test("a check that throws (an abort) ends the wait at the next poll; dispose deletes the fence still held", async () => {
  const gpu = fakeGpu();
  let aborted = false;
  const pacer = new GpuPacer(gpu.gl, () => { if (aborted) throw new Error("aborted"); });
  await pacer.afterNode();
  const waiting = pacer.afterNode(); // node 1 never finishes
  assert.is(await within(waiting, 40), "pending");
  const t0 = performance.now();
  aborted = true;
  assert.is(await within(waiting, 200), "rejected: aborted");
  assert.ok(performance.now() - t0 < 100, "seen within a poll or two");
  assert.equal([...gpu.live], [2], "the fence of the last node is still held");
  pacer.dispose();
  assert.equal([...gpu.live], []);
});

test("no fence (a lost context gives none): no wait, the check decides", async () => {
  const gpu = fakeGpu();
  const gl = { ...gpu.gl, fenceSync: () => null } as unknown as WebGL2RenderingContext;
  let lost = false;
  const pacer = new GpuPacer(gl, () => { if (lost) throw new Error("context lost"); });
  assert.is(await within(pacer.afterNode(), 50), "resolved");
  lost = true;
  assert.is(await within(pacer.drain(), 50), "rejected: context lost");
});

test.run();
