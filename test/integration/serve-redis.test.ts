// `srgan serve --redis` with `srgan worker` on a real redis-server, started here on a free loopback
// port with a temporary directory and killed at the end: the CLI's bytes under concurrent requests
// through the queue, errors that cross Redis with their code, 429 with no worker, 503 with Redis
// gone, a worker killed with SIGKILL mid-job and its job finished by another, and a worker's
// graceful SIGTERM. Every wait is bounded. Skips (one line) without redis-server, except under CI.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer as netServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyInstance } from "fastify";
import { Redis } from "ioredis";
import { createServer, createWorker, type ServerOptions, type SrganWorker, type WorkerOptions } from "../../packages/server/src/index.js";
import { encodePng } from "../../src/image/codec.js";
import { main } from "../../src/cli/main.js";
import { randomImage, rng, TSX } from "../helpers.js";
import { assertError, bytes, cliBytes, picture, post, until } from "../serve-helpers.js";

const test = suite("serve-redis");
const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** True when redis-server runs here; under CI its absence is a failure (.ci/run installs it). */
function haveRedis(): boolean {
  if (!spawnSync("redis-server", ["--version"]).error) return true;
  if (process.env.CI) throw new Error("redis-server is missing but CI is set: the Redis tests of srgan serve must run in CI (.ci/run installs it)");
  console.log("skip: srgan serve --redis tests (needs redis-server on PATH, e.g. apt-get install redis-server)");
  return false;
}

async function freePort(): Promise<number> {
  const s = netServer().listen(0, "127.0.0.1");
  await once(s, "listening");
  const port = (s.address() as { port: number }).port;
  s.close();
  return port;
}

const small = picture(40, 28, 1);
const other = picture(33, 21, 2);
const slow = encodePng(randomImage(rng(5), 256, 256)); // natural on 256², one thread: ≥ 0.5 s
const truncated = picture(30, 20, 3).subarray(0, -40);

type Status = { id: string; state: string; progress: number; error?: { code: string; message: string } };
const status = async (url: string, id: string) => (await fetch(`${url}/v1/jobs/${id}`)).json() as Promise<Status>;
const submit = async (url: string, body: Uint8Array, query = "") => {
  const r = await post(`${url}/v1/jobs${query}`, body);
  assert.is(r.status, 202);
  return (await r.json() as { id: string }).id;
};
const finished = (url: string, id: string, ms = 60_000) =>
  until(`job ${id} to end`, async () => { const s = await status(url, id); return s.state === "completed" || s.state === "failed" ? s : undefined; }, ms);

