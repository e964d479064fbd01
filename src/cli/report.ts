// SPDX-License-Identifier: MIT
// How the CLI reports an error: one line `srgan: <code>: <message>` (stack and causes only with
// SRGAN_DEBUG=1), and which exit status it earns. Separate from main.ts so commands can use it
// without importing the entry module.
import { SrganError, UsageError } from "../errors.js";

export function exitCode(e: unknown): number {
  // A network that has no such scale (`--scale 3` with natural) is a wrong command line, like a bad flag.
  if (e instanceof UsageError || (e instanceof SrganError && e.code === "ERR_SCALE")) return 2;
  if (e instanceof SrganError && e.code === "ERR_ABORTED") return 130;
  return 1;
}

export function report(e: unknown, prefix = "srgan"): void {
  process.stderr.write(`${prefix}: ${errorLine(e)}\n`);
  if (process.env.SRGAN_DEBUG === "1") {
    for (let c: unknown = e; c; c = (c as Error).cause) process.stderr.write(`${(c as Error).stack ?? String(c)}\n`);
  }
}

const OPTION_FLAGS = [["options.memoryLimit", "--memory-limit"], ["options.tileSize", "--tile-size"], ["options.threads", "--threads"]] as const;

/** `<code>: <message>` on one line. Errors we did not throw on purpose are flagged as bugs. */
export function errorLine(e: unknown): string {
  const ours = e instanceof SrganError;
  const argument = e instanceof RangeError || e instanceof TypeError;
  const code = ours ? e.code
    : argument ? "ERR_INVALID_ARGUMENT"
      : typeof (e as { code?: unknown })?.code === "string" ? (e as { code: string }).code : "ERR_UNEXPECTED";
  let message = (e as Error)?.message ?? String(e);
  if (ours && e.code === "ERR_ABORTED") message = `${message} (${(e.cause as Error)?.message ?? "aborted"})`;
  // The library's advice names its options; here the user's lever is the flag.
  for (const [option, flag] of OPTION_FLAGS) message = message.replaceAll(option, flag);
  if (!ours && !argument) message += " (this is a bug: please report it with the output of SRGAN_DEBUG=1)";
  return `${code}: ${message.replace(/\s*\n\s*/g, " ").trim()}`;
}
