// SPDX-License-Identifier: MIT
// `srgan worker`: runs the jobs `srgan serve --redis` queues, until SIGTERM or Ctrl-C, which stop it
// gracefully: no new jobs, the running one finishes, then the process exits 0.
import { UsageError } from "../errors.js";
import { AUTO_MODEL } from "../model/builtin.js";
import { intFlag, parse, upscalerOptions, UPSCALER_FLAGS, UPSCALER_HELP, type Command } from "./args.js";
import { errorLine } from "./report.js";
import { untilStopped } from "./io.js";
import { loadServerPackage, SERVER_PACKAGE, type ServerPackage } from "./server-package.js";

/** --redis URL, checked as a usage error. */
export function redisFlag(server: ServerPackage, command: string, value: string): string {
  try {
    return server.checkRedisUrl("--redis", value);
  } catch (e) {
    throw new UsageError(`${command}: ${(e as Error).message}`);
  }
}

export const command: Command = {
  help: `Usage: srgan worker --redis URL [options]

Runs the upscale jobs that 'srgan serve --redis URL' puts on its BullMQ queue, one at a time, each
on every thread. Start any number, on any machines that reach Redis. A worker that dies mid-job
(killed, machine lost) stops renewing its job's lock; after --stalled-after seconds another worker
takes the job over. Results go to Redis, kept for the server's --result-ttl. Needs the package
${SERVER_PACKAGE} (npm install ${SERVER_PACKAGE}). See docs/serve.md.

Options:
      --redis URL         the Redis the server queues on: redis://[user:password@]host[:port][/db]
${UPSCALER_HELP}
                          (a job may name the built-ins or this --model; a file must have the same
                          path as on the server)
      --stalled-after S   seconds without a lock renewal before a job counts as abandoned and
                          another worker takes it (default: 30)
  -h, --help              show this help

SIGTERM or Ctrl-C stops taking jobs, finishes the running one and exits.

Example:
  srgan serve --redis redis://10.0.0.5:6379 &
  srgan worker --redis redis://10.0.0.5:6379 --threads 8`,

  async run(argv, ctx) {
    const { values } = parse("worker", argv, {
      ...UPSCALER_FLAGS,
      redis: { type: "string" },
      "stalled-after": { type: "string" },
    }, []);
    if (values.redis === undefined) throw new UsageError("worker: --redis URL is required (the Redis that 'srgan serve --redis' queues on)");
    if (values.scale !== undefined) throw new UsageError("worker: --scale is not a worker's: each job carries its own (the server's --scale or ?scale=)");
    const { threads, tileSize, convAlgorithm, memoryLimit } = upscalerOptions("worker", values);
    const server = await loadServerPackage("worker");
    const redis = redisFlag(server, "worker", values.redis);
    const model = values.model ?? AUTO_MODEL;
    const worker = await server.createWorker({
      threads, tileSize, convAlgorithm, memoryLimit, model, redis,
      stalledAfter: intFlag("worker", "stalled-after", values["stalled-after"], 1, 3600),
      onJob: (id, state, seconds, error) => ctx.err(`srgan worker: job ${id} ${state} in ${seconds.toFixed(2)} s${error ? `: ${error}` : ""}`),
      onError: (e) => ctx.err(`srgan worker: ${errorLine(e)}`),
    });
    ctx.out(`srgan worker: taking jobs from ${new URL(redis).host} (model ${model}; SIGTERM or Ctrl-C to stop)`);
    await untilStopped(ctx.signal);
    ctx.err("srgan worker: stopping: no new jobs; finishing the running one");
    await worker.close();
    ctx.err("srgan worker: stopped");
  },
};
