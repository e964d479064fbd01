// SPDX-License-Identifier: MIT
// Node file access shared by the CLI and training: reads that fail with one IoError naming the path,
// and atomic writes (temp file + rename), so that an interrupted run never leaves a half-written
// output or checkpoint that a resumed run would take for a finished one. Node only.
import { readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { ioError } from "../errors.js";

/** Reads a file; `what` names it in the error ("read checkpoint" → "cannot read checkpoint 'x': …"). */
export async function readBytes(path: string, what = "read"): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    throw ioError(what, path, e);
  }
}

/** The temp file an atomic write of `path` goes through: hidden, and named by our process. */
export const partialName = (path: string): string => join(dirname(path), `.${basename(path)}.${process.pid}.partial`);
const PARTIAL = /^\..+\.(\d+)\.partial$/;

/** Writes next to the target and renames over it, so readers only ever see complete files. */
export async function writeBytesAtomic(path: string, bytes: Uint8Array | AsyncIterable<Uint8Array>): Promise<void> {
  await writeAtomic(path, async (tmp) => {
    try {
      await writeFile(tmp, bytes);
    } catch (e) {
      throw ioError("write", path, e);
    }
  });
}

/**
 * Lets `write` fill the temp file of `path` (another program may write it), then renames it over
 * `path`; when `write` fails or is aborted the temp file is removed and its error passes through.
 */
export async function writeAtomic(path: string, write: (tmp: string) => Promise<void>): Promise<void> {
  await removeStalePartials(dirname(path));
  const tmp = partialName(path);
  try {
    await write(tmp);
    await rename(tmp, path).catch((e) => { throw ioError("write", path, e); });
  } finally {
    await rm(tmp, { force: true }).catch(() => {});
  }
}

const swept = new Set<string>();

/**
 * A run killed during its write (kill -9, a second Ctrl-C) leaves its temp file behind: remove ours
 * whose process is gone, once per directory per run. A live process's temp file is left alone.
 */
async function removeStalePartials(dir: string): Promise<void> {
  if (swept.has(dir)) return;
  swept.add(dir);
  const names = await readdir(dir).catch(() => [] as string[]);
  await Promise.all(names.map(async (name) => {
    const pid = Number(PARTIAL.exec(name)?.[1]);
    if (pid > 0 && pid !== process.pid && !isAlive(pid)) await rm(join(dir, name), { force: true }).catch(() => {});
  }));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === "EPERM"; // exists, owned by someone else
  }
}
