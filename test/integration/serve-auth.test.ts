// `srgan serve` on a network, in-process on 127.0.0.1: API keys (none, wrong, revoked on reload or
// SIGHUP → 401; scopes → 403; /healthz open), per-key limits (429 with Retry-After, other keys
// unaffected), jobs private to their key (404), CORS, request ids in answers and logs, the key file's
// errors, the refusal to listen beyond loopback without keys, and the OpenAPI document (valid 3.1,
// every route, every error code). Bicubic on tiny images: the network does not matter here.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Validator } from "@seriousme/openapi-schema-validator";
import { createServer, generateApiKey, type ServerOptions, type SrganServer } from "../../packages/server/src/index.js";
import { parseKeyFile } from "../../packages/server/src/auth.js";
import { ERROR_CODES } from "../../src/errors.js";
import { main } from "../../src/cli/main.js";
import { TSX } from "../helpers.js";
import { assertError, awayFromMinuteEnd, picture, post, until } from "../serve-helpers.js";

const test = suite("serve-auth");
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "srgan-auth-"));
const small = picture(40, 28, 1); // 1120 input pixels

const alice = generateApiKey({ label: "alice" });
const bob = generateApiKey({ label: "bob" });
const carol = generateApiKey({ label: "carol", pixelQuota: null, rateLimit: null }); // no limits of her own
const prom = generateApiKey({ label: "prom", scopes: ["metrics"] });

function keyFile(name: string, ...keys: { line: string }[]): string {
  const file = join(dir, name);
  writeFileSync(file, `# keys of the test\n${keys.map((k) => k.line).join("\n")}\n`);
  return file;
}

async function start(options: ServerOptions): Promise<{ app: SrganServer; url: string }> {
  const app = await createServer({ model: "bicubic", threads: 0, ...options });
  return { app, url: await app.listen({ host: "127.0.0.1", port: 0 }) };
}

const as = (key: { key: string } | undefined, init: RequestInit = {}): RequestInit =>
  ({ ...init, headers: { ...(init.headers as Record<string, string>), ...(key ? { authorization: `Bearer ${key.key}` } : {}) } });
const upscale = (url: string, key?: { key: string }, query = "") => post(`${url}/v1/upscale${query}`, small, as(key, { headers: { "content-type": "image/png" } }));
const submit = async (url: string, key: { key: string }) => {
  const r = await post(`${url}/v1/jobs`, small, as(key, { headers: { "content-type": "image/png" } }));
  assert.is(r.status, 202);
  return (await r.json() as { id: string }).id;
};

test("keygen: the key on line 1, its file line (the SHA-256, no key) on line 2; the file's errors name the line", async () => {
  const out = process.stdout.write;
  let text = "";
  process.stdout.write = ((s: string) => { text += s; return true; }) as typeof process.stdout.write;
  try {
    assert.is(await main(["serve", "keygen", "--label", "dave", "--rate", "30", "--pixels", "none", "--scope", "upscale,metrics"]), 0);
  } finally {
    process.stdout.write = out;
  }
  const [key, line, rest] = text.split("\n");
  assert.match(key, /^srgan_[\w-]{43}$/);
  assert.is(line, `sha256:${createHash("sha256").update(key).digest("hex")} label=dave scope=upscale,metrics rate=30 pixels=none`);
  assert.is(rest, "");
  assert.not.ok(line.includes(key), "the file line holds no key");
  const [parsed] = parseKeyFile(line, "keys.txt");
  assert.equal([parsed.label, [...parsed.scopes], parsed.rateLimit, parsed.pixelQuota], ["dave", ["upscale", "metrics"], 30, null]);
  const bad = (text: string) => { try { parseKeyFile(text, "keys.txt"); return "parsed"; } catch (e) { return `${(e as { code: string }).code}: ${(e as Error).message}`; } };
  assert.match(bad(`\n${key}\n`), /^ERR_USAGE: --api-keys keys.txt line 2: .*that is a key itself/);
  assert.match(bad(`${alice.line}\n${alice.line}`), /line 2: this hash is listed already/);
  assert.match(bad(`${alice.line} rate=-1`), /line 1: 'rate=-1' is not a field/);
  assert.match(bad(`${alice.line} scope=admin`), /'scope=admin' is not a field/);
  assert.not.match(bad(`${alice.line}\n`), /ERR_/);
});

