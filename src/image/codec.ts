// SPDX-License-Identifier: MIT
// Image files ⇄ RGBA8 pixels, in any JS runtime: format detection by magic bytes, the size limits
// every decode is held to (checked on the header, before any pixel memory is allocated), and
// choosing an encoder from a file name.
import { ImageDecodeError, ImageEncodeError, ImageTooLargeError } from "../errors.js";
import { checkRgbaImage, MAX_IMAGE_SIDE, type RgbaImage } from "./rgba.js";
import { decodePngPixels, encodePngPixels, isPng, readPngHeader } from "./png.js";
import { decodeJpegPixels, encodeJpegPixels, isJpeg, readJpegHeader } from "./jpeg.js";

/** What decoders return: RGBA8, row-major, usable as ImageData and as upscaler input. */
export interface DecodedImage extends RgbaImage {
  data: Uint8ClampedArray;
}

export type ImageFormat = "png" | "jpeg";

/** Largest side a decoded image may have (also the upscaler's input limit). */
export { MAX_IMAGE_SIDE };
/** Largest pixel count a decoded image may have: 2^28 is 1 GiB of RGBA. */
export const MAX_IMAGE_PIXELS = 2 ** 28;
/**
 * decodeImage's default pixel budget: 2^26 (e.g. 8192×8192, 256 MiB of RGBA). Decoding needs several
 * times the output size, so a tiny file claiming a huge size must be refused from its header.
 */
export const DEFAULT_MAX_PIXELS = 2 ** 26;

export interface DecodeOptions {
  /** Refuse images with more pixels than this (default 2^26, at most 2^28). */
  maxPixels?: number;
}

/** What the header says, before any pixel is decoded: the format and the upright size (EXIF applied). */
export interface ImageInfo {
  format: ImageFormat;
  width: number;
  height: number;
}

/** The format named by the first bytes, or undefined when it is neither PNG nor JPEG. */
export function detectImageFormat(bytes: Uint8Array): ImageFormat | undefined {
  if (isPng(bytes)) return "png";
  if (isJpeg(bytes)) return "jpeg";
  return undefined;
}

/**
 * Decodes a PNG or JPEG file to RGBA8. PNG: every colour type and bit depth, tRNS, Adam7; 16-bit
 * samples are rounded to 8. JPEG: baseline and progressive, turned upright per EXIF orientation.
 * @throws ImageTooLargeError when the header declares more than the limits allow,
 *   ImageDecodeError when the file is not PNG/JPEG, truncated or corrupt.
 * @example
 * const img = decodeImage(await fs.readFile("in.png")); // { data, width, height }
 */
export function decodeImage(bytes: Uint8Array, options: DecodeOptions = {}): DecodedImage {
  const info = readImageInfo(bytes, options);
  if (info.format === "png") return decodePngPixels(bytes, readPngHeader(bytes));
  return decodeJpegPixels(bytes, readJpegHeader(bytes));
}

/**
 * Reads only the header: format and upright size, checked against the same limits as decodeImage,
 * so a caller can refuse an image (or its upscaled size) before paying for its pixels.
 * @throws ImageTooLargeError, ImageDecodeError as decodeImage does for the header.
 */
export function readImageInfo(bytes: Uint8Array, options: DecodeOptions = {}): ImageInfo {
  if (!(bytes instanceof Uint8Array)) throw new TypeError("decodeImage(bytes): bytes must be a Uint8Array");
  if (options === null || typeof options !== "object") throw new TypeError("decodeImage(bytes, options): options must be an object");
  const { maxPixels = DEFAULT_MAX_PIXELS } = options;
  if (!Number.isInteger(maxPixels) || maxPixels < 1 || maxPixels > MAX_IMAGE_PIXELS) {
    throw new RangeError(`options.maxPixels must be an integer in [1, ${MAX_IMAGE_PIXELS}], got ${String(maxPixels)}`);
  }
  const format = detectImageFormat(bytes);
  if (format === "png") {
    const h = readPngHeader(bytes);
    checkSize(h.width, h.height, maxPixels);
    return { format, width: h.width, height: h.height };
  }
  if (format === "jpeg") {
    const h = readJpegHeader(bytes);
    checkSize(h.width, h.height, maxPixels);
    const swap = h.orientation >= 5 && h.orientation <= 8;
    return { format, width: swap ? h.height : h.width, height: swap ? h.width : h.height };
  }
  throw new ImageDecodeError(describeUnknown(bytes));
}

