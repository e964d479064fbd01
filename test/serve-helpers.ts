// What the `srgan serve` tests share: input pictures, requests, error-answer checks, bounded polling,
// Prometheus samples, the CLI's bytes for the same input, and a webhook receiver.
import * as assert from "uvu/assert";
import { createHmac, timingSafeEqual } from "node:crypto";
import { once } from "node:events";
import { readFileSync, writeFileSync } from "node:fs";
import { createServer as httpServer, type IncomingHttpHeaders } from "node:http";
import { join } from "node:path";
import { encodePng } from "../src/image/codec.js";
import { main } from "../src/cli/main.js";
import { rng } from "./helpers.js";

/** A smooth image with some noise, so networks and encoders have real work. */
export function picture(w: number, h: number, seed: number): Uint8Array {
  const rand = rng(seed);
  const data = new Uint8ClampedArray(w * h * 4);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    data.set([(x * 255) / w, (y * 255) / h, 128 + 60 * Math.sin(x / 3) * rand(), 255], (y * w + x) * 4);
  }
  return encodePng({ data, width: w, height: h });
}

// fetch's types refuse a view that might be on a SharedArrayBuffer; these bytes never are.
export const post = (url: string, body: Uint8Array, init: RequestInit = {}) =>
  fetch(url, { method: "POST", body: body as Uint8Array<ArrayBuffer>, headers: { "content-type": "image/png" }, ...init });

export const bytes = async (r: Response) => new Uint8Array(await r.arrayBuffer());

/** An error answer: status, JSON {code, message, requestId} (the X-Request-Id header's), nothing else. */
export async function assertError(r: Response, status: number, code: string, message?: RegExp): Promise<void> {
  const body = await r.json() as { code: string; message: string; requestId: string };
  assert.is(r.status, status, `status for ${JSON.stringify(body)}`);
  assert.match(r.headers.get("content-type") ?? "", /^application\/json/);
  assert.equal(Object.keys(body).sort(), ["code", "message", "requestId"]);
  assert.ok(body.requestId.length > 0 && body.requestId === r.headers.get("x-request-id"), `requestId ${body.requestId} is the X-Request-Id header's`);
  assert.is(body.code, code, body.message);
  if (message) assert.match(body.message, message);
}

/** Polls `f` every 20 ms until it returns a value, for at most `ms`. */
export async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  for (const t0 = Date.now(); Date.now() - t0 < ms;) {
    const v = await f();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

/** Waits until at least `seconds` are left in this clock minute, so a per-minute count cannot roll over mid-test. */
export async function awayFromMinuteEnd(seconds: number): Promise<void> {
  const left = 60 - (Date.now() / 1000) % 60;
  if (left < seconds) await new Promise((r) => setTimeout(r, left * 1000 + 100));
}

/** The value of one sample in Prometheus text, e.g. sample(text, 'srgan_queue_active'). */
export function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(series + " "));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** `srgan upscale` in this process (files in `dir`): the bytes it writes for `input` with `args`. */
export async function cliBytes(dir: string, input: Uint8Array, ext: string, args: string[]): Promise<Uint8Array> {
  const inPath = join(dir, "cli-in.png"), outPath = join(dir, `cli-out.${ext}`);
  writeFileSync(inPath, input);
  const write = process.stdout.write;
  process.stdout.write = (() => true) as typeof process.stdout.write; // its summary line
  try {
    assert.is(await main(["upscale", inPath, outPath, "--overwrite", ...args]), 0);
  } finally {
    process.stdout.write = write;
  }
  return readFileSync(outPath);
}

/** A request a receiver got, and when (performance.now()). */
export interface Received { headers: IncomingHttpHeaders; body: string; at: number }

/** An HTTP receiver on 127.0.0.1 that records every request and answers `statuses` in turn (then 200). */
export async function receiver(statuses: number[] = [], extraHeaders: Record<string, string> = {}) {
  const got: Received[] = [];
  const server = httpServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      got.push({ headers: req.headers, body, at: performance.now() });
      res.writeHead(statuses.shift() ?? 200, extraHeaders).end();
    });
  }).listen(0, "127.0.0.1");
  await once(server, "listening");
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return { url, got, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** Checks a delivery's signature as a receiver would (docs/serve.md): HMAC-SHA256 of `t.body`. */
export function verified({ headers, body }: Received, secret: string): boolean {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(headers["srgan-signature"]));
  if (!m || Math.abs(Date.now() / 1000 - Number(m[1])) > 300) return false;
  const want = createHmac("sha256", secret).update(`${m[1]}.${body}`).digest();
  return timingSafeEqual(want, Buffer.from(m[2], "hex"));
}