test("no key, a wrong key, a revoked key (reloadApiKeys) → 401; a key of another scope → 403; /healthz needs none", async () => {
  const file = keyFile("keys-401.txt", alice, bob, prom);
  const { app, url } = await start({ apiKeys: file });
  try {
    await assertError(await upscale(url), 401, "ERR_UNAUTHORIZED", /needs an API key.*Authorization: Bearer KEY/);
    await assertError(await upscale(url, { key: "srgan_not-a-key-of-this-server" }), 401, "ERR_UNAUTHORIZED", /not valid here/);
    await assertError(await fetch(`${url}/v1/jobs/some-id`), 401, "ERR_UNAUTHORIZED");
    await assertError(await fetch(`${url}/no/such/route`), 401, "ERR_UNAUTHORIZED", /needs an API key/);
    await assertError(await fetch(`${url}/openapi.json`), 401, "ERR_UNAUTHORIZED");
    await assertError(await fetch(`${url}/metrics`), 401, "ERR_UNAUTHORIZED");
    assert.is((await fetch(`${url}/healthz`)).status, 200);
    // Both headers work; the key's scope decides between the API and /metrics.
    assert.is((await upscale(url, alice)).status, 200);
    assert.is((await post(`${url}/v1/upscale`, small, { headers: { "x-api-key": bob.key } })).status, 200);
    await assertError(await fetch(`${url}/metrics`, as(alice)), 403, "ERR_FORBIDDEN", /'alice' may call upscale endpoints, not metrics/);
    await assertError(await upscale(url, prom), 403, "ERR_FORBIDDEN");
    assert.is((await fetch(`${url}/metrics`, as(prom))).status, 200);
    assert.is((await fetch(`${url}/openapi.json`, as(prom))).status, 200, "any valid key reads the document");
    // Revoked: bob's line is gone from the file; a job he queued before still runs to its end.
    const slow = await post(`${url}/v1/jobs?model=natural`, picture(128, 128, 7), as(bob));
    assert.is(slow.status, 202);
    writeFileSync(file, `${alice.line}\n${prom.line}\n`);
    assert.is(await app.reloadApiKeys(), 2);
    await assertError(await upscale(url, bob), 401, "ERR_UNAUTHORIZED", /revoked/);
    assert.is((await upscale(url, alice)).status, 200);
    await until("bob's job to finish", async () => (/srgan_jobs_finished_total\{state="completed"\} [4-9]/.test(await (await fetch(`${url}/metrics`, as(prom))).text()) ? true : undefined));
    // A broken file on reload: an error naming it, and the keys in use stay.
    writeFileSync(file, "not a key line\n");
    const failed = await app.reloadApiKeys().then(() => undefined, (e: { code: string; message: string }) => e);
    assert.is(failed?.code, "ERR_USAGE");
    assert.match(failed!.message, /keys-401.txt line 1/);
    assert.is((await upscale(url, alice)).status, 200);
  } finally {
    await app.close();
  }
});

test("a key over its request rate → 429 ERR_RATE_LIMITED with Retry-After; other keys and keys without limits go on", async () => {
  const { app, url } = await start({ apiKeys: keyFile("keys-rate.txt", alice, bob, carol), rateLimit: 3 });
  try {
    await awayFromMinuteEnd(15);
    for (let i = 0; i < 3; i++) assert.is((await upscale(url, alice)).status, 200, `request ${i + 1}`);
    const r = await upscale(url, alice);
    const retry = Number(r.headers.get("retry-after"));
    assert.ok(retry >= 1 && retry <= 60, `Retry-After ${retry}`);
    await assertError(r, 429, "ERR_RATE_LIMITED", /'alice' has made its 3 requests this minute/);
    await assertError(await fetch(`${url}/v1/jobs/x`, as(alice)), 429, "ERR_RATE_LIMITED");
    assert.is((await upscale(url, bob)).status, 200, "bob has his own count");
    for (let i = 0; i < 5; i++) assert.is((await upscale(url, carol)).status, 200, "rate=none: no limit");
    assert.is((await fetch(`${url}/healthz`)).status, 200, "healthz is not counted");
  } finally {
    await app.close();
  }
});

