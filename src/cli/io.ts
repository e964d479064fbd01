// SPDX-License-Identifier: MIT
// File access for the CLI: reads and writes that fail with one-line IoErrors naming the path, image
// files in and out, and atomic writes (temp file + rename, src/platform/files.ts) so an interrupted run
// never leaves a half-written output that a resumed batch would mistake for a finished one.
import { once } from "node:events";
import { rm, stat, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { IoError, ImageEncodeError, ioError, SrganError, UsageError } from "../errors.js";
import { decodeImage, encodeImage, formatFromName, readImageInfo, type DecodedImage, type ImageInfo } from "../image/codec.js";
import type { RgbaImage } from "../image/rgba.js";
import { encodePngStreaming } from "../image/png-stream.js";
import { loadNetwork } from "../api/load-network.js";
import { companionName, decodeNetworkFiles, formatOf } from "../model/network-formats.js";
import { BUILTIN_NAMES } from "../model/builtin.js";
import type { ValidatedGraph } from "../model/types.js";
import { partialName, readBytes, writeBytesAtomic } from "../platform/files.js";

export { ioError, readBytes, writeBytesAtomic };

/**
 * Fails before any work when OUT cannot be written: a directory in its place, its directory missing,
 * no permission, a read-only file system. Creating (and removing) the write's own temp file is the test.
 */
export async function checkWritable(path: string): Promise<void> {
  if ((await stat(path).catch(() => undefined))?.isDirectory()) throw ioError("write", path, { code: "EISDIR" });
  const tmp = partialName(path);
  try {
    await writeFile(tmp, new Uint8Array(0));
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === "ENOENT") {
      // ENOENT also comes from file systems that hold no new files (/proc): say which it is.
      const dir = dirname(path);
      const isDir = (await stat(dir).catch(() => undefined))?.isDirectory();
      throw new IoError(isDir
        ? `cannot write '${path}': directory '${dir}' exists but takes no new files (a virtual file system such as /proc); choose another directory`
        : `cannot write '${path}': directory '${dir}' does not exist`, { cause: e });
    }
    throw ioError("write", path, e);
  }
  await rm(tmp, { force: true });
}

/**
 * Refuses OUT when it is IN itself (the same file by device and inode, so also through another path,
 * a hard link or a symbolic link) unless `overwrite`: the result would silently replace its input.
 */
export async function refuseSameFile(command: string, input: string, output: string, overwrite = false): Promise<void> {
  if (!overwrite && await sameFile(input, output)) {
    throw new UsageError(`${command}: OUT '${output}' is the input file itself${output === input ? "" : ` ('${input}')`}; writing it would replace the input. Choose another OUT, or pass --overwrite`);
  }
}

/** Whether both paths exist and are one file or directory (device and inode: links and other spellings too). */
export async function sameFile(a: string, b: string): Promise<boolean> {
  const [x, y] = await Promise.all([stat(a).catch(() => undefined), stat(b).catch(() => undefined)]);
  return Boolean(x && y && x.dev === y.dev && x.ino === y.ino);
}

/** An image file whose header was read (and checked against the decode limits), pixels not yet decoded. */
export interface OpenedImage {
  info: ImageInfo;
  decode(): DecodedImage;
}

/** Reads an image file and its header only; decode errors keep their code and gain the path. */
export async function openImage(path: string): Promise<OpenedImage> {
  return openImageBytes(path, await readBytes(path));
}

/** openImage for bytes read already. */
export function openImageBytes(path: string, bytes: Uint8Array): OpenedImage {
  const withPath = <T>(f: () => T): T => {
    try {
      return f();
    } catch (e) {
      throw prefixPath(e, path);
    }
  };
  return { info: withPath(() => readImageInfo(bytes)), decode: () => withPath(() => decodeImage(bytes)) };
}

/** Reads and decodes an image; decode errors keep their code and gain the path. */
export async function readImage(path: string): Promise<DecodedImage> {
  return (await openImage(path)).decode();
}

/** Fails before any work when the output name has no image extension we write. */
export function checkImageOutput(path: string): void {
  if (!formatFromName(path)) throw new ImageEncodeError(`cannot tell the output format from '${path}': use a .png, .jpg or .jpeg file name`);
}

export async function writeImage(path: string, img: RgbaImage, quality?: number): Promise<number> {
  if (formatFromName(path) !== "png") {
    const bytes = encodeImage(img, path, { quality });
    await writeBytesAtomic(path, bytes);
    return bytes.length;
  }
  let size = 0;
  await writeBytesAtomic(path, (async function* () {
    for await (const part of encodePngStreaming(img)) { size += part.length; yield part; }
  })());
  return size;
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
 * A built-in name or a network file (with its second file, for formats that have one), decoded as the
 * library decodes it. The files are read here so a missing path is an IoError naming it, and so we can
 * say which format it was.
 */
export async function loadModel(nameOrPath: string, scale?: number): Promise<LoadedModel> {
  if ((BUILTIN_NAMES as readonly string[]).includes(nameOrPath)) return { graph: await loadNetwork(nameOrPath, { scale }), source: "built-in", fileBytes: 0 };
  const main = await readBytes(nameOrPath);
  const format = formatOf(main);
  const second = format && companionName(nameOrPath, format);
  const companion = second === undefined ? undefined : await readBytes(second, `read ${format!.companion!.what}`);
  const fileBytes = main.length + (companion?.length ?? 0);
  try {
    const graph = await decodeNetworkFiles({ main, companion }, nameOrPath, scale);
    if (scale !== undefined && graph.scale !== scale) throw new SrganError("ERR_SCALE", `the network upscales ×${graph.scale}, but ×${scale} was asked for: leave out --scale`);
    return { graph, source: `${format?.name ?? "unknown format"}, ${formatBytes(fileBytes)}`, fileBytes };
  } catch (e) {
    throw prefixPath(e, nameOrPath);
  }
}

/** Resolves when a long-running command (serve, worker) is told to stop: Ctrl-C (`signal`) or SIGTERM. */
export async function untilStopped(signal: AbortSignal): Promise<void> {
  const sigterm = new AbortController();
  process.once("SIGTERM", () => sigterm.abort());
  await Promise.race([once(signal, "abort"), once(sigterm.signal, "abort")]);
}
