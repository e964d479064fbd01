// SPDX-License-Identifier: MIT
// File access for the CLI: reads and writes that fail with one-line IoErrors naming the path, image
// files in and out, and atomic writes (temp file + rename) so an interrupted run never leaves a
// half-written output that a resumed batch would mistake for a finished one.
import { readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { IoError, ImageEncodeError, SrganError } from "../errors.js";
import { decodeImage, encodeImage, formatFromName, type DecodedImage } from "../image/codec.js";
import type { RgbaImage } from "../api/upscaler.js";
import { decodeNetworkBytes, loadNetwork } from "../model/load.js";
import { isSrnet } from "../model/format.js";
import { isRsr } from "../model/rsr.js";
import { BUILTIN_NAMES } from "../model/builtin.js";
import type { ValidatedGraph } from "../model/graph.js";

const REASONS: Record<string, string> = {
  ENOENT: "no such file or directory",
  EACCES: "permission denied",
  EPERM: "permission denied",
  EISDIR: "it is a directory",
  ENOTDIR: "a parent is not a directory",
  ENOSPC: "no space left on the device",
  EROFS: "the file system is read-only",
  EEXIST: "it already exists",
};

export function ioError(action: string, path: string, cause: unknown): IoError {
  const code = (cause as { code?: string })?.code;
  const reason = (code && REASONS[code]) ?? (cause as Error)?.message ?? String(cause);
  return new IoError(`cannot ${action} '${path}': ${reason}`, { cause });
}

export async function readBytes(path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    throw ioError("read", path, e);
  }
}

/** Writes next to the target and renames over it, so readers only ever see complete files. */
export async function writeBytesAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.partial`);
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => {});
    throw ioError("write", path, e);
  }
}

/** Reads and decodes an image; decode errors keep their code and gain the path. */
export async function readImage(path: string): Promise<DecodedImage> {
  const bytes = await readBytes(path);
  try {
    return decodeImage(bytes);
  } catch (e) {
    throw prefixPath(e, path);
  }
}

/** Fails before any work when the output name has no image extension we write. */
export function checkImageOutput(path: string): void {
  if (!formatFromName(path)) throw new ImageEncodeError(`cannot tell the output format from '${path}': use a .png, .jpg or .jpeg file name`);
}

export async function writeImage(path: string, img: RgbaImage, quality?: number): Promise<number> {
  const bytes = encodeImage(img, path, { quality });
  await writeBytesAtomic(path, bytes);
  return bytes.length;
}

export function prefixPath(e: unknown, path: string): unknown {
  if (e instanceof SrganError && !e.message.includes(path)) e.message = `${path}: ${e.message}`;
  return e;
}

export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1048576) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1048576).toFixed(1)} MiB`;
}

export const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`;

export interface LoadedModel {
  graph: ValidatedGraph;
  /** How the network was named, for messages: "built-in" or "<format>, <size>". */
  source: string;
  /** Size of the file it came from (0 for built-ins). */
  fileBytes: number;
}

/**
 * A built-in name or a network file, as the library's loader reads it. The file is read here so a
 * missing path is an IoError naming it, and so we can say which format it was.
 */
export async function loadModel(nameOrPath: string): Promise<LoadedModel> {
  if ((BUILTIN_NAMES as readonly string[]).includes(nameOrPath)) return { graph: await loadNetwork(nameOrPath), source: "built-in", fileBytes: 0 };
  const bytes = await readBytes(nameOrPath);
  const format = isSrnet(bytes) ? ".srnet" : isRsr(bytes) ? "srgan-rust .rsr" : "unknown format";
  try {
    return { graph: await decodeNetworkBytes(bytes, nameOrPath), source: `${format}, ${formatBytes(bytes.length)}`, fileBytes: bytes.length };
  } catch (e) {
    throw prefixPath(e, nameOrPath);
  }
}