test("a key over its daily pixels → 429 ERR_QUOTA_EXCEEDED with Retry-After (until 00:00 UTC); other keys go on", async () => {
  const { app, url } = await start({ apiKeys: keyFile("keys-pixels.txt", alice, bob, carol), pixelQuota: 2 * 1120 });
  try {
    assert.is((await upscale(url, alice)).status, 200);
    await submit(url, alice);
    const r = await upscale(url, alice);
    const retry = Number(r.headers.get("retry-after"));
    const untilMidnight = 86_400 - Math.floor(Date.now() / 1000) % 86_400;
    assert.ok(Math.abs(retry - untilMidnight) <= 2, `Retry-After ${retry}, ${untilMidnight} s to 00:00 UTC`);
    await assertError(r, 429, "ERR_QUOTA_EXCEEDED", /'alice' has used 2240 of its 2240 input pixels today \(UTC\); this image has 1120/);
    assert.is((await upscale(url, bob)).status, 200);
    for (let i = 0; i < 3; i++) assert.is((await upscale(url, carol)).status, 200, "pixels=none: no quota");
    await assertError(await post(`${url}/v1/upscale`, picture(50, 50, 2), as(bob)), 429, "ERR_QUOTA_EXCEEDED", /more than the whole quota/);
  } finally {
    await app.close();
  }
});

test("a job belongs to its key: another key gets 404 for it and its result", async () => {
  const { app, url } = await start({ apiKeys: keyFile("keys-owner.txt", alice, bob) });
  try {
    const id = await submit(url, alice);
    await until("alice's job", async () => ((await (await fetch(`${url}/v1/jobs/${id}`, as(alice))).json()) as { state: string }).state === "completed" || undefined);
    assert.is((await fetch(`${url}/v1/jobs/${id}/result`, as(alice))).status, 200);
    await assertError(await fetch(`${url}/v1/jobs/${id}`, as(bob)), 404, "ERR_NOT_FOUND", /another API key/);
    await assertError(await fetch(`${url}/v1/jobs/${id}/result`, as(bob)), 404, "ERR_NOT_FOUND");
  } finally {
    await app.close();
  }
});

test("CORS: the allowed origin gets its headers and an answered preflight (no key needed); another origin and a server without --cors-origin get none", async () => {
  const origin = "https://app.example";
  const { app, url } = await start({ apiKeys: keyFile("keys-cors.txt", alice), corsOrigins: [origin] });
  const plain = await start({ apiKeys: keyFile("keys-cors2.txt", alice) });
  try {
    const preflight = (u: string, from: string) => fetch(`${u}/v1/upscale`, { method: "OPTIONS", headers: { origin: from, "access-control-request-method": "POST", "access-control-request-headers": "authorization,content-type" } });
    const ok = await preflight(url, origin);
    assert.is(ok.status, 204);
    assert.is(ok.headers.get("access-control-allow-origin"), origin);
    assert.match(ok.headers.get("access-control-allow-methods") ?? "", /POST/);
    assert.match(ok.headers.get("access-control-allow-headers") ?? "", /authorization/);
    assert.is(ok.headers.get("vary")?.toLowerCase().includes("origin"), true);
    const other = await preflight(url, "https://evil.example");
    assert.is(other.headers.get("access-control-allow-origin"), null);
    const answer = await post(`${url}/v1/upscale`, small, as(alice, { headers: { origin, "content-type": "image/png" } }));
    assert.is(answer.status, 200);
    assert.is(answer.headers.get("access-control-allow-origin"), origin);
    assert.match(answer.headers.get("access-control-expose-headers") ?? "", /srgan-model/);
    // A refused request still carries them, so the page can read the error.
    const refused = await post(`${url}/v1/upscale`, small, { headers: { origin } });
    assert.is(refused.status, 401);
    assert.is(refused.headers.get("access-control-allow-origin"), origin);
    assert.is((await post(`${url}/v1/upscale`, small, as(alice, { headers: { origin: "https://evil.example" } }))).headers.get("access-control-allow-origin"), null);
    const none = await post(`${plain.url}/v1/upscale`, small, as(alice, { headers: { origin } }));
    assert.is(none.status, 200);
    assert.is(none.headers.get("access-control-allow-origin"), null);
    assert.is((await preflight(plain.url, origin)).headers.get("access-control-allow-origin"), null);
  } finally {
    await Promise.all([app.close(), plain.app.close()]);
  }
});