/** Whether the file ends as a whole one does (PNG: the IEND chunk; JPEG: the EOI marker): cheap truncation check. */
export function hasEndMarker(bytes: Uint8Array, format: ImageFormat): boolean {
  const tail = Array.from(bytes.subarray(-12));
  return format === "png"
    ? tail.join() === [0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82].join()
    : tail.length >= 2 && tail.at(-2) === 0xff && tail.at(-1) === 0xd9;
}

function checkSize(width: number, height: number, maxPixels: number): void {
  if (width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE) throw new ImageTooLargeError(width, height, `${MAX_IMAGE_SIDE} pixels per side`);
  if (width * height > maxPixels) {
    throw new ImageTooLargeError(width, height, `${maxPixels} pixels${maxPixels < MAX_IMAGE_PIXELS ? ` (raise it with decodeImage's maxPixels option, up to ${MAX_IMAGE_PIXELS})` : ""}`);
  }
}

const SIGNATURE_PNG = "\x89PNG\r\n\x1a\n";

function describeUnknown(b: Uint8Array): string {
  if (b.length === 0) return "the file is empty";
  const ascii = String.fromCharCode(...b.subarray(0, 12));
  const known: [RegExp, string][] = [
    [/^GIF8[79]a/, "GIF"], [/^RIFF....WEBP/s, "WebP"], [/^BM/, "BMP"], [/^(II\*\0|MM\0\*)/, "TIFF"],
    [/^....ftyp(avif|heic|heix|mif1)/s, "AVIF/HEIF"], [/^\xff\x0a|^\0\0\0\x0cJXL /, "JPEG XL"],
  ];
  const convert = "; only PNG and JPEG are read: convert the file to one of them";
  for (const [re, name] of known) if (re.test(ascii)) return `the file is ${name}${convert}`;
  if (b.length < 8 && SIGNATURE_PNG.startsWith(ascii)) return "the file is truncated inside the PNG signature; export or download it again";
  if (b.length < 3 && b[0] === 0xff) return "the file is truncated right after the JPEG start marker; export or download it again";
  const head = Array.from(b.subarray(0, 4), (x) => x.toString(16).padStart(2, "0")).join(" ");
  return `the file is not a PNG or JPEG image (it starts with bytes ${head})${convert}`;
}

/** PNG, 8-bit RGB when every pixel is opaque, else 8-bit RGBA. */
export function encodePng(img: RgbaImage): Uint8Array {
  checkRgbaImage(img, "encodePng: ");
  return encodePngPixels(img.data, img.width, img.height);
}

/** Baseline JPEG at `quality` 1–100 (default 90). Translucent pixels are composited over white. */
export function encodeJpeg(img: RgbaImage, quality = 90): Uint8Array {
  checkRgbaImage(img, "encodeJpeg: ");
  if (!Number.isInteger(quality) || quality < 1 || quality > 100) throw new RangeError(`encodeJpeg: quality must be an integer in [1, 100], got ${String(quality)}`);
  if (img.width > 65500 || img.height > 65500) throw new ImageEncodeError(`JPEG cannot hold ${img.width}×${img.height}: its limit is 65500 per side; write PNG instead`);
  return encodeJpegPixels(img.data, img.width, img.height, quality);
}

/** The format for a path's extension or a bare format name ("png", "jpg", "jpeg"), or undefined. */
export function formatFromName(pathOrFormat: string): ImageFormat | undefined {
  const ext = /(?:^|\.)([a-z0-9]+)$/i.exec(pathOrFormat.trim())?.[1]?.toLowerCase();
  if (ext === "png") return "png";
  if (ext === "jpg" || ext === "jpeg" || ext === "jpe" || ext === "jfif") return "jpeg";
  return undefined;
}

/**
 * Encodes for a file name or format name: `encodeImage(img, "out.png")`, `encodeImage(img, "jpeg")`.
 * @throws ImageEncodeError when the extension names no supported format.
 */
export function encodeImage(img: RgbaImage, pathOrFormat: string, options: { quality?: number } = {}): Uint8Array {
  const format = formatFromName(pathOrFormat);
  if (format === "png") return encodePng(img);
  if (format === "jpeg") return encodeJpeg(img, options.quality);
  throw new ImageEncodeError(`cannot tell the output format from '${pathOrFormat}': use a .png, .jpg or .jpeg file name`);
}
