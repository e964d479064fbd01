// SPDX-License-Identifier: MIT
// Per-key limits of `srgan serve`: requests per minute and input pixels per UTC day, each a counter in
// a fixed window (the clock minute, the UTC day) that refuses what would take it over its limit. The
// counters live where the jobs do: in this process (MemoryCounters), or in Redis with --redis
// (RedisCounters in redis.ts, one atomic script per check) so that every server shares them.
import { ServiceError } from "srgan-wasm";
import type { ApiKey } from "./auth.js";

export interface Counters {
  /**
   * Adds `amount` to counter `name` in the window of `windowSeconds` that holds `nowMs`, unless that
   * would take it over `limit`; either way returns its count (after adding, or as it stays).
   */
  add(name: string, amount: number, limit: number, windowSeconds: number, nowMs: number): Promise<{ added: boolean; used: number }>;
  /** Takes back `amount` added in that window (a job refused after its pixels were counted). */
  remove(name: string, amount: number, windowSeconds: number, nowMs: number): Promise<void>;
}

/** The window's number since the epoch (its counter's name) and the seconds until it ends (at least 1). */
export function windowOf(windowSeconds: number, nowMs: number): { index: number; secondsLeft: number } {
  const index = Math.floor(nowMs / 1000 / windowSeconds);
  return { index, secondsLeft: Math.max(1, Math.ceil((index + 1) * windowSeconds - nowMs / 1000)) };
}

export class MemoryCounters implements Counters {
  private readonly counts = new Map<string, { used: number; endsMs: number }>();
  private nextSweepMs = 0;

  async add(name: string, amount: number, limit: number, windowSeconds: number, nowMs: number) {
    this.sweep(nowMs);
    const { index } = windowOf(windowSeconds, nowMs);
    const key = `${name}:${index}`;
    const entry = this.counts.get(key) ?? { used: 0, endsMs: (index + 1) * windowSeconds * 1000 };
    if (entry.used + amount > limit) return { added: false, used: entry.used };
    entry.used += amount;
    this.counts.set(key, entry);
    return { added: true, used: entry.used };
  }

  async remove(name: string, amount: number, windowSeconds: number, nowMs: number) {
    const entry = this.counts.get(`${name}:${windowOf(windowSeconds, nowMs).index}`);
    if (entry) entry.used = Math.max(0, entry.used - amount);
  }

  /** Drops ended windows, at most once a minute: memory stays at a few entries per key. */
  private sweep(nowMs: number): void {
    if (nowMs < this.nextSweepMs) return;
    this.nextSweepMs = nowMs + 60_000;
    for (const [key, { endsMs }] of this.counts) if (endsMs <= nowMs) this.counts.delete(key);
  }
}

const MINUTE = 60, DAY = 86_400;

/** The limits of each key: its own from the key file, else the server's; null or undefined is none. */
export class Limits {
  constructor(
    private readonly counters: Counters,
    private readonly defaults: { rateLimit?: number; pixelQuota?: number },
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts one request of `key`; throws 429 ERR_RATE_LIMITED (with Retry-After) over its rate. */
  async request(key: ApiKey): Promise<void> {
    const limit = key.rateLimit === undefined ? this.defaults.rateLimit : key.rateLimit;
    if (limit == null) return;
    const now = this.now();
    const { added } = await this.counters.add(`rate:${key.id}`, 1, limit, MINUTE, now);
    if (added) return;
    const { secondsLeft } = windowOf(MINUTE, now);
    throw new ServiceError("ERR_RATE_LIMITED", 429, `API key '${key.label}' has made its ${limit} requests this minute; retry in ${secondsLeft} s`, secondsLeft);
  }

  /**
   * Counts an input of `pixels` against `key`'s daily quota; throws 429 ERR_QUOTA_EXCEEDED (with
   * Retry-After: until the next UTC day) over it. Returns what takes them back if the job is refused.
   */
  async pixels(key: ApiKey, pixels: number): Promise<() => Promise<void>> {
    const quota = key.pixelQuota === undefined ? this.defaults.pixelQuota : key.pixelQuota;
    if (quota == null) return async () => {};
    const now = this.now();
    const name = `pixels:${key.id}`;
    const { added, used } = await this.counters.add(name, pixels, quota, DAY, now);
    if (added) return () => this.counters.remove(name, pixels, DAY, now);
    const { secondsLeft } = windowOf(DAY, now);
    const why = pixels > quota ? "more than the whole quota: send a smaller image, or ask the operator for a larger quota" : `retry after 00:00 UTC, in ${secondsLeft} s`;
    throw new ServiceError("ERR_QUOTA_EXCEEDED", 429, `API key '${key.label}' has used ${used} of its ${quota} input pixels today (UTC); this image has ${pixels}, ${why}`, secondsLeft);
  }
}
