// `srgan serve` / createServer on 127.0.0.1 with ephemeral ports: the CLI's bytes, every error
// status, the queue's limits, the job lifecycle, metrics, and draining on close and SIGTERM. Every
// wait is a bounded loop. Fast networks (bicubic, natural-fast) except where a job must be slow
// enough to be caught running (natural on 256×256).
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyInstance } from "fastify";
import { createServer, type ServerOptions } from "../../packages/server/src/index.js";
import { decodeImage, encodeJpeg, encodePng } from "../../src/image/codec.js";
import { JobQueue } from "../../packages/server/src/queue.js";
import { ServiceError, type SrganError } from "../../src/errors.js";
import { randomImage, rng, TSX } from "../helpers.js";
import { blackPng, jpegClaiming } from "../bombs.js";
import { assertError, bytes, cliBytes, picture, post, sample, until } from "../serve-helpers.js";

const test = suite("serve");
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "srgan-serve-"));

const small = picture(40, 28, 1);
const other = picture(33, 21, 2);
const slow = encodePng(randomImage(rng(5), 256, 256)); // natural on 256² takes ≥ 0.5 s on one thread
const truncated = picture(30, 20, 3).subarray(0, -40); // header fine, pixels cut: fails inside the job

async function start(options: ServerOptions): Promise<{ app: FastifyInstance; url: string }> {
  const app = await createServer(options);
  return { app, url: await app.listen({ host: "127.0.0.1", port: 0 }) };
}

const metrics = async (url: string) => (await fetch(`${url}/metrics`)).text();

// Tiled on 2 threads in the server, one thread and whole tiles in the CLI: the same bytes either way.
const fastOptions: ServerOptions = { model: "natural-fast", threads: 2, tileSize: 16 };

test("POST /v1/upscale answers the CLI's bytes (PNG, JPEG with quality, another model and scale)", async () => {
  const { app, url } = await start(fastOptions);
  try {
    const cases: [string, string, string[]][] = [
      ["", "png", ["--model", "natural-fast"]],
      ["?format=jpeg&quality=80", "jpg", ["--model", "natural-fast", "-q", "80"]],
      ["?model=bicubic&scale=3", "png", ["--model", "bicubic", "--scale", "3"]],
    ];
    for (const [query, ext, args] of cases) {
      const r = await post(`${url}/v1/upscale${query}`, small);
      assert.is(r.status, 200, query);
      assert.is(r.headers.get("content-type"), ext === "png" ? "image/png" : "image/jpeg");
      const got = await bytes(r);
      const want = await cliBytes(dir, small, ext, [...args, "--threads", "1"]);
      assert.ok(Buffer.from(got).equals(want), `${query || "defaults"}: ${got.length} bytes vs the CLI's ${want.length}`);
    }
  } finally {
    await app.close();
  }
});

test("concurrent requests each get the bytes a lone request gets", async () => {
  const { app, url } = await start(fastOptions);
  try {
    const alone = [await bytes(await post(`${url}/v1/upscale`, small)), await bytes(await post(`${url}/v1/upscale`, other))];
    const inputs = Array.from({ length: 8 }, (_, i) => i % 2);
    const answers = await Promise.all(inputs.map((k) => post(`${url}/v1/upscale`, k ? other : small)));
    for (const [i, r] of answers.entries()) {
      assert.is(r.status, 200);
      assert.ok(Buffer.from(await bytes(r)).equals(alone[inputs[i]]), `request ${i} differs`);
    }
  } finally {
    await app.close();
  }
});

test("by default the network is auto: natural-real for a JPEG, natural for a PNG, the CLI's bytes, named in Srgan-Model", async () => {
  const { app, url } = await start({ threads: 1 });
  try {
    const jpeg = encodeJpeg(decodeImage(small), 80);
    for (const [body, network] of [[jpeg, "natural-real"], [small, "natural"]] as const) {
      for (const path of ["/v1/upscale", "/v1/jobs"]) {
        let r = await post(`${url}${path}`, body);
        if (path === "/v1/jobs") {
          const { id } = await r.json() as { id: string };
          await until(`job ${id}`, async () => ((await (await fetch(`${url}/v1/jobs/${id}`)).json()) as { state: string }).state === "completed" || undefined);
          r = await fetch(`${url}/v1/jobs/${id}/result`);
        }
        assert.is(r.status, 200, path);
        assert.is(r.headers.get("srgan-model"), network, `${path}: ${network}`);
        const want = await cliBytes(dir, body, "png", ["--model", network, "--threads", "1"]);
        assert.ok(Buffer.from(await bytes(r)).equals(want), `${path}: the bytes of srgan upscale --model ${network}`);
      }
    }
  } finally {
    await app.close();
  }
});

