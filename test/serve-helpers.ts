// What the `srgan serve` tests share: input pictures, requests, error-answer checks, bounded polling,
// Prometheus samples and the CLI's bytes for the same input.
import * as assert from "uvu/assert";
import { readFileSync, writeFileSync } from "node:fs";
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