/** `srgan worker` as a child process; resolves once it says it is taking jobs. */
async function workerProcess(redis: string, args: string[]): Promise<{ child: ChildProcess; log: () => string; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, [...TSX, "src/cli/main.ts", "worker", "--redis", redis, ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  child.stdout!.on("data", (d) => (log += d));
  child.stderr!.on("data", (d) => (log += d));
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  await until("the worker to start", async () => (/taking jobs/.test(log) ? true : undefined), 60_000);
  return { child, log: () => log, exited };
}

if (haveRedis()) {
  const dir = mkdtempSync(join(tmpdir(), "srgan-redis-"));
  let redisServer: ChildProcess;
  let redis = "";
  let redisGone = false;
  const servers: FastifyInstance[] = [];
  const workers: SrganWorker[] = [];
  const children: ChildProcess[] = [];

  test.before(async () => {
    const port = await freePort();
    redisServer = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "no"], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    redisServer.stdout!.on("data", (d) => (out += d));
    await until("redis-server to start", async () => (/Ready to accept connections/.test(out) ? true : undefined), 10_000);
    redis = `redis://127.0.0.1:${port}`;
    process.once("exit", () => redisServer.kill("SIGKILL")); // even when a test run is cut short
  });

  test.after.each(async () => {
    for (const c of children.splice(0)) c.kill("SIGKILL");
    await Promise.all(servers.splice(0).map((s) => s.close()));
    await Promise.all(workers.splice(0).map((w) => w.close()));
    if (redisGone) return;
    const client = new Redis(redis);
    await client.flushall(); // each test starts on an empty queue
    client.disconnect();
  });

  test.after(() => {
    redisServer?.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  const serve = async (options: ServerOptions) => {
    const app = await createServer({ ...options, redis });
    servers.push(app);
    return app.listen({ host: "127.0.0.1", port: 0 });
  };
  const work = async (options: Partial<WorkerOptions>) => {
    const w = await createWorker({ redis, ...options });
    workers.push(w);
    return w;
  };

  test("through Redis, concurrent requests on 2 workers answer the CLI's bytes (sync and queued, PNG and JPEG)", async () => {
    const url = await serve({ model: "natural-fast", threads: 0, queue: 64 });
    const ran = [0, 0];
    for (const i of [0, 1]) await work({ model: "natural-fast", threads: 1, tileSize: 16, onJob: (_id, state) => { if (state === "completed") ran[i]++; } });
    const cases = [
      { body: small, query: "", ext: "png", args: ["--model", "natural-fast"] },
      { body: other, query: "", ext: "png", args: ["--model", "natural-fast"] },
      { body: small, query: "?format=jpeg&quality=80", ext: "jpg", args: ["--model", "natural-fast", "-q", "80"] },
      { body: other, query: "?model=bicubic&scale=3", ext: "png", args: ["--model", "bicubic", "--scale", "3"] },
    ];
    const want = [];
    for (const c of cases) want.push(await cliBytes(dir, c.body, c.ext, [...c.args, "--threads", "1"]));
    const picks = Array.from({ length: 16 }, (_, i) => i % cases.length);
    const [sync, ids] = await Promise.all([
      Promise.all(picks.map((k) => post(`${url}/v1/upscale${cases[k].query}`, cases[k].body))),
      Promise.all(picks.slice(0, 8).map((k) => submit(url, cases[k].body, cases[k].query))),
    ]);
    for (const [i, r] of sync.entries()) {
      assert.is(r.status, 200, `request ${i}`);
      assert.ok(Buffer.from(await bytes(r)).equals(want[picks[i]]), `request ${i} (${cases[picks[i]].query || "defaults"}) differs from the CLI`);
    }
    for (const [i, id] of ids.entries()) {
      const s = await finished(url, id);
      assert.equal([s.state, s.progress], ["completed", 1]);
      const r = await fetch(`${url}/v1/jobs/${id}/result`);
      assert.is(r.status, 200);
      assert.ok(Buffer.from(await bytes(r)).equals(want[picks[i]]), `job ${i} differs from the CLI`);
    }
    assert.is(ran[0] + ran[1], 24);
    assert.ok(ran[0] > 0 && ran[1] > 0, `both workers ran jobs: ${ran}`);
  });

  test("through Redis: bad inputs keep their status and code, also when they fail on the worker; 429 while no worker runs", async () => {
    const url = await serve({ model: "natural-fast", threads: 0, queue: 1, maxPixels: 2 ** 20 });
    await assertError(await post(`${url}/v1/upscale`, new TextEncoder().encode("hello")), 400, "ERR_IMAGE_DECODE");
    await assertError(await post(`${url}/v1/upscale?format=gif`, small), 400, "ERR_BAD_REQUEST", /format/);
    await assertError(await post(`${url}/v1/upscale?model=/etc/passwd`, small), 400, "ERR_BAD_REQUEST", /model must be one of/);
    await assertError(await post(`${url}/v1/upscale`, encodePng(randomImage(rng(1), 1100, 1000))), 413, "ERR_IMAGE_TOO_LARGE");
    await assertError(await fetch(`${url}/v1/jobs/no-such-job`), 404, "ERR_NOT_FOUND");
    await assertError(await fetch(`${url}/v1/jobs/no-such-job/result`), 404, "ERR_NOT_FOUND");
    // No worker yet: one job waits in Redis, the next request is refused at once.
    const waiting = await submit(url, truncated);
    assert.equal((await status(url, waiting)).state, "waiting");
    const t0 = performance.now();
    for (const path of ["/v1/upscale", "/v1/jobs"]) {
      const r = await post(url + path, small);
      assert.ok(Number(r.headers.get("retry-after")) >= 1, `Retry-After: ${r.headers.get("retry-after")}`);
      await assertError(r, 429, "ERR_QUEUE_FULL", /1 job is waiting/);
    }
    assert.ok(performance.now() - t0 < 2000, "refused without waiting");
    assert.match(await (await fetch(`${url}/metrics`)).text(), /\nsrgan_queue_depth 1\n/);
    // A worker comes: the waiting job runs and fails there (its pixels are cut); the error keeps its code.
    await work({ model: "natural-fast", threads: 1 });
    const failed = await finished(url, waiting);
    assert.is(failed.error?.code, "ERR_IMAGE_DECODE");
    await assertError(await fetch(`${url}/v1/jobs/${waiting}/result`), 400, "ERR_IMAGE_DECODE", /truncated/);
    await assertError(await post(`${url}/v1/upscale`, truncated), 400, "ERR_IMAGE_DECODE", /truncated/);
    // A worker runs only the built-ins and its own --model.
    const custom = join(dir, "custom.srnet");
    assert.is((await main(["convert", "natural-fast", custom])), 0);
    const url2 = await serve({ model: custom, threads: 0 });
    const refused = await finished(url2, await submit(url2, small));
    assert.is(refused.error?.code, "ERR_BAD_REQUEST");
    assert.match(refused.error!.message, /--model .*custom\.srnet/);
  });

  test("createServer / createWorker / srgan worker refuse bad Redis options, and Redis that is not there, without hanging", async () => {
    const code = (p: Promise<unknown>) => p.then(() => "started", (e: { code?: string; name: string }) => e.code ?? e.name);
    assert.is(await code(createServer({ model: "bicubic", threads: 0, redis: "http://127.0.0.1:1" })), "TypeError");
    assert.is(await code(createWorker({ redis: "127.0.0.1:6379" })), "TypeError");
    assert.is(await code(createWorker({ redis, stalledAfter: 0 })), "RangeError");
    const t0 = performance.now();
    const nobody = `redis://127.0.0.1:${await freePort()}`;
    assert.is(await code(createServer({ model: "bicubic", threads: 0, redis: nobody })), "ERR_QUEUE_UNAVAILABLE");
    assert.is(await code(createWorker({ model: "bicubic", threads: 0, redis: nobody })), "ERR_QUEUE_UNAVAILABLE");
    assert.ok(performance.now() - t0 < 25_000, `refused in ${performance.now() - t0} ms`);
    const err = process.stderr.write;
    let stderr = "";
    process.stderr.write = ((s: string) => { stderr += s; return true; }) as typeof process.stderr.write;
    try {
      assert.is(await main(["worker"]), 2);
      assert.is(await main(["worker", "--redis", "localhost:6379"]), 2);
    } finally {
      process.stderr.write = err;
    }
    assert.match(stderr, /--redis URL is required/);
    assert.match(stderr, /--redis must be a redis:\/\/ or rediss:\/\/ URL/);
  });

  test("a worker killed with SIGKILL mid-job: another worker takes the job over and completes it", async () => {
    const url = await serve({ model: "natural", threads: 0 });
    const a = await workerProcess(redis, ["--model", "natural", "--threads", "1", "--stalled-after", "2"]);
    children.push(a.child);
    const id = await submit(url, slow);
    await until("worker A to run the job", async () => ((await status(url, id)).state === "active" ? true : undefined));
    const taken: string[] = [];
    await work({ model: "natural", threads: 1, stalledAfter: 2, onJob: (jobId, state) => { if (state === "completed") taken.push(jobId); } });
    a.child.kill("SIGKILL");
    assert.is(await a.exited, null, "killed");
    assert.not.match(a.log(), /completed/, "A never finished it");
    const t0 = performance.now();
    const done = await finished(url, id, 60_000);
    assert.is(done.state, "completed", JSON.stringify(done));
    assert.equal(taken, [id], "worker B completed it");
    const r = await fetch(`${url}/v1/jobs/${id}/result`);
    assert.ok(Buffer.from(await bytes(r)).equals(await cliBytes(dir, slow, "png", ["--model", "natural", "--threads", "1"])), "the CLI's bytes");
    console.log(`  (the killed worker's job was completed by another ${((performance.now() - t0) / 1000).toFixed(1)} s after the kill; --stalled-after 2)`);
  });

  test("closing a --redis server answers its synchronous requests in flight (their jobs finish on the workers), then refuses", async () => {
    const app = await createServer({ model: "natural", threads: 0, redis });
    const url = await app.listen({ host: "127.0.0.1", port: 0 });
    await work({ model: "natural", threads: 1 });
    const inFlight = post(`${url}/v1/upscale`, slow);
    await until("the job to run", async () => (/\nsrgan_queue_active 1\n/.test(await (await fetch(`${url}/metrics`)).text()) ? true : undefined));
    const closing = app.close();
    const r = await inFlight;
    assert.is(r.status, 200);
    assert.ok((await bytes(r)).length > 1000);
    await closing;
    assert.instance(await fetch(`${url}/healthz`).catch((e: Error) => e), Error, "nothing listens any more");
  });

  test("srgan worker: SIGTERM stops taking jobs, finishes the running one, exits 0", async () => {
    const url = await serve({ model: "natural", threads: 0 });
    const w = await workerProcess(redis, ["--model", "natural", "--threads", "1"]);
    children.push(w.child);
    const running = await submit(url, slow);
    const next = await submit(url, small);
    await until("the job to run", async () => ((await status(url, running)).state === "active" ? true : undefined));
    const t0 = performance.now();
    w.child.kill("SIGTERM");
    assert.is(await w.exited, 0, w.log());
    assert.ok(performance.now() - t0 < 30_000, `exited ${performance.now() - t0} ms after SIGTERM`);
    assert.match(w.log(), /stopping: no new jobs; finishing the running one\n(.*\n)*.*stopped/);
    assert.is((await status(url, running)).state, "completed", "the running job finished");
    assert.is((await status(url, next)).state, "waiting", "the next one stays queued for another worker");
    // Redis gone: requests answer 503 at once, not a hang.
    redisGone = true;
    redisServer.kill("SIGKILL");
    await once(redisServer, "close");
    const t1 = performance.now();
    await assertError(await post(`${url}/v1/jobs`, small), 503, "ERR_QUEUE_UNAVAILABLE", /cannot be reached/);
    await assertError(await fetch(`${url}/v1/jobs/${running}`), 503, "ERR_QUEUE_UNAVAILABLE");
    assert.ok(performance.now() - t1 < 5000, `answered in ${performance.now() - t1} ms`);
  });
}

test.run();
