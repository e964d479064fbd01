// SPDX-License-Identifier: MIT
// Webhooks with --redis: the `srgan worker` that ends a job queues its delivery on a second BullMQ
// queue, with the job's id as the delivery's id (BullMQ adds a job id once, so a job that somehow
// ends twice is still announced once), and the `srgan serve` processes that send webhooks take
// deliveries from it, one server each: BullMQ's lock hands a delivery to one of them, its attempts
// and exponential backoff are the retries, and a server that dies mid-delivery leaves it to another.
import { Queue, UnrecoverableError, Worker } from "bullmq";
import { DeliveryError, WEBHOOK_ATTEMPTS, WEBHOOK_BACKOFF_MS, type Delivery, type WebhookSender } from "./webhooks.js";

export const WEBHOOK_QUEUE = "srgan-webhooks";
/** How long a sent (or given-up) delivery is kept, so that a late second add of its id is still ignored. */
const KEEP_SECONDS = 24 * 3600;

/** The worker's side: queues `delivery` (at most once per job id). */
export async function queueWebhook(queue: Queue, delivery: Delivery): Promise<void> {
  await queue.add("webhook", delivery, {
    jobId: delivery.payload.id,
    attempts: WEBHOOK_ATTEMPTS,
    backoff: { type: "exponential", delay: WEBHOOK_BACKOFF_MS },
    removeOnComplete: { age: KEEP_SECONDS },
    removeOnFail: { age: KEEP_SECONDS },
  });
}

/**
 * The server's side: sends the queued deliveries. `onGiveUp` is told of a delivery that failed its
 * last attempt, or one that another attempt cannot help (a 4xx, a host no longer allowed).
 */
export function webhookWorker(url: string, sender: WebhookSender, onGiveUp: (delivery: Delivery, error: Error, attempts: number) => void, onError: (e: unknown) => void): Worker<Delivery> {
  const worker = new Worker<Delivery>(WEBHOOK_QUEUE, async (job) => {
    try {
      await sender.send(job.data);
    } catch (e) {
      const last = !(e instanceof DeliveryError && e.retry) || job.attemptsMade + 1 >= WEBHOOK_ATTEMPTS;
      if (last) onGiveUp(job.data, e as Error, job.attemptsMade + 1);
      throw e instanceof DeliveryError && !e.retry ? new UnrecoverableError(e.message) : e;
    }
  }, { connection: { url }, concurrency: 8 });
  worker.on("error", onError);
  return worker;
}
