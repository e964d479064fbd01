// SPDX-License-Identifier: MIT
// Command-line parsing shared by every `srgan` command: node:util parseArgs in strict mode, with its
// errors rewritten as one-line UsageErrors that name the command, and typed readers for flag values.
import { existsSync } from "node:fs";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { mib, UsageError } from "../errors.js";
import type { UpscalerOptions } from "../api/options.js";
import { AUTO_MODEL, BUILTIN_NAMES, DEFAULT_MODEL } from "../model/builtin.js";
import { formatNames } from "../model/network-formats.js";
import { CONV_ALGORITHMS } from "../ops/op.js";
import { MAX_MEMORY_BYTES } from "../runtime/engine.js";

/** What a command module exports; main.ts loads it lazily so `srgan psnr` never loads the engine. */
export interface Command {
  /** Full --help text. */
  help: string;
  /** Returns the exit code (0 when omitted); failures throw. */
  run(argv: string[], ctx: Context): Promise<number | void>;
}

export interface Context {
  /** Fires on the first Ctrl-C so long jobs stop cleanly. */
  signal: AbortSignal;
  /** stdout: results (values, summaries). */
  out(line: string): void;
  /** stderr: progress and per-item reports. */
  err(line: string): void;
  /** Whether stderr is a terminal (progress bars are drawn only then). */
  tty: boolean;
}

type Options = NonNullable<ParseArgsConfig["options"]>;
type Parsed<O extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>>;

/**
 * Parses `argv` for command `name`: exactly the `positionals` names (last ones optional when listed
 * in `optional`), and the flags in `options`. Throws UsageError for anything else.
 */
export function parse<O extends Options>(name: string, argv: string[], options: O, positionals: string[], optional = 0): { values: Parsed<O>["values"]; args: string[] } {
  let parsed: Parsed<O>;
  try {
    parsed = parseArgs({ args: joinNegativeValues(argv, options), options, allowPositionals: true as const, strict: true as const });
  } catch (e) {
    throw new UsageError(`${name}: ${rewordParseError(e as Error & { code?: string })}; see 'srgan ${name} --help'`);
  }
  const got = parsed.positionals;
  const min = positionals.length - optional;
  if (got.length < min) throw new UsageError(`${name}: missing ${positionals.slice(got.length, min).join(" and ")}; usage: srgan ${name} ${positionals.join(" ")}${Object.keys(options).length ? " [options]" : ""}`);
  if (got.length > positionals.length) throw new UsageError(`${name}: unexpected argument '${got[positionals.length]}'; usage: srgan ${name} ${positionals.join(" ")}${Object.keys(options).length ? " [options]" : ""}`);
  return { values: parsed.values, args: got };
}

/**
 * parseArgs reads `--threads -1` as two flags ("needs a value"); join a negative number to its flag
 * (`--threads=-1`) so the flag's own check can say what range it takes.
 */
function joinNegativeValues(argv: string[], options: Options): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const long = argv[i].startsWith("--") ? argv[i].slice(2) : Object.keys(options).find((k) => argv[i] === `-${options[k].short}`);
    if (long && options[long]?.type === "string" && /^-\d/.test(argv[i + 1] ?? "")) out.push(`--${long}=${argv[++i]}`);
    else out.push(argv[i]);
  }
  return out;
}

function rewordParseError(e: Error & { code?: string }): string {
  // Node quotes the flag as '--name', '-n' or '-n, --name <value>': name the long form when there is one.
  const quoted = /'([^']*)'/.exec(e.message)?.[1] ?? "";
  const flag = /--[\w-]+/.exec(quoted)?.[0] ?? /-\w/.exec(quoted)?.[0] ?? quoted;
  switch (e.code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION": return `unknown option '${flag}'`;
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
      if (/does not take an argument/.test(e.message)) return `option '${flag}' takes no value`;
      return `option '${flag}' needs a value`;
    case "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL": return "unexpected argument";
    default: return e.message.split("\n")[0];
  }
}

/** True when the arguments ask for help; checked before parsing so `--help` works beside bad flags. */
export const wantsHelp = (argv: string[]) => argv.some((a) => a === "--help" || a === "-h");

/** An integer flag in [min, max]; `undefined` stays undefined so library defaults apply. */
export function intFlag(command: string, flag: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value.trim()) || Number(value) < min || Number(value) > max) {
    throw new UsageError(`${command}: --${flag} must be an integer in [${min}, ${max}], got '${value}'`);
  }
  return Number(value);
}

/** --threads: a count, or 'auto' for one per core. */
export function threadsFlag(command: string, value: string | undefined): number | "auto" | undefined {
  if (value === "auto") return "auto";
  return intFlag(command, "threads", value, 0, 64);
}

