// SPDX-License-Identifier: MIT
// `srgan batch IN_DIR OUT_DIR`: every image through one upscaler (the network and workers are set
// up once). Resumable: an existing output means "done" when it is a whole image of the expected size
// (anything else is redone). A bad file is reported and skipped; the exit status says if any were.
import { mkdir, open, readdir, stat } from "node:fs/promises";
import { dirname, extname, join, relative, resolve, sep } from "node:path";
import { createUpscaler, type Upscaler } from "../api/upscaler.js";
import { AUTO_MODEL, autoModel } from "../model/builtin.js";
import { detectImageFormat, formatFromName, hasEndMarker, MAX_IMAGE_PIXELS, readImageInfo, type ImageFormat } from "../image/codec.js";
import { ImageTooLargeError, SrganError, UsageError } from "../errors.js";
import { choiceFlag, intFlag, parse, TTA_FLAG, TTA_HELP, upscalerOptions, UPSCALER_FLAGS, UPSCALER_HELP, type Command } from "./args.js";
import { exists, ioError, openImage, sameFile, seconds, writeImage } from "./io.js";
import { progressBar } from "./progress.js";
import { errorLine } from "./report.js";

export const command: Command = {
  help: `Usage: srgan batch IN_DIR OUT_DIR [options]

Upscales every PNG and JPEG file in IN_DIR into OUT_DIR under the same name (created if needed).
Outputs that already exist (whole images of the expected size) are skipped, so running the same
command again after an interruption resumes where it stopped; a torn or wrong-sized one is redone. A file that cannot be read or upscaled is reported and skipped; the
exit status is 1 if any file failed. Hidden files (names starting with '.') are ignored.

Options:
${UPSCALER_HELP}
${TTA_HELP}
  -r, --recursive         also process subdirectories (mirrored in OUT_DIR)
      --format F          write every output as png or jpeg (default: the input's own format)
  -q, --quality Q         JPEG output quality, 1–100 (default: 90)
  -h, --help              show this help

Example:
  srgan batch photos/ photos-4x/ --recursive --format png`,

  async run(argv, ctx) {
    const { values, args: [inDir, outDir] } = parse("batch", argv, {
      ...UPSCALER_FLAGS,
      ...TTA_FLAG,
      recursive: { type: "boolean", short: "r" },
      format: { type: "string" },
      quality: { type: "string", short: "q" },
    }, ["IN_DIR", "OUT_DIR"]);
    const options = upscalerOptions("batch", values);
    // JPEG photos go to natural-real: natural would sharpen their 8×8 blocks (README, Networks).
    options.model ??= AUTO_MODEL;
    const format = choiceFlag("batch", "format", values.format, ["png", "jpeg"] as const);
    const quality = intFlag("batch", "quality", values.quality, 1, 100);
    if (resolve(inDir) === resolve(outDir) || await sameFile(inDir, outDir)) throw new UsageError("batch: OUT_DIR must differ from IN_DIR (outputs keep the input names)");
    await checkDirectory(inDir);
    const files = await listImages(resolve(inDir), values.recursive ?? false, resolve(outDir));
    if (files.length === 0) {
      ctx.out(`batch: no PNG or JPEG files in ${inDir}${values.recursive ? "" : " (use --recursive for subdirectories)"}`);
      return 0;
    }
    const target = (rel: string) => join(outDir, format ? rel.slice(0, rel.length - extname(rel).length) + (format === "png" ? ".png" : ".jpg") : rel);
    // With --format, a.png and a.jpg would both become a.png: the second would be skipped as "done".
    const claimed = new Map<string, string>();
    for (const rel of files) {
      const other = claimed.get(target(rel));
      if (other) throw new UsageError(`batch: ${other} and ${rel} would both be written to ${target(rel)}; rename one or drop --format`);
      claimed.set(target(rel), rel);
    }
    const t0 = performance.now();
    // --model auto picks per file (natural-real for JPEG): one upscaler per network, made when first
    // needed. The first is made here, so a bad model or scale fails the command before any file.
    const ups = new Map<string, Promise<Upscaler>>();
    const upscalerFor = (format: ImageFormat) => {
      const model = options.model === AUTO_MODEL ? autoModel(format, options.scale) : options.model;
      const key = String(model);
      if (!ups.has(key)) ups.set(key, createUpscaler({ ...options, model }));
      return ups.get(key)!;
    };
    await upscalerFor("png");
    try {
      await mkdir(outDir, { recursive: true });
    } catch (e) {
      for (const up of ups.values()) await (await up).dispose();
      throw ioError("create directory", outDir, e);
    }
    let upscaled = 0, skipped = 0, interrupted = false;
    const failed: string[] = [];
    const width = String(files.length).length;
    try {
      for (const [i, rel] of files.entries()) {
        const tag = `[${String(i + 1).padStart(width)}/${files.length}]`;
        const src = join(inDir, rel);
        const dst = target(rel);
        const t = performance.now();
        const bar = progressBar(`${tag} ${rel}`, ctx.tty);
        try {
          const file = await openImage(src);
          const up = await upscalerFor(file.info.format);
          const stale = await unfinished(dst, file.info.width * up.scale, file.info.height * up.scale);
          if (stale === "") {
            skipped++;
            ctx.err(`${tag} skip ${rel} (${dst} exists)`);
            continue;
          }
          if (stale) ctx.err(`${tag} redo ${rel}: ${stale}`);
          up.checkSize(file.info.width, file.info.height);
          const img = file.decode();
          const out = await up.upscale(img, { tta: values.tta, signal: ctx.signal, onProgress: (p) => bar.update(p.fraction, `${p.tilesDone}/${p.tilesTotal} tiles`) });
          bar.done();
          await mkdir(dirname(dst), { recursive: true }).catch((e) => { throw ioError("create directory", dirname(dst), e); });
          await writeImage(dst, out, quality);
          upscaled++;
          ctx.err(`${tag} ${rel} → ${dst} (${img.width}×${img.height} → ${out.width}×${out.height}${options.model === AUTO_MODEL ? `, ${up.info().model}` : ""}, ${seconds(performance.now() - t)})`);
        } catch (e) {
          bar.done();
          if (ctx.signal.aborted || (e instanceof SrganError && e.code === "ERR_ABORTED")) {
            interrupted = true;
            break;
          }
          failed.push(rel);
          ctx.err(`${tag} FAILED ${rel}: ${errorLine(e)}`);
        }
      }
    } finally {
      for (const up of ups.values()) await up.then((u) => u.dispose(), () => {});
    }
    const left = files.length - upscaled - skipped - failed.length;
    ctx.out(`batch: ${upscaled} upscaled, ${skipped} skipped (output exists), ${failed.length} failed` +
      `${interrupted ? `, ${left} not done (interrupted: run the same command again to resume)` : ""} in ${seconds(performance.now() - t0)}`);
    if (failed.length) ctx.out(`failed: ${failed.join(", ")}`);
    return interrupted ? 130 : failed.length ? 1 : 0;
  },
};