test("request ids: every answer has X-Request-Id, errors carry it as requestId, the JSON log lines carry it as reqId; no key in the logs", async () => {
  const lines: string[] = [];
  const { app, url } = await start({ apiKeys: keyFile("keys-log.txt", alice), logLevel: "info", logStream: { write: (l) => { lines.push(l); } } });
  try {
    const r = await post(`${url}/v1/upscale?format=gif`, small, as(alice));
    const { requestId } = await r.clone().json() as { requestId: string };
    await assertError(r, 400, "ERR_BAD_REQUEST");
    const logged = lines.map((l) => JSON.parse(l) as { reqId?: string; msg: string; apiKey?: string; level: number });
    assert.ok(logged.some((l) => l.reqId === requestId && /format must be one of/.test(l.msg)), "the error's log line");
    assert.ok(logged.some((l) => l.reqId === requestId && l.apiKey === "alice"), "which key made it");
    const ok = await upscale(url, alice);
    assert.match(ok.headers.get("x-request-id") ?? "", /^[0-9a-f-]{36}$/);
    // A proxy's id is kept; a malformed one is replaced.
    assert.is((await fetch(`${url}/healthz`, { headers: { "x-request-id": "edge-42.a" } })).headers.get("x-request-id"), "edge-42.a");
    assert.match((await fetch(`${url}/healthz`, { headers: { "x-request-id": "a b\u00e9" } })).headers.get("x-request-id") ?? "", /^[0-9a-f-]{36}$/);
    assert.not.ok(lines.join("").includes(alice.key), "the key never reaches the logs");
  } finally {
    await app.close();
  }
});

test("createServer refuses bad network options naming them; a missing key file is ERR_IO", async () => {
  const refusal = (options: ServerOptions) => createServer({ model: "bicubic", threads: 0, ...options }).then(async (app) => { await app.close(); return "started"; }, (e: Error & { code?: string }) => `${e.code ?? e.name}: ${e.message}`);
  assert.match(await refusal({ rateLimit: 5 }), /^TypeError: options.rateLimit needs options.apiKeys/);
  assert.match(await refusal({ corsOrigins: ["https://a.example/path"] }), /^TypeError: options.corsOrigins: 'https:\/\/a.example\/path' is not an origin/);
  assert.match(await refusal({ webhookAllow: ["127.0.0.1"] }), /^TypeError: options.webhookSecret must be a string of at least 16/);
  assert.match(await refusal({ webhookAllow: ["http://x"], webhookSecret: "0123456789abcdef" }), /^TypeError: options.webhookAllow must list host names/);
  assert.match(await refusal({ apiKeys: join(dir, "missing.txt") }), /^ERR_IO: cannot read the API key file .*missing.txt.*no such file/);
  assert.match(await refusal({ logLevel: "loud" as "info" }), /^TypeError: options.logLevel must be one of/);
});