const UNITS: Record<string, number> = { "": 1, b: 1, k: 1024, kib: 1024, kb: 1e3, m: 2 ** 20, mib: 2 ** 20, mb: 1e6, g: 2 ** 30, gib: 2 ** 30, gb: 1e9 };

/** A byte count with an optional unit: 2GiB, 1.5G, 512MiB, 800MB, 1048576. */
export function bytesFlag(command: string, flag: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value);
  const unit = m ? UNITS[m[2].toLowerCase()] : undefined;
  const bytes = m && unit ? Math.floor(Number(m[1]) * unit) : NaN;
  if (!(bytes >= min && bytes <= max)) {
    throw new UsageError(`${command}: --${flag} must be a size from ${mib(min)} to ${mib(max)} such as 2GiB or 512MiB, got '${value}'`);
  }
  return bytes;
}

export function choiceFlag<T extends string>(command: string, flag: string, value: string | undefined, choices: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!(choices as readonly string[]).includes(value)) throw new UsageError(`${command}: --${flag} must be one of ${choices.join(", ")}, got '${value}'`);
  return value as T;
}

/** `--tta` of the commands that upscale images (upscale, batch, eval): upscale()'s self-ensemble. */
export const TTA_FLAG = { tta: { type: "boolean" } } as const;
export const TTA_HELP = `      --tta               self-ensemble: average the network's outputs on the 8 flips/rotations
                          (about 8× the time for a small gain: docs/models.md)`;

/** Flags shared by the commands that run a network. */
export const UPSCALER_FLAGS = {
  model: { type: "string", short: "m" },
  scale: { type: "string", short: "s" },
  threads: { type: "string", short: "t" },
  "tile-size": { type: "string" },
  conv: { type: "string" },
  "memory-limit": { type: "string" },
} as const;

export const UPSCALER_HELP = `  -m, --model NAME|FILE   network: a built-in (${BUILTIN_NAMES.join(", ")}),
                          a network file (${formatNames()}),
                          or (upscale, batch, serve, worker) 'auto': natural-real for JPEG input,
                          natural for PNG (default: auto there, ${DEFAULT_MODEL} elsewhere)
  -s, --scale N           upscaling factor: picks the built-in of that scale (natural: 4 or 2;
                          bicubic/bilinear/nearest: 1–8); a file's network must match (default: 4)
  -t, --threads N|auto    worker threads; 0 runs on the main thread (default: auto, one per core)
      --tile-size N       longest tile side in input pixels, 8–4096 (default: 256)
      --conv ALGO         3×3 convolutions: winograd, direct or auto (default: auto, Winograd on
                          layers of 12+ channels)
      --memory-limit SIZE shared memory for weights and working buffers, 16MiB–4GiB, e.g. 2GiB
                          (default: 1GiB; srgan-rust .rsr networks need ~0.9 KB per input pixel)`;

export function upscalerOptions(command: string, v: { model?: string; scale?: string; threads?: string; conv?: string; "tile-size"?: string; "memory-limit"?: string }): UpscalerOptions {
  return {
    model: modelFlag(command, v.model),
    scale: intFlag(command, "scale", v.scale, 1, 8),
    threads: threadsFlag(command, v.threads),
    tileSize: intFlag(command, "tile-size", v["tile-size"], 8, 4096),
    convAlgorithm: choiceFlag(command, "conv", v.conv, CONV_ALGORITHMS),
    memoryLimit: bytesFlag(command, "memory-limit", v["memory-limit"], 16 * 2 ** 20, MAX_MEMORY_BYTES),
  };
}

/**
 * --model: 'auto', a built-in, or a file. A bare word that is none of them (`natral`) is a usage error
 * naming the built-ins and the nearest one; a path that does not exist is left to the loader, which
 * says why it cannot be read.
 */
export function modelFlag(command: string, value: string | undefined): string | undefined {
  if (value === undefined || value === AUTO_MODEL || BUILTIN_NAMES.includes(value) || /[./\\]/.test(value) || existsSync(value)) return value;
  const guess = nearest(value, [...BUILTIN_NAMES, AUTO_MODEL]);
  throw new UsageError(`${command}: --model '${value}' is neither a built-in network nor a file${guess ? ` (did you mean '${guess}'?)` : ""}; the built-ins are ${BUILTIN_NAMES.join(", ")}, and 'auto' picks one by the input's format`);
}

/** The choice closest to `word` by edit distance, if it is close enough to be a typo (a third of its letters). */
export function nearest(word: string, choices: readonly string[]): string | undefined {
  let best: string | undefined, bestDistance = Math.max(1, Math.floor(word.length / 3)) + 1;
  for (const c of choices) {
    const d = editDistance(word, c);
    if (d < bestDistance) { best = c; bestDistance = d; }
  }
  return best;
}

/** Levenshtein distance: insertions, deletions and substitutions, one each. */
function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length];
}
