#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// The `srgan` command: dispatch to one module per command (loaded lazily, so `srgan psnr` never
// loads the engine), Ctrl-C as an abort, and the exit-code and one-line error contract:
// 0 ok, 1 failure, 2 usage error, 130 interrupted; `srgan: <code>: <message>` on stderr.
import { readFileSync, realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { UsageError } from "../errors.js";
import { wantsHelp, type Command, type Context } from "./args.js";
import { exitCode, report } from "./report.js";

const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  upscale: { summary: "upscale one image", load: async () => (await import("./upscale.js")).command },
  video: { summary: "upscale a video or an animated GIF/APNG/WebP, frame by frame", load: async () => (await import("./video.js")).command },
  batch: { summary: "upscale every image in a directory (resumable)", load: async () => (await import("./batch.js")).command },
  downscale: { summary: "shrink an image by an integer factor", load: async () => (await import("./downscale.js")).command },
  psnr: { summary: "peak signal-to-noise ratio of TEST against REF, in dB", load: async () => (await import("./metrics.js")).psnrCommand },
  ssim: { summary: "structural similarity of TEST against REF", load: async () => (await import("./metrics.js")).ssimCommand },
  eval: { summary: "PSNR/SSIM of a network on a folder of HR images (SR protocol)", load: async () => (await import("./eval.js")).command },
  serve: { summary: "serve upscaling over HTTP (sync and queued jobs, metrics)", load: async () => (await import("./serve.js")).command },
  worker: { summary: "run the jobs 'srgan serve --redis' queues (BullMQ)", load: async () => (await import("./worker.js")).command },
  "profile-memory": { summary: "peak working memory of one upscale", load: async () => (await import("./profile-memory.js")).command },
  train: { summary: "train a network on a folder of images", load: async () => (await import("./train.js")).command },
  info: { summary: "describe a network (built-in name or file)", load: async () => (await import("./info.js")).command },
  convert: { summary: "write any network this package reads as .srnet or ONNX", load: async () => (await import("./convert.js")).command },
  quantise: { summary: "shrink a network's weights (f16 or trunc12)", load: async () => (await import("./quantise.js")).command },
};

const HELP = `Usage: srgan COMMAND [arguments] [options]

Image super-resolution in WebAssembly.

Commands:
${Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(15)} ${c.summary}`).join("\n")}

Run 'srgan COMMAND --help' for a command's arguments and options.

Options:
  -h, --help      show this help
  -v, --version   print the version

Exit status: 0 success, 1 failure, 2 usage error, 130 interrupted.
Set SRGAN_DEBUG=1 to print stack traces with errors.`;

/** Runs the CLI on `argv` (without node and script) and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const controller = new AbortController();
  const onSigint = () => {
    controller.abort(new Error("interrupted by Ctrl-C"));
    // A second Ctrl-C means "now", even if some step ignores the signal.
    process.once("SIGINT", () => process.exit(130));
  };
  process.once("SIGINT", onSigint);
  const ctx: Context = {
    signal: controller.signal,
    out: (line) => process.stdout.write(line + "\n"),
    err: (line) => process.stderr.write(line + "\n"),
    tty: Boolean(process.stderr.isTTY),
  };
  try {
    const [name, ...rest] = argv;
    if (name === undefined) throw new UsageError("no command given; run 'srgan --help' for the list of commands");
    if (name === "--help" || name === "-h" || (name === "help" && rest.length === 0)) {
      ctx.out(HELP);
      return 0;
    }
    if (name === "help") return main([rest[0], "--help"]);
    if (name === "--version" || name === "-v") {
      ctx.out(version());
      return 0;
    }
    const entry = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
    if (!entry) {
      const guess = Object.keys(COMMANDS).find((c) => c.startsWith(name.slice(0, 3)) && !name.startsWith("-"));
      throw new UsageError(`unknown ${name.startsWith("-") ? "option" : "command"} '${name}'${guess ? ` (did you mean '${guess}'?)` : ""}; run 'srgan --help' for the list of commands`);
    }
    const command = await entry.load();
    if (wantsHelp(rest)) {
      ctx.out(command.help);
      return 0;
    }
    return (await command.run(rest, ctx)) ?? 0;
  } catch (e) {
    report(e);
    return exitCode(e);
  } finally {
    process.removeListener("SIGINT", onSigint);
  }
}

function version(): string {
  try {
    // dist/cli/main.js and src/cli/main.ts are both two levels below package.json.
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
    return `srgan ${pkg.version}`;
  } catch {
    return "srgan (version unknown)";
  }
}

function isEntryPoint(): boolean {
  try {
    return Boolean(process.argv[1]) && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

// Run when executed (the bin link, `node dist/cli/main.js`, tsx), not when imported by tests.
if (isEntryPoint()) {
  process.exitCode = await main(process.argv.slice(2));
  // Everything is disposed by now; if a stray handle still holds the event loop, do not hang.
  setTimeout(() => process.exit(), 2000).unref();
}