test("errors: 400 bad image or option, 404 unknown job or route, 413 body or pixels (from the header)", async () => {
  const { app, url } = await start({ model: "bicubic", threads: 1, maxBody: 100_000, maxPixels: 2 ** 20 });
  try {
    const up = (query: string, body: Uint8Array = small) => post(`${url}/v1/upscale${query}`, body);
    await assertError(await up("", new TextEncoder().encode("hello")), 400, "ERR_IMAGE_DECODE", /not a PNG or JPEG/);
    await assertError(await fetch(`${url}/v1/upscale`, { method: "POST" }), 400, "ERR_BAD_REQUEST", /body must be the image/);
    await assertError(await up("?model=/etc/passwd"), 400, "ERR_BAD_REQUEST", /model must be one of .*bicubic/);
    await assertError(await up("?scale=9"), 400, "ERR_BAD_REQUEST", /scale must be an integer in \[1, 8\]/);
    await assertError(await up("?model=natural-fast&scale=3"), 400, "ERR_SCALE", /×3/);
    await assertError(await up("?format=gif"), 400, "ERR_BAD_REQUEST", /format must be png or jpeg/);
    await assertError(await up("?format=jpeg&quality=0"), 400, "ERR_BAD_REQUEST", /quality/);
    await assertError(await up("?colour=red"), 400, "ERR_BAD_REQUEST", /unknown query parameter 'colour'/);
    await assertError(await up("?scale=2&scale=3"), 400, "ERR_BAD_REQUEST", /more than once/);
    await assertError(await post(`${url}/v1/jobs`, new Uint8Array(10)), 400, "ERR_IMAGE_DECODE");
    await assertError(await fetch(`${url}/v1/jobs/no-such-job`), 404, "ERR_NOT_FOUND", /no job 'no-such-job'/);
    await assertError(await fetch(`${url}/v1/jobs/no-such-job/result`), 404, "ERR_NOT_FOUND");
    await assertError(await fetch(`${url}/v2/upscale`), 404, "ERR_NOT_FOUND", /no route GET \/v2\/upscale/);
    await assertError(await up("", new Uint8Array(100_001)), 413, "ERR_BODY_TOO_LARGE");
    // 7 KB files that claim 16000² (over --max-pixels) and, at ×8, an output over 2 GiB: refused unread.
    const t0 = performance.now();
    await assertError(await up("", jpegClaiming(16000, 16000)), 413, "ERR_IMAGE_TOO_LARGE", /16000×16000/);
    // The client is told the server's limit and who sets it, not a library option it cannot reach.
    const pixels = await up("?format=jpeg", blackPng(1100, 1000, new Uint8Array(8)));
    const { message } = await pixels.clone().json() as { message: string };
    await assertError(pixels, 413, "ERR_IMAGE_TOO_LARGE", /1100×1000 pixels, over this server's limit of 1048576 pixels.*--max-pixels/);
    assert.not.match(message, /decodeImage/);
    assert.ok(performance.now() - t0 < 1000, "refused from the header, not after decoding");
    const text = await metrics(url);
    assert.is(sample(text, 'srgan_http_requests_total{route="/v1/upscale",method="POST",status="400"}'), 9);
    assert.is(sample(text, 'srgan_http_requests_total{route="/v1/upscale",method="POST",status="413"}'), 3);
  } finally {
    await app.close();
  }
  const big = await start({ model: "bicubic", threads: 1, maxPixels: 2 ** 28 });
  try {
    await assertError(await post(`${big.url}/v1/upscale?scale=8`, blackPng(16000, 16000, new Uint8Array(8))), 413, "ERR_INVALID_INPUT", /over the 2 GiB/);
  } finally {
    await big.app.close();
  }
});

test("a full queue answers 429 with Retry-After at once; jobs already queued still finish", async () => {
  const { app, url } = await start({ model: "natural", threads: 1, queue: 1 });
  try {
    const a = await post(`${url}/v1/jobs`, slow), b = await post(`${url}/v1/jobs`, small);
    assert.is(a.status, 202);
    assert.is(b.status, 202);
    const t0 = performance.now();
    for (const path of ["/v1/upscale", "/v1/jobs"]) {
      const r = await post(url + path, small);
      assert.ok(Number(r.headers.get("retry-after")) >= 1, `Retry-After: ${r.headers.get("retry-after")}`);
      await assertError(r, 429, "ERR_QUEUE_FULL", /1 job is waiting/);
    }
    assert.ok(performance.now() - t0 < 1000, "refused without waiting");
    for (const { id } of [await a.json(), await b.json()] as { id: string }[]) {
      await until(`job ${id}`, async () => ((await (await fetch(`${url}/v1/jobs/${id}`)).json()).state === "completed" ? true : undefined));
    }
  } finally {
    await app.close();
  }
});

test("job lifecycle: 202 + id, waiting/active with progress, completed with the sync bytes; failures; expiry", async () => {
  const { app, url } = await start({ model: "natural", threads: 1, resultTtl: 2 });
  try {
    const status = async (id: string) => (await fetch(`${url}/v1/jobs/${id}`)).json() as Promise<{ id: string; state: string; progress: number; error?: { code: string } }>;
    const first = await post(`${url}/v1/jobs`, slow);
    assert.is(first.status, 202);
    const { id } = await first.json() as { id: string };
    assert.is(first.headers.get("location"), `/v1/jobs/${id}`);
    const second = (await (await post(`${url}/v1/jobs?model=bicubic`, small)).json() as { id: string }).id;
    const s = await status(second);
    assert.equal([s.id, s.state, s.progress], [second, "waiting", 0], "behind the slow job");
    const pending = await fetch(`${url}/v1/jobs/${second}/result`);
    assert.ok(Number(pending.headers.get("retry-after")) >= 1);
    await assertError(pending, 409, "ERR_JOB_PENDING", /is waiting/);
    // Progress rises by tile while the slow job runs.
    const seen = new Set<number>();
    const done = await until("the slow job", async () => {
      const j = await status(id);
      if (j.state === "active") seen.add(j.progress);
      return j.state === "completed" ? j : undefined;
    });
    assert.is(done.progress, 1);
    assert.is(done.error, undefined);
    assert.ok(seen.size >= 1, "seen running");
    const result = await fetch(`${url}/v1/jobs/${id}/result`);
    assert.is(result.status, 200);
    const queued = await bytes(result);
    // Fails after the header was accepted: the job says why, and its result answers with that error.
    const bad = (await (await post(`${url}/v1/jobs`, truncated)).json() as { id: string }).id;
    const failed = await until("the failing job", async () => { const j = await status(bad); return j.state === "failed" ? j : undefined; });
    assert.is(failed.error?.code, "ERR_IMAGE_DECODE");
    await assertError(await fetch(`${url}/v1/jobs/${bad}/result`), 400, "ERR_IMAGE_DECODE", /truncated/);
    let text = await metrics(url);
    const jobs = (state: string) => sample(text, `srgan_jobs{state="${state}"}`);
    assert.equal([jobs("completed"), jobs("failed")], [2, 1]);
    assert.ok(Buffer.from(queued).equals(await bytes(await post(`${url}/v1/upscale`, slow))), "the same bytes as POST /v1/upscale");
    // resultTtl: 2 s after they ended, jobs and results are gone.
    await until("expiry", async () => ((await fetch(`${url}/v1/jobs/${bad}`)).status === 404 ? true : undefined), 10_000);
    await assertError(await fetch(`${url}/v1/jobs/${id}/result`), 404, "ERR_NOT_FOUND", /expired/);
    text = await metrics(url);
    assert.equal([jobs("completed"), jobs("failed")], [0, 0]);
  } finally {
    await app.close();
  }
});

test("GET /metrics is valid Prometheus text with the srgan_ series; /healthz answers", async () => {
  const { app, url } = await start({ model: "bicubic", threads: 1 });
  try {
    await post(`${url}/v1/upscale`, small);
    await post(`${url}/v1/upscale`, new Uint8Array(3));
    const health = await fetch(`${url}/healthz`);
    assert.equal(await health.json(), { status: "ok", waiting: 0, active: 0 });
    const r = await fetch(`${url}/metrics`);
    assert.match(r.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
    const text = await r.text();
    const types = new Map<string, string>();
    const samples: { name: string; labels: Record<string, string>; value: number }[] = [];
    for (const line of text.split("\n")) {
      if (line === "") continue;
      const meta = /^# (HELP|TYPE) (\w+) (.+)$/.exec(line);
      if (meta) {
        if (meta[1] === "TYPE") types.set(meta[2], meta[3]);
        continue;
      }
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{((?:[a-zA-Z_]\w*="(?:[^"\\]|\\.)*",?)*)\})? (\S+)$/.exec(line);
      assert.ok(m, `not a sample line: ${line}`);
      const labels = Object.fromEntries([...(m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
      assert.ok(!Number.isNaN(Number(m[3])), line);
      samples.push({ name: m[1], labels, value: Number(m[3]) });
    }
    for (const s of samples) {
      assert.ok(s.name.startsWith("srgan_"), s.name);
      const family = types.has(s.name) ? s.name : s.name.replace(/_(bucket|sum|count)$/, "");
      assert.ok(types.has(family), `# TYPE for ${s.name}`);
    }
    assert.equal(types.get("srgan_http_requests_total"), "counter");
    assert.equal(types.get("srgan_http_request_duration_seconds"), "histogram");
    for (const name of ["srgan_queue_depth", "srgan_jobs", "srgan_pool_bytes", "srgan_pool_peak_bytes"]) assert.is(types.get(name), "gauge", name);
    // The histogram of /v1/upscale: cumulative buckets, +Inf = count = the 2 requests.
    const buckets = samples.filter((s) => s.name === "srgan_http_request_duration_seconds_bucket" && s.labels.route === "/v1/upscale");
    assert.ok(buckets.every((b, i) => i === 0 || b.value >= buckets[i - 1].value), "cumulative");
    assert.is(buckets.at(-1)!.labels.le, "+Inf");
    assert.is(buckets.at(-1)!.value, 2);
    assert.is(sample(text, 'srgan_http_request_duration_seconds_count{route="/v1/upscale"}'), 2);
    const pool = samples.find((s) => s.name === "srgan_pool_bytes")!;
    const peak = samples.find((s) => s.name === "srgan_pool_peak_bytes")!;
    assert.equal(pool.labels, { model: "bicubic", scale: "4" });
    assert.ok(peak.value > pool.value && pool.value > 0, "peak (a job's tiles) over current (weights)");
  } finally {
    await app.close();
  }
});

test("failed and abandoned jobs leave the pool at its baseline", async () => {
  const { app, url } = await start({ model: "natural", threads: 1, tileSize: 64 }); // 16 tiles: aborts land between them
  try {
    assert.is((await post(`${url}/v1/upscale?model=natural-fast`, small)).status, 200);
    assert.is((await post(`${url}/v1/upscale`, small)).status, 200);
    const pools = async () => {
      const t = await metrics(url);
      return ["natural", "natural-fast"].map((m) => [sample(t, `srgan_pool_bytes{model="${m}",scale="4"}`), sample(t, `srgan_pool_active_leases{model="${m}",scale="4"}`)]);
    };
    const baseline = await pools();
    assert.ok(baseline.every(([bytes, leases]) => bytes! > 0 && leases === 2), "weights only: network and alpha");
    for (let i = 0; i < 3; i++) assert.is((await post(`${url}/v1/upscale?model=natural-fast`, truncated)).status, 400);
    // A client that hangs up mid-job: the job is stopped between tiles, its leases returned.
    const gone = new AbortController();
    const abandoned = post(`${url}/v1/upscale`, slow, { signal: gone.signal }).catch((e: Error) => e);
    await until("the job to run", async () => (sample(await metrics(url), "srgan_queue_active") === 1 ? true : undefined));
    const t0 = performance.now();
    gone.abort();
    assert.instance(await abandoned, Error);
    await until("the job to stop", async () => (sample(await metrics(url), "srgan_queue_active") === 0 ? true : undefined));
    const stopped = performance.now() - t0;
    assert.is(sample(await metrics(url), 'srgan_jobs_finished_total{state="failed"}'), 4, "3 bad images, 1 abandoned");
    assert.equal(await pools(), baseline);
    // Still serving, and the same bytes as before.
    const again = await post(`${url}/v1/upscale?model=natural-fast`, small);
    assert.is(again.status, 200);
    assert.equal(await pools(), baseline);
    console.log(`  (abandoned natural 256² job stopped ${stopped.toFixed(0)} ms after the client hung up)`);
  } finally {
    await app.close();
  }
});

test("close() drains: running and queued requests finish, then the port is closed", async () => {
  const { app, url } = await start({ model: "natural", threads: 1 });
  const running = post(`${url}/v1/upscale`, slow);
  const queued = post(`${url}/v1/upscale?model=bicubic`, small);
  await until("the job to run", async () => (sample(await metrics(url), "srgan_queue_active") === 1 ? true : undefined));
  const t0 = performance.now();
  const closing = app.close();
  const [a, b] = await Promise.all([running, queued]);
  assert.equal([a.status, b.status], [200, 200]);
  assert.ok((await bytes(a)).length > 0 && (await bytes(b)).length > 0);
  await closing;
  // Answered keep-alive connections are closed, not left to their 72 s timeout.
  assert.ok(performance.now() - t0 < 30_000, `closed in ${performance.now() - t0} ms`);
  assert.instance(await fetch(`${url}/healthz`).catch((e: Error) => e), Error, "nothing listens any more");
});

test("srgan serve: SIGTERM stops accepting, finishes what runs, exits 0", async () => {
  const child = spawn(process.execPath, [...TSX, "src/cli/main.ts", "serve", "--port", "0", "--model", "natural", "--threads", "1"], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "", stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  try {
    const url = await until("the listening line", async () => /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout)?.[1], 60_000);
    const running = post(`${url}/v1/upscale`, slow);
    await until("the job to run", async () => (sample(await metrics(url), "srgan_queue_active") === 1 ? true : undefined));
    const t0 = performance.now();
    child.kill("SIGTERM");
    const r = await running;
    assert.is(r.status, 200);
    assert.is((await bytes(r)).length > 1000, true);
    assert.is(await exited, 0, stderr);
    assert.ok(performance.now() - t0 < 30_000, `exited ${performance.now() - t0} ms after SIGTERM`);
    assert.match(stderr, /stopping: no new requests; finishing the accepted jobs\n.*stopped/);
    assert.instance(await fetch(`${url}/healthz`).catch((e: Error) => e), Error);
  } finally {
    child.kill("SIGKILL");
  }
});

test("a server whose own model or scale cannot run fails at start, not on every request", async () => {
  for (const [options, code] of [[{ model: "natural-fast", scale: 2 }, "ERR_SCALE"], [{ model: join(dir, "missing.srnet") }, "ERR_IO"]] as const) {
    const got = await createServer({ ...options, threads: 0 }).then(async (app) => { await app.close(); return "started"; }, (e: { code?: string }) => e.code);
    assert.is(got, code);
  }
});

test("the queue: FIFO one at a time, 429 when full, 503 once closed (both with Retry-After), cancel", async () => {
  const order: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const q = new JobQueue<string>(2);
  const a = q.add(async () => { order.push("a"); await gate; return "A"; });
  const b = q.add(async () => { order.push("b"); return "B"; });
  const c = q.add(async () => "C");
  assert.equal([a.state, b.state, c.state, q.depth, q.running], ["active", "waiting", "waiting", 2, 1]);
  const full = (() => { try { q.add(async () => "D"); } catch (e) { return e; } })() as ServiceError;
  assert.instance(full, ServiceError);
  assert.equal([full.code, full.status, full.retryAfter! >= 1], ["ERR_QUEUE_FULL", 429, true]);
  q.cancel(c, new Error("client left"));
  assert.equal([c.state, (c.error as SrganError).code], ["failed", "ERR_ABORTED"]);
  const closed = q.close();
  const late = (() => { try { q.add(async () => "E"); } catch (e) { return e; } })() as ServiceError;
  assert.equal([late.code, late.status, late.retryAfter! >= 1], ["ERR_SHUTTING_DOWN", 503, true]);
  release();
  await closed; // resolves only once the accepted jobs are done
  assert.equal([a.result, b.result, order], ["A", "B", ["a", "b"]]);
});

let tEach = 0;
test.before.each(() => { tEach = performance.now(); });
test.after.each(() => { if (process.env.SERVE_TIMES) console.log(`  ${(performance.now() - tEach).toFixed(0)} ms`); });
test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
