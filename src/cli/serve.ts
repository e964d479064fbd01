// SPDX-License-Identifier: MIT
// `srgan serve`: the HTTP service (the package srgan-wasm-server) on a host and port until SIGTERM or
// Ctrl-C, which stop it gracefully: no new requests, every accepted job finishes, then the process exits 0.
// SIGHUP re-reads --api-keys. `srgan serve keygen` makes an API key.
import { lookup } from "node:dns/promises";
import { readFileSync } from "node:fs";
import { BlockList, isIP } from "node:net";
import { ioError, UsageError } from "../errors.js";
import { AUTO_MODEL } from "../model/builtin.js";
import { bytesFlag, choiceFlag, intFlag, parse, upscalerOptions, UPSCALER_FLAGS, UPSCALER_HELP, type Command, type Context } from "./args.js";
import { errorLine } from "./report.js";
import { untilStopped } from "./io.js";
import { loadServerPackage, SERVER_PACKAGE, type KeygenFlags } from "./server-package.js";
import { redisFlag } from "./worker.js";

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
const SCOPES = ["upscale", "metrics", "upscale,metrics"] as const;

export const command: Command = {
  help: `Usage: srgan serve [options]
       srgan serve keygen [--label NAME] [--scope S] [--rate N|none] [--pixels N|none]

Serves upscaling over HTTP: POST /v1/upscale (body: PNG or JPEG bytes) answers the upscaled image;
POST /v1/jobs queues one and GET /v1/jobs/ID, GET /v1/jobs/ID/result follow it; GET /healthz,
GET /metrics (Prometheus) and GET /openapi.json (OpenAPI 3.1). Requests may pick ?model= (a built-in
or the served network), ?scale=, ?format=png|jpeg and ?quality=. Jobs run one at a time, each on
every thread; with --redis they go to a BullMQ queue on Redis instead, and 'srgan worker' processes
run them. Answers say which network ran (header Srgan-Model). Needs the package ${SERVER_PACKAGE}
(npm install ${SERVER_PACKAGE}). See docs/serve.md.

Options:
      --host HOST         address to listen on (default: 127.0.0.1; 0.0.0.0 for every interface:
                          then --api-keys is required, or --insecure-no-auth)
  -p, --port N            TCP port, 0 for any free one (default: 8080)
${UPSCALER_HELP}
      --max-pixels N      largest input image, in pixels, judged from its header (default: 4194304)
      --max-body SIZE     largest request body, e.g. 20MiB (default: 50MiB)
      --queue N           jobs that may wait behind the running one; more get 429 (default: 16)
      --result-ttl S      seconds a finished job's result is kept (default: 600)
      --redis URL         queue jobs on Redis (redis://host:port) for 'srgan worker' to run; the
                          server then runs none itself (default: jobs run in this process)
      --api-keys FILE     every endpoint but /healthz needs a key from FILE (lines from
                          'srgan serve keygen'); SIGHUP re-reads it
      --rate-limit N      requests per minute per key (default: unlimited; rate= in FILE overrides)
      --pixel-quota N     input pixels per UTC day per key (default: unlimited; pixels= overrides)
      --cors-origin O     a browser origin allowed to call (e.g. https://app.example.com, or '*');
                          repeatable (default: none, no CORS headers)
      --webhook-allow H   a host ?callback= URLs may name (hooks.example.com, *.example.com), or
                          an address or network it may resolve to (10.0.0.0/8); repeatable
      --webhook-secret F  a file holding the secret webhooks are signed with (or set
                          SRGAN_WEBHOOK_SECRET); needed with --webhook-allow
      --log-level L       JSON logs on stdout: ${LOG_LEVELS.join(", ")} (default: info)
      --insecure-no-auth  listen beyond loopback without --api-keys (something in front decides
                          who gets in)
  -h, --help              show this help

keygen prints a new key on its first line and, on its second, the line to add to the --api-keys
file (the key's SHA-256: the file holds no key). --scope upscale (default), metrics (/metrics only)
or upscale,metrics; --rate and --pixels set the key's own limits.

SIGTERM or Ctrl-C stops accepting requests, finishes the accepted jobs and exits.

Example:
  srgan serve keygen --label alice      # line 1: alice's key; line 2: add it to keys.txt
  srgan serve --host 0.0.0.0 --api-keys keys.txt --rate-limit 60 --model natural --threads 2
  curl -H "Authorization: Bearer $KEY" --data-binary @photo.png localhost:8080/v1/upscale -o photo-4x.png`,

  async run(argv, ctx) {
    if (argv[0] === "keygen") return keygen(argv.slice(1), ctx);
    const { values } = parse("serve", argv, {
      ...UPSCALER_FLAGS,
      host: { type: "string" },
      port: { type: "string", short: "p" },
      "max-pixels": { type: "string" },
      "max-body": { type: "string" },
      queue: { type: "string" },
      "result-ttl": { type: "string" },
      redis: { type: "string" },
      "api-keys": { type: "string" },
      "rate-limit": { type: "string" },
      "pixel-quota": { type: "string" },
      "cors-origin": { type: "string", multiple: true },
      "webhook-allow": { type: "string", multiple: true },
      "webhook-secret": { type: "string" },
      "log-level": { type: "string" },
      "insecure-no-auth": { type: "boolean" },
    }, []);
    const options = upscalerOptions("serve", values);
    const host = values.host ?? "127.0.0.1";
    const apiKeys = values["api-keys"];
    for (const [flag, v] of [["rate-limit", values["rate-limit"]], ["pixel-quota", values["pixel-quota"]]] as const) {
      if (v !== undefined && apiKeys === undefined) throw new UsageError(`serve: --${flag} needs --api-keys: limits are counted per key`);
    }
    const webhookAllow = values["webhook-allow"];
    const webhookSecret = webhookAllow ? readSecret(values["webhook-secret"]) : undefined;
    if (!webhookAllow && values["webhook-secret"] !== undefined) throw new UsageError("serve: --webhook-secret is for webhooks, which need --webhook-allow HOST");
    if (apiKeys === undefined && !(await isLoopback(host))) {
      if (!values["insecure-no-auth"]) {
        throw new UsageError(`serve: --host ${host} is reachable from other machines, and without --api-keys anyone who reaches it could use it. Give --api-keys FILE (keys from 'srgan serve keygen'), or --insecure-no-auth if what is in front (a private network, a proxy that authenticates) already decides who gets in`);
      }
      ctx.err(`srgan serve: warning: listening on ${host} without API keys (--insecure-no-auth): anyone who can reach it can use it`);
    }
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
      apiKeys,
      rateLimit: intFlag("serve", "rate-limit", values["rate-limit"], 1, 1e9),
      pixelQuota: intFlag("serve", "pixel-quota", values["pixel-quota"], 1, Number.MAX_SAFE_INTEGER),
      corsOrigins: values["cors-origin"],
      webhookAllow,
      webhookSecret,
      logLevel: choiceFlag("serve", "log-level", values["log-level"], LOG_LEVELS) ?? "info",
      onError: (e) => ctx.err(`srgan serve: ${errorLine(e)}`),
    }).catch((e: unknown) => { throw asUsage(e); });
    const port = intFlag("serve", "port", values.port, 0, 65535) ?? 8080;
    const address = await app.listen({ host, port });
    const reload = () => void app.reloadApiKeys().then(
      (n) => ctx.err(`srgan serve: SIGHUP: re-read ${apiKeys}: ${n} key${n === 1 ? "" : "s"}`),
      (e: unknown) => ctx.err(`srgan serve: SIGHUP: kept the keys in use: ${errorLine(e)}`));
    if (apiKeys !== undefined) process.on("SIGHUP", reload);
    ctx.out(`srgan serve: listening on ${address} (model ${model === AUTO_MODEL ? "auto: natural-real for JPEG, natural for PNG" : model}${values.redis ? "; jobs on Redis" : ""}${apiKeys ? "; API keys required" : ""}; SIGTERM or Ctrl-C to stop)`);
    try {
      await untilStopped(ctx.signal);
    } finally {
      process.removeListener("SIGHUP", reload);
    }
    ctx.err("srgan serve: stopping: no new requests; finishing the accepted jobs");
    await app.close();
    ctx.err("srgan serve: stopped");
  },
};