/**
 * Why an existing output is not a finished one (a write by another tool or a full disk can leave a
 * torn file; ours are atomic): "" when it is whole and of the expected size, undefined when absent.
 */
async function unfinished(path: string, width: number, height: number): Promise<string | undefined> {
  if (!(await exists(path))) return undefined;
  try {
    // The header and the end marker are all it takes: outputs can be hundreds of MB.
    const { head, tail } = await headAndTail(path);
    let info: { format: ImageFormat; width: number; height: number };
    try {
      info = readImageInfo(head, { maxPixels: MAX_IMAGE_PIXELS });
    } catch (e) {
      if (!(e instanceof ImageTooLargeError)) throw e;
      info = { format: detectImageFormat(head)!, width: e.width, height: e.height }; // a big output is still ours
    }
    if (!hasEndMarker(tail, info.format)) return `${path} is truncated`;
    if (info.width !== width || info.height !== height) return `${path} is ${info.width}×${info.height}, not ${width}×${height}`;
    return "";
  } catch (e) {
    return `${path} is not a readable image (${errorLine(e)})`;
  }
}

/** The first 64 KiB of a file (where our PNG and JPEG headers are) and its last 12 bytes. */
async function headAndTail(path: string): Promise<{ head: Uint8Array; tail: Uint8Array }> {
  const f = await open(path, "r");
  try {
    const { size } = await f.stat();
    const head = new Uint8Array(Math.min(size, 65536)), tail = new Uint8Array(Math.min(size, 12));
    await f.read(head, 0, head.length, 0);
    await f.read(tail, 0, tail.length, size - tail.length);
    return { head, tail };
  } finally {
    await f.close();
  }
}

async function checkDirectory(dir: string): Promise<void> {
  let s;
  try {
    s = await stat(dir);
  } catch (e) {
    throw ioError("read directory", dir, e);
  }
  if (!s.isDirectory()) throw new UsageError(`batch: IN_DIR '${dir}' is not a directory (use 'srgan upscale' for one file)`);
}

/** Image paths relative to `root`, sorted, skipping hidden entries and the output tree. */
async function listImages(root: string, recursive: boolean, outRoot: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (e) {
      throw ioError("read directory", dir, e);
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (entry.name.startsWith(".")) continue;
      const full = join(dir, entry.name);
      if (entry.isDirectory()) {
        // Not into the output tree (OUT_DIR inside IN_DIR), and never along symlinks (no cycles).
        if (recursive && full !== outRoot && !full.startsWith(outRoot + sep)) await walk(full);
      } else if ((entry.isFile() || (entry.isSymbolicLink() && (await stat(full).then((s) => s.isFile(), () => false)))) && formatFromName(entry.name)) {
        found.push(relative(root, full));
      }
    }
  };
  await walk(root);
  return found;
}
