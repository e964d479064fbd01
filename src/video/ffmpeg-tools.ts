// SPDX-License-Identifier: MIT
// Finding and running Debian's `ffmpeg` package programs (ffmpeg, ffprobe): where they are, and a
// child process whose failure becomes a typed error carrying FFmpeg's own last words. Node only:
// nothing in the browser or Deno entries imports this.
import { spawn, type ChildProcess } from "node:child_process";
import { access, constants } from "node:fs/promises";
import { delimiter, dirname, join } from "node:path";
import { UnsupportedError } from "../errors.js";

export interface FfmpegTools {
  ffmpeg: string;
  ffprobe: string;
}

const MISSING = "FFmpeg is needed to read and write video: install Debian's 'ffmpeg' package (apt-get install ffmpeg), " +
  "which brings ffmpeg and ffprobe, or name the ffmpeg program with --ffmpeg PATH (ffprobe is looked for beside it)";

/**
 * The ffmpeg and ffprobe programs: `ffmpegPath` (ffprobe beside it) when given, else the first on PATH.
 * @throws UnsupportedError (ERR_UNSUPPORTED) naming the Debian package when either is missing.
 */
export async function findFfmpeg(ffmpegPath?: string): Promise<FfmpegTools> {
  if (ffmpegPath !== undefined) {
    if (!(await isExecutable(ffmpegPath))) throw new UnsupportedError(`'${ffmpegPath}' is not an executable program. ${MISSING}`);
    const beside = join(dirname(ffmpegPath), "ffprobe");
    const ffprobe = (await isExecutable(beside)) ? beside : await onPath("ffprobe");
    if (!ffprobe) throw new UnsupportedError(`no ffprobe beside '${ffmpegPath}' or on PATH. ${MISSING}`);
    return { ffmpeg: ffmpegPath, ffprobe };
  }
  const [ffmpeg, ffprobe] = await Promise.all([onPath("ffmpeg"), onPath("ffprobe")]);
  if (!ffmpeg || !ffprobe) throw new UnsupportedError(`${ffmpeg ? "ffprobe" : "ffmpeg"} was not found on PATH. ${MISSING}`);
  return { ffmpeg, ffprobe };
}

async function onPath(name: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? "").split(delimiter).filter(Boolean)) {
    const candidate = join(dir, name);
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

const isExecutable = (path: string) => access(path, constants.X_OK).then(() => true, () => false);

/** A running FFmpeg program: its process, and its stderr's last lines for error messages. */
export interface FfmpegProcess {
  child: ChildProcess;
  /** Resolves with the exit code (a signal counts as -1) once the process has ended and its pipes closed. */
  exited: Promise<number>;
  /** FFmpeg's last stderr lines, joined into one line. */
  lastWords(): string;
  /** Whether it wrote anything to stderr: run with `-v error`, everything it says is an error. */
  hasErrors(): boolean;
  kill(): void;
}

/** Starts `program args`; stdin/stdout are pipes as asked, stderr is kept (its last 4 KiB). */
export function startFfmpeg(program: string, args: string[], stdio: { stdin: boolean; stdout: boolean }): FfmpegProcess {
  // A process group of its own: a terminal's Ctrl-C goes to us alone, and we stop FFmpeg ourselves after
  // cleaning up (otherwise FFmpeg quits first and the abort reads as a broken pipe).
  const child = spawn(program, args, { stdio: [stdio.stdin ? "pipe" : "ignore", stdio.stdout ? "pipe" : "ignore", "pipe"], detached: true });
  let stderr = "";
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (d: string) => { stderr = (stderr + d).slice(-4096); });
  const exited = new Promise<number>((resolve) => {
    child.once("error", (e) => { stderr += `\n${e.message}`; resolve(-1); });
    child.once("close", (code) => resolve(code ?? -1));
  });
  return {
    child,
    exited,
    hasErrors: () => stderr.trim() !== "",
    lastWords: () => stderr.split("\n").map((l) => l.trim()).filter(Boolean).slice(-3).join("; ") || "no message",
    kill: () => { if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL"); },
  };
}