async function keygen(argv: string[], ctx: Context): Promise<void> {
  const { values } = parse("serve keygen", argv, {
    label: { type: "string" },
    scope: { type: "string" },
    rate: { type: "string" },
    pixels: { type: "string" },
  }, []);
  const limit = (flag: string, v: string | undefined, max: number) => (v === "none" ? null : intFlag("serve keygen", flag, v, 1, max));
  const scope = choiceFlag("serve keygen", "scope", values.scope, SCOPES);
  const flags: KeygenFlags = {
    label: values.label,
    scopes: scope?.split(",") as KeygenFlags["scopes"],
    rateLimit: limit("rate", values.rate, 1e9),
    pixelQuota: limit("pixels", values.pixels, Number.MAX_SAFE_INTEGER),
  };
  const { key, line } = (await loadServerPackage("serve keygen")).generateApiKey(flags);
  ctx.out(key);
  ctx.out(line);
}

/** The webhook secret: the file's first line, else SRGAN_WEBHOOK_SECRET (not a flag's value: ps shows those). */
function readSecret(file: string | undefined): string {
  let secret = process.env.SRGAN_WEBHOOK_SECRET;
  if (file !== undefined) {
    try {
      secret = readFileSync(file, "utf8").split(/\r?\n/)[0].trim();
    } catch (e) {
      throw ioError("read the webhook secret", file, e);
    }
  }
  if (!secret || secret.length < 16) throw new UsageError(`serve: --webhook-allow needs a secret of at least 16 characters to sign webhooks with: --webhook-secret FILE or SRGAN_WEBHOOK_SECRET${secret ? " (the one given is shorter)" : ""}; e.g. openssl rand -hex 32 > secret.txt`);
  return secret;
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet("127.0.0.0", 8, "ipv4");
LOOPBACK.addAddress("::1", "ipv6");

/** Whether every address `host` stands for is this machine's loopback (a name is resolved). */
async function isLoopback(host: string): Promise<boolean> {
  const bare = host.replace(/^\[(.*)\]$/, "$1");
  const addresses = isIP(bare) ? [{ address: bare, family: isIP(bare) }] : await lookup(bare, { all: true }).catch(() => []);
  return addresses.length > 0 && addresses.every((a) => LOOPBACK.check(a.address, a.family === 6 ? "ipv6" : "ipv4"));
}

/** createServer's option errors name options; here the user's lever is the flag. */
function asUsage(e: unknown): unknown {
  if (!(e instanceof TypeError || e instanceof RangeError)) return e;
  const flags: Record<string, string> = { webhookAllow: "--webhook-allow", corsOrigins: "--cors-origin", webhookSecret: "--webhook-secret", apiKeys: "--api-keys" };
  return new UsageError(`serve: ${e.message.replace(/options\.(\w+)/g, (m, name: string) => flags[name] ?? m)}`);
}
