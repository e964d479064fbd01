// SPDX-License-Identifier: MIT
// DeferredRunner (the WebGL backend's wasm fallback): nothing starts until a job needs it, a failed
// start is retried by the next job, and dispose() disposes what was started (and starts nothing).
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { DeferredRunner, type TileRunner } from "../../src/runtime/runner.js";

const test = suite("DeferredRunner");

function fake(concurrency: number, log: string[]): TileRunner {
  return {
    concurrency,
    run: async () => { log.push("run"); return { thread: 1, ms: 0 }; },
    dispose: async () => { log.push("dispose"); },
  };
}

test("starts on first use only, then reports the started runner's concurrency", async () => {
  const log: string[] = [];
  const r = new DeferredRunner(async () => { log.push("start"); return fake(3, log); });
  assert.is(r.concurrency, 0);
  assert.equal(log, []);
  await Promise.all([r.ready(), r.ready()]);
  assert.is(r.concurrency, 3);
  await r.run({} as never);
  await r.dispose();
  assert.equal(log, ["start", "run", "dispose"], "one start for concurrent callers");
});

test("a failed start is retried by the next call; dispose() before any start starts nothing", async () => {
  const log: string[] = [];
  let fail = true;
  const r = new DeferredRunner(async () => { log.push("start"); if (fail) throw new Error("no workers"); return fake(2, log); });
  const e = await r.ready().then(() => null, (err: Error) => err);
  assert.match(e?.message ?? "", /no workers/);
  fail = false;
  await r.ready();
  assert.is(r.concurrency, 2);
  const idle = new DeferredRunner(async () => { log.push("never"); return fake(1, log); });
  await idle.dispose();
  assert.equal(log, ["start", "start"]);
});

test.run();