test("srgan serve: beyond loopback without --api-keys is refused (exit 2); with them, SIGHUP revokes a key", async () => {
  const err = process.stderr.write;
  let stderr = "";
  process.stderr.write = ((s: string) => { stderr += s; return true; }) as typeof process.stderr.write;
  try {
    assert.is(await main(["serve", "--host", "0.0.0.0", "--port", "0", "--model", "bicubic"]), 2);
    assert.is(await main(["serve", "--rate-limit", "5"]), 2);
  } finally {
    process.stderr.write = err;
  }
  assert.match(stderr, /--host 0.0.0.0 is reachable from other machines, and without --api-keys anyone .*--insecure-no-auth/);
  assert.match(stderr, /--rate-limit needs --api-keys/);

  const file = keyFile("keys-hup.txt", alice, bob);
  const child = spawn(process.execPath, [...TSX, "src/cli/main.ts", "serve", "--port", "0", "--model", "bicubic", "--threads", "0", "--api-keys", file, "--log-level", "warn"], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "", log = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (log += d));
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  try {
    const url = await until("the listening line", async () => /listening on (http:\/\/127\.0\.0\.1:\d+) .*API keys required/.exec(stdout)?.[1], 60_000);
    assert.is((await upscale(url, bob)).status, 200);
    writeFileSync(file, alice.line);
    child.kill("SIGHUP");
    await until("the reload", async () => (/SIGHUP: re-read .*keys-hup.txt: 1 key\n/.test(log) ? true : undefined), 10_000);
    await assertError(await upscale(url, bob), 401, "ERR_UNAUTHORIZED");
    assert.is((await upscale(url, alice)).status, 200);
    child.kill("SIGTERM");
    assert.is(await exited, 0, log);
  } finally {
    child.kill("SIGKILL");
  }
});

test("GET /openapi.json: a valid OpenAPI 3.1 document with every route and every error code, with and without keys", async () => {
  for (const keys of [true, false]) {
    const { app, url } = await start(keys ? { apiKeys: keyFile("keys-doc.txt", alice) } : {});
    try {
      const r = await fetch(`${url}/openapi.json`, as(keys ? alice : undefined));
      assert.is(r.status, 200);
      const doc = await r.json() as { openapi: string; paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: { properties?: { code?: { enum?: string[] } } } }> }>; security?: unknown[]; parameters?: { name: string }[] }>>; components?: { securitySchemes?: object } };
      const result = await new Validator().validate(doc as unknown as Record<string, unknown>);
      assert.ok(result.valid, JSON.stringify(result.errors, null, 1));
      assert.is(doc.openapi, "3.1.0");
      // Every route the server answers (its own listing, less HEAD, which Fastify adds to every GET).
      const routes = app.printRoutes({ commonPrefix: false });
      const served: string[] = [];
      let prefix: string[] = [];
      for (const line of routes.split("\n").filter(Boolean)) {
        const m = /^([│ ]*)[├└]── (\S+) \(([A-Z, ]+)\)$/.exec(line)!;
        const depth = m[1].length / 4;
        prefix = [...prefix.slice(0, depth), m[2]];
        for (const method of m[3].split(", ").filter((x) => x !== "HEAD" && x !== "OPTIONS")) served.push(`${method} ${prefix.join("").replace(/:(\w+)/g, "{$1}")}`);
      }
      const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
      assert.equal(documented.sort(), served.sort());
      assert.is(served.length, 7);
      // Every code of src/errors.ts, and ERR_UNEXPECTED, is some answer's (401 and 403 only where keys are needed).
      const codes = new Set(Object.values(doc.paths).flatMap((ops) => Object.values(ops)).flatMap((op) => Object.values(op.responses))
        .flatMap((resp) => resp.content?.["application/json"]?.schema.properties?.code?.enum ?? []));
      const keyed = ["ERR_UNAUTHORIZED", "ERR_FORBIDDEN"];
      for (const code of [...Object.keys(ERROR_CODES), "ERR_UNEXPECTED"]) assert.is(codes.has(code), keys || !keyed.includes(code), `${code} in the document`);
      const upscaleOp = doc.paths["/v1/upscale"].post;
      assert.equal(upscaleOp.parameters?.map((p) => p.name), ["model", "scale", "format", "quality"]);
      assert.equal(doc.paths["/v1/jobs"].post.parameters?.map((p) => p.name), ["model", "scale", "format", "quality", "callback"]);
      assert.is(Boolean(upscaleOp.responses["401"]), keys, "401 where keys are needed");
      assert.is(Boolean(doc.components?.securitySchemes), keys);
      if (keys) assert.equal(doc.paths["/healthz"].get.security, [], "healthz needs no key");
    } finally {
      await app.close();
    }
  }
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
