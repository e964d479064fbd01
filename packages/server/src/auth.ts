// SPDX-License-Identifier: MIT
// API keys of `srgan serve --api-keys FILE`: the key file's format, new keys (keygen), and finding the
// key a request carries. Only SHA-256 hashes of keys are ever read or held: the file lists hashes, a
// presented key is hashed and compared in constant time with every hash. SHA-256 and not a slow KDF:
// keys are 256 random bits, so there is nothing to brute-force; a KDF only helps low-entropy passwords.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { readFile } from "node:fs/promises";
import { ioError, UsageError } from "srgan-wasm";

/** What a key may call: the upscaling API (/v1/…, /openapi.json) and/or /metrics. */
export type Scope = "upscale" | "metrics";
const SCOPES: readonly Scope[] = ["upscale", "metrics"];

export interface ApiKey {
  /** The SHA-256 of the key, hex: what jobs and Redis counters are keyed by. */
  id: string;
  /** The operator's name for it (logs, messages); default the hash's first 8 hex digits. */
  label: string;
  scopes: ReadonlySet<Scope>;
  /** Requests per minute; undefined: the server's --rate-limit; null: unlimited. */
  rateLimit?: number | null;
  /** Input pixels per UTC day; undefined: the server's --pixel-quota; null: unlimited. */
  pixelQuota?: number | null;
}

/** Keys start with this, so secret scanners and people can tell one when they see it. */
const KEY_PREFIX = "srgan_";
const LABEL = /^[\w.@-]{1,64}$/;
const HASH = /^sha256:([0-9a-f]{64})$/;

const sha256 = (text: string) => createHash("sha256").update(text).digest();

/** A new key and the key file's line for it: `srgan serve keygen`. */
export function generateApiKey(options: { label?: string; rateLimit?: number | null; pixelQuota?: number | null; scopes?: Scope[] } = {}): { key: string; line: string } {
  if (options.label !== undefined && !LABEL.test(options.label)) throw new UsageError(`serve keygen: --label must be 1-64 letters, digits or . _ @ -, got '${options.label}'`);
  const key = KEY_PREFIX + randomBytes(32).toString("base64url");
  const fields = [`sha256:${sha256(key).toString("hex")}`];
  if (options.label !== undefined) fields.push(`label=${options.label}`);
  if (options.scopes !== undefined) fields.push(`scope=${options.scopes.join(",")}`);
  if (options.rateLimit !== undefined) fields.push(`rate=${options.rateLimit ?? "none"}`);
  if (options.pixelQuota !== undefined) fields.push(`pixels=${options.pixelQuota ?? "none"}`);
  return { key, line: fields.join(" ") };
}

/**
 * Reads a key file: one key a line, `sha256:HEX [label=NAME] [scope=upscale,metrics] [rate=N|none]
 * [pixels=N|none]`; `#` starts a comment. Anything else is a UsageError naming the line.
 */
export function parseKeyFile(text: string, file: string): ApiKey[] {
  const keys: ApiKey[] = [];
  const seen = new Set<string>();
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const fields = raw.replace(/#.*/, "").trim().split(/\s+/).filter(Boolean);
    if (fields.length === 0) continue;
    const where = `--api-keys ${file} line ${i + 1}`;
    const hash = HASH.exec(fields[0])?.[1];
    if (!hash) {
      const hint = fields[0].startsWith(KEY_PREFIX) ? "that is a key itself; the file holds only its hash (the second line 'srgan serve keygen' prints)" : "each line starts with sha256: and the key's 64 hex digits ('srgan serve keygen' writes one)";
      throw new UsageError(`${where}: '${fields[0].slice(0, 12)}…' is not sha256:HEX; ${hint}`);
    }
    if (seen.has(hash)) throw new UsageError(`${where}: this hash is listed already; each key once`);
    seen.add(hash);
    const key: ApiKey = { id: hash, label: hash.slice(0, 8), scopes: new Set<Scope>(["upscale"]) };
    for (const field of fields.slice(1)) {
      const [name, value] = field.split("=", 2);
      if (name === "label" && value !== undefined && LABEL.test(value)) key.label = value;
      else if (name === "scope" && value?.split(",").every((s) => SCOPES.includes(s as Scope))) key.scopes = new Set(value.split(",") as Scope[]);
      else if ((name === "rate" || name === "pixels") && value !== undefined && /^(none|[1-9]\d{0,14})$/.test(value)) {
        key[name === "rate" ? "rateLimit" : "pixelQuota"] = value === "none" ? null : Number(value);
      } else {
        throw new UsageError(`${where}: '${field}' is not a field this file takes: label=NAME (letters, digits, . _ @ -), scope=upscale|metrics|upscale,metrics, rate=N|none (requests per minute), pixels=N|none (input pixels per day)`);
      }
    }
    keys.push(key);
  }
  return keys;
}

/** The keys a server accepts, re-read from their file on reload(); the old set stays if the file is bad. */
export class KeyRing {
  private keys: { key: ApiKey; digest: Buffer }[] = [];

  private constructor(readonly file: string) {}

  static async load(file: string): Promise<KeyRing> {
    const ring = new KeyRing(file);
    await ring.reload();
    return ring;
  }

  get size(): number {
    return this.keys.length;
  }

  /** Re-reads the file; returns how many keys it holds. Throws (keeping the current keys) when it cannot. */
  async reload(): Promise<number> {
    let text: string;
    try {
      text = await readFile(this.file, "utf8");
    } catch (e) {
      throw ioError("read the API key file", this.file, e);
    }
    this.keys = parseKeyFile(text, this.file).map((key) => ({ key, digest: Buffer.from(key.id, "hex") }));
    return this.keys.length;
  }

  /** The key whose hash is `presented`'s, or undefined. Every hash is compared, each in constant time. */
  find(presented: string): ApiKey | undefined {
    const digest = sha256(presented);
    let found: ApiKey | undefined;
    for (const { key, digest: known } of this.keys) if (timingSafeEqual(digest, known)) found = key;
    return found;
  }
}

/** The key a request carries: `Authorization: Bearer KEY`, else `x-api-key: KEY`. */
export function presentedKey(headers: Record<string, string | string[] | undefined>): string | undefined {
  const auth = headers.authorization;
  if (typeof auth === "string") {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (m) return m[1];
  }
  const header = headers["x-api-key"];
  return typeof header === "string" && header !== "" ? header : undefined;
}
