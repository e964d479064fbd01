// SPDX-License-Identifier: MIT
// Job webhooks of `srgan serve`: when a job submitted with ?callback=URL ends, its URL is POSTed
// `{ id, state, error? }`, signed with an HMAC-SHA256 under the server's secret, no redirect followed,
// retried with exponential backoff. One attempt is WebhookSender.send; the retries are LocalWebhooks'
// in this process, or BullMQ's with --redis (redis.ts), where one delivery job per job id means that
// several servers send it once.
import { createHmac } from "node:crypto";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import type { WebhookTargets } from "./webhook-target.js";

/** What a webhook says: the job, how it ended, and a failed job's error as GET /v1/jobs/:id shows it. */
export interface WebhookPayload {
  id: string;
  state: "completed" | "failed";
  error?: { code: string; message: string };
}

export interface Delivery {
  callback: string;
  payload: WebhookPayload;
}

/** Attempts per delivery, and the wait before attempt n+1: 2^(n-1) s, so 1, 2, 4 … 256 s (about 8.5 min in all). */
export const WEBHOOK_ATTEMPTS = 10;
export const WEBHOOK_BACKOFF_MS = 1000;
const ATTEMPT_TIMEOUT_MS = 10_000;
export const SIGNATURE_HEADER = "srgan-signature";

/**
 * `t=SECONDS,v1=HEX`: HEX is the HMAC-SHA256 under `secret` of `SECONDS.BODY`. The time is signed
 * too, so a receiver can refuse replays of an old delivery (docs/serve.md shows the check).
 */
export function signature(secret: string, body: string, seconds: number): string {
  return `t=${seconds},v1=${createHmac("sha256", secret).update(`${seconds}.${body}`).digest("hex")}`;
}

/** A failed attempt; `retry` is false when another one would fail the same way. */
export class DeliveryError extends Error {
  constructor(message: string, readonly retry: boolean) {
    super(message);
    this.name = "DeliveryError";
  }
}

export class WebhookSender {
  constructor(private readonly targets: WebhookTargets, private readonly secret: string) {}

  /** One attempt: resolves on a 2xx answer, else throws DeliveryError. */
  async send({ callback, payload }: Delivery): Promise<void> {
    if (!this.targets.allows(callback)) throw new DeliveryError(`${callback}: its host is no longer in --webhook-allow`, false);
    const body = JSON.stringify(payload);
    const url = new URL(callback);
    const status = await new Promise<number>((resolve, reject) => {
      const req = (url.protocol === "https:" ? httpsRequest : httpRequest)(url, {
        method: "POST",
        // Our lookup: the socket connects to an address that passed the checks (webhook-target.ts).
        lookup: this.targets.pinnedLookup,
        agent: false,
        signal: AbortSignal.timeout(ATTEMPT_TIMEOUT_MS),
        headers: {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
          "user-agent": "srgan-wasm-server",
          "srgan-webhook-id": payload.id,
          [SIGNATURE_HEADER]: signature(this.secret, body, Math.floor(Date.now() / 1000)),
        },
      }, (res: IncomingMessage) => {
        res.resume(); // the answer's body is not read, only its status
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      req.end(body);
    }).catch((e: Error) => {
      throw new DeliveryError(`${callback}: ${e.name === "AbortError" || e.name === "TimeoutError" ? `no answer in ${ATTEMPT_TIMEOUT_MS / 1000} s` : e.message}`, true);
    });
    if (status >= 200 && status < 300) return;
    // Redirects are not followed (they could lead anywhere); other 4xx are the receiver's final word.
    const retry = status >= 500 || status === 408 || status === 429;
    throw new DeliveryError(`${callback} answered ${status}${status >= 300 && status < 400 ? " (a redirect; not followed)" : ""}`, retry);
  }
}

/** The in-process deliveries: each retried on a timer; close() waits for the attempts under way. */
export class LocalWebhooks {
  /** Retries waiting on their timer, each with what close() reports for it. */
  private readonly timers = new Map<NodeJS.Timeout, () => void>();
  private readonly inFlight = new Set<Promise<void>>();
  private closed = false;

  constructor(private readonly sender: WebhookSender, private readonly onGiveUp: (delivery: Delivery, error: Error, attempts: number) => void) {}

  enqueue(delivery: Delivery, attempt = 1): void {
    if (this.closed) return;
    const run = this.sender.send(delivery).catch((e: DeliveryError) => {
      if (!e.retry || attempt >= WEBHOOK_ATTEMPTS || this.closed) return this.onGiveUp(delivery, e, attempt);
      const t = setTimeout(() => { this.timers.delete(t); this.enqueue(delivery, attempt + 1); }, WEBHOOK_BACKOFF_MS * 2 ** (attempt - 1));
      this.timers.set(t, () => this.onGiveUp(delivery, new Error(`${e.message}; the server stopped before attempt ${attempt + 1}`), attempt));
    }).finally(() => this.inFlight.delete(run));
    this.inFlight.add(run);
  }

  /** Drops the retries still waiting (said through onGiveUp) and waits for attempts under way. */
  async close(): Promise<void> {
    this.closed = true;
    for (const [t, report] of this.timers) {
      clearTimeout(t);
      report();
    }
    this.timers.clear();
    await Promise.all(this.inFlight);
  }
}
