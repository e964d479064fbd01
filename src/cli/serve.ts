// SPDX-License-Identifier: MIT
// `srgan serve`: the HTTP service (the package srgan-wasm-server) on a host and port until SIGTERM or
// Ctrl-C, which stop it gracefully: no new requests, every accepted job finishes, then the process exits 0.
import { AUTO_MODEL } from "../model/builtin.js";
import { bytesFlag, intFlag, parse, upscalerOptions, UPSCALER_FLAGS, UPSCALER_HELP, type Command } from "./args.js";
import { errorLine } from "./report.js";
import { untilStopped } from "./io.js";
import { loadServerPackage, SERVER_PACKAGE } from "./server-package.js";
import { redisFlag } from "./worker.js";

export const command: Command = {
  help: `Usage: srgan serve [options]

Serves upscaling over HTTP: POST /v1/upscale (body: PNG or JPEG bytes) answers the upscaled image;
POST /v1/jobs queues one and GET /v1/jobs/ID, GET /v1/jobs/ID/result follow it; GET /healthz and
GET /metrics (Prometheus). Requests may pick ?model= (a built-in or the served network), ?scale=,
?format=png|jpeg and ?quality=. Jobs run one at a time, each on every thread; with --redis they go
to a BullMQ queue on Redis instead, and 'srgan worker' processes run them. Answers say which network
ran (header Srgan-Model). Needs the package ${SERVER_PACKAGE} (npm install ${SERVER_PACKAGE}).
See docs/serve.md.

Options:
      --host HOST         address to listen on (default: 127.0.0.1; 0.0.0.0 for every interface)
  -p, --port N            TCP port, 0 for any free one (default: 8080)
${UPSCALER_HELP}
      --max-pixels N      largest input image, in pixels, judged from its header (default: 4194304)
      --max-body SIZE     largest request body, e.g. 20MiB (default: 50MiB)
      --queue N           jobs that may wait behind the running one; more get 429 (default: 16)
      --result-ttl S      seconds a finished job's result is kept (default: 600)
      --redis URL         queue jobs on Redis (redis://host:port) for 'srgan worker' to run; the
                          server then runs none itself (default: jobs run in this process)
  -h, --help              show this help

SIGTERM or Ctrl-C stops accepting requests, finishes the accepted jobs and exits.

Example:
  srgan serve --port 8080 --model natural --threads 2
  curl --data-binary @photo.png -H 'Content-Type: image/png' localhost:8080/v1/upscale -o photo-4x.png`,

  async run(argv, ctx) {
    const { values } = parse("serve", argv, {
      ...UPSCALER_FLAGS,
      host: { type: "string" },
      port: { type: "string", short: "p" },
      "max-pixels": { type: "string" },
      "max-body": { type: "string" },
      queue: { type: "string" },
      "result-ttl": { type: "string" },
      redis: { type: "string" },
    }, []);
    const options = upscalerOptions("serve", values);
    const server = await loadServerPackage("serve");
    const model = values.model ?? AUTO_MODEL;
    const app = await server.createServer({
      ...options,
      model,
      maxPixels: intFlag("serve", "max-pixels", values["max-pixels"], 1, 2 ** 28),
      maxBody: bytesFlag("serve", "max-body", values["max-body"], 1, 2 ** 31),
      queue: intFlag("serve", "queue", values.queue, 0, 100_000),
      resultTtl: intFlag("serve", "result-ttl", values["result-ttl"], 1, 7 * 24 * 3600),
      redis: values.redis === undefined ? undefined : redisFlag(server, "serve", values.redis),
      onError: (e) => ctx.err(`srgan serve: ${errorLine(e)}`),
    });
    const port = intFlag("serve", "port", values.port, 0, 65535) ?? 8080;
    const address = await app.listen({ host: values.host ?? "127.0.0.1", port });
    ctx.out(`srgan serve: listening on ${address} (model ${model === AUTO_MODEL ? "auto: natural-real for JPEG, natural for PNG" : model}${values.redis ? "; jobs on Redis" : ""}; SIGTERM or Ctrl-C to stop)`);
    await untilStopped(ctx.signal);
    ctx.err("srgan serve: stopping: no new requests; finishing the accepted jobs");
    await app.close();
    ctx.err("srgan serve: stopped");
  },
};
