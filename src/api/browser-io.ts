// SPDX-License-Identifier: MIT
// Browser images ⇄ the RGBA8 pixels upscale() takes and returns, with the browser's own decoders and
// encoders (no codec is bundled). It touches DOM globals only when called, so importing it is safe in
// any runtime. Canvas round trips store premultiplied alpha: opaque pixels are exact, translucent ones
// may move by a step; hand ImageData from your own decoder in when alpha must be bit-exact.
import { ImageDecodeError, ImageEncodeError, throwIfAborted } from "../errors.js";
import type { RgbaImage } from "../image/rgba.js";

/** Everything readImage() accepts. */
export type BrowserImageSource =
  | ImageData
  | ImageBitmap
  | HTMLImageElement
  | HTMLCanvasElement
  | OffscreenCanvas
  | HTMLVideoElement
  | VideoFrame
  | Blob;

type Canvas = HTMLCanvasElement | OffscreenCanvas;
type Ctx2D = CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D;

const has = (name: string) => typeof (globalThis as Record<string, unknown>)[name] === "function";
const is = <T>(value: unknown, ctor: string): value is T =>
  has(ctor) && value instanceof ((globalThis as unknown as Record<string, new () => T>)[ctor]);

/**
 * The sRGB RGBA8 pixels of a browser image: ImageData (used as is), ImageBitmap, an <img> (decoded
 * first if needed), a canvas or OffscreenCanvas, a <video> or VideoFrame (its current frame), or an
 * encoded Blob/File (any format this browser decodes; EXIF orientation applied).
 * @example
 * const up = await createUpscaler({ model: "bicubic" });
 * const out = await up.upscale(await readImage(fileInput.files[0]));
 * document.body.append(toCanvas(out));
 */
export async function readImage(source: BrowserImageSource, options: { signal?: AbortSignal } = {}): Promise<RgbaImage & { data: Uint8ClampedArray }> {
  const { signal } = options;
  throwIfAborted(signal);
  if (is<ImageData>(source, "ImageData")) {
    const cs = (source as { colorSpace?: string }).colorSpace;
    if (cs === undefined || cs === "srgb") return { data: source.data, width: source.width, height: source.height };
    const ctx = context2d(source.width, source.height, "read", cs);
    ctx.putImageData(source, 0, 0);
    return pixelsOf(ctx, source.width, source.height);
  }
  if (is<Blob>(source, "Blob")) {
    if (!has("createImageBitmap")) throw new ImageDecodeError("this runtime has no createImageBitmap to decode a Blob; pass its bytes to decodeImage() instead");
    let bitmap: ImageBitmap;
    try {
      // Pixels as stored: no colour-profile conversion (the networks work on the file's sRGB values), no premultiplication.
      bitmap = await createImageBitmap(source, { premultiplyAlpha: "none", colorSpaceConversion: "none" });
    } catch (cause) {
      throw new ImageDecodeError(blobDecodeMessage(source, cause), { cause });
    }
    try {
      throwIfAborted(signal);
      return draw(bitmap, bitmap.width, bitmap.height);
    } finally {
      bitmap.close();
    }
  }
  if (is<HTMLImageElement>(source, "HTMLImageElement")) {
    if (!source.complete || source.naturalWidth === 0) {
      try {
        await source.decode();
      } catch (cause) {
        throw new ImageDecodeError(`the <img> (${source.currentSrc || source.src || "no src"}) could not be loaded or decoded`, { cause });
      }
      throwIfAborted(signal);
    }
    return draw(source, source.naturalWidth, source.naturalHeight);
  }
  if (is<HTMLVideoElement>(source, "HTMLVideoElement")) {
    if (source.readyState < 2) throw new ImageDecodeError("the <video> has no current frame yet; wait for its 'loadeddata' event");
    return draw(source, source.videoWidth, source.videoHeight);
  }
  if (is<VideoFrame>(source, "VideoFrame")) return draw(source, source.displayWidth, source.displayHeight);
  if (is<ImageBitmap>(source, "ImageBitmap") || is<HTMLCanvasElement>(source, "HTMLCanvasElement") || is<OffscreenCanvas>(source, "OffscreenCanvas")) {
    return draw(source, source.width, source.height);
  }
  throw new TypeError("readImage() takes ImageData, ImageBitmap, HTMLImageElement, HTMLCanvasElement, OffscreenCanvas, HTMLVideoElement, VideoFrame or Blob");
}

/**
 * Why a Blob did not decode, and what to do: a PNG or JPEG (by its type) that fails is damaged or not
 * what it says; any other type may just be one this browser cannot read. The browser's own reason
 * often ends in a period already ("The source image could not be decoded.").
 */
function blobDecodeMessage(blob: Blob, cause: unknown): string {
  const reason = String((cause as Error)?.message ?? cause).replace(/[.\s]+$/, "");
  const type = blob.type || "unknown";
  const advice = /^image\/(png|jpeg)$/.test(type)
    ? `the file is damaged, or it is not the ${type.slice(6).toUpperCase()} its type says`
    : "save it as PNG or JPEG, which every browser decodes";
  return `this browser cannot decode the Blob (type '${type}', ${blob.size} bytes): ${reason}; ${advice}`;
}

/**
 * Wraps upscale() output as ImageData (no copy when the pixels are a plain Uint8ClampedArray).
 * @example
 * ctx.putImageData(toImageData(await up.upscale(pixels)), 0, 0);
 */
export function toImageData(image: RgbaImage): ImageData {
  if (!has("ImageData")) throw new ImageEncodeError("this runtime has no ImageData; use the pixels as they are, or encodeImage() them");
  const { data, width, height } = image;
  // ImageData refuses views of shared memory and plain Uint8Arrays; copy or re-view only then.
  const clamped = data.buffer instanceof ArrayBuffer
    ? (data instanceof Uint8ClampedArray ? data : new Uint8ClampedArray(data.buffer, data.byteOffset, data.length))
    : new Uint8ClampedArray(data);
  return new ImageData(clamped as Uint8ClampedArray<ArrayBuffer>, width, height);
}

/**
 * Paints pixels into `canvas` (resized to fit), or into a new <canvas> (an OffscreenCanvas where there
 * is no document, e.g. in a worker).
 * @example
 * document.body.append(toCanvas(await up.upscale(await readImage(img))));
 */
export function toCanvas<C extends Canvas = HTMLCanvasElement>(image: RgbaImage, canvas?: C): C {
  const target = (canvas ?? newCanvas(image.width, image.height, "write", true)) as C;
  target.width = image.width;
  target.height = image.height;
  const ctx = target.getContext("2d") as Ctx2D | null;
  if (!ctx) throw tooLarge(image.width, image.height, "write", "a 2D context could not be created on the canvas (is it already a WebGL canvas?)");
  ctx.putImageData(toImageData(image), 0, 0);
  return target;
}

export interface ToBlobOptions {
  /** MIME type; default 'image/png' (lossless). 'image/jpeg' and 'image/webp' where the browser encodes them. */
  type?: string;
  /** 0..1 for lossy types. */
  quality?: number;
}

/**
 * Encodes pixels with the browser's encoder, e.g. for a download link.
 * @example
 * const blob = await toBlob(await up.upscale(pixels), { type: "image/png" });
 * link.href = URL.createObjectURL(blob);
 */
export async function toBlob(image: RgbaImage, options: ToBlobOptions = {}): Promise<Blob> {
  const type = options.type ?? "image/png";
  if (typeof type !== "string" || !type.startsWith("image/")) throw new TypeError(`options.type must be an image MIME type, got ${String(options.type)}`);
  const { quality } = options;
  if (quality !== undefined && !(typeof quality === "number" && quality >= 0 && quality <= 1)) throw new RangeError(`options.quality must be a number in [0, 1], got ${String(quality)}`);
  const canvas = toCanvas(image, newCanvas(image.width, image.height, "write"));
  let blob: Blob | null;
  try {
    blob = "convertToBlob" in canvas
      ? await canvas.convertToBlob({ type, quality })
      : await new Promise<Blob | null>((res) => (canvas as HTMLCanvasElement).toBlob(res, type, quality));
  } catch (cause) {
    throw new ImageEncodeError(`the browser could not encode a ${image.width}×${image.height} ${type}: ${(cause as Error).message}`, { cause });
  }
  if (!blob) throw new ImageEncodeError(`the browser could not encode a ${image.width}×${image.height} ${type} (too large for its canvas?)`);
  // Browsers quietly fall back to PNG for types they cannot write.
  if (blob.type !== type) throw new ImageEncodeError(`this browser cannot encode ${type} (it produced ${blob.type || "nothing"}); use image/png`);
  return blob;
}

function draw(source: CanvasImageSource | VideoFrame, width: number, height: number): RgbaImage & { data: Uint8ClampedArray } {
  if (!(width > 0 && height > 0)) throw new ImageDecodeError(`the image has no pixels (${width}×${height})`);
  const ctx = context2d(width, height, "read");
  ctx.drawImage(source as CanvasImageSource, 0, 0, width, height);
  return pixelsOf(ctx, width, height);
}

function pixelsOf(ctx: Ctx2D, width: number, height: number): RgbaImage & { data: Uint8ClampedArray } {
  try {
    return { data: ctx.getImageData(0, 0, width, height, { colorSpace: "srgb" }).data, width, height };
  } catch (cause) {
    if ((cause as Error).name === "SecurityError") {
      throw new ImageDecodeError("the image comes from another origin without CORS, so its pixels cannot be read: serve it with Access-Control-Allow-Origin and set img.crossOrigin = 'anonymous'", { cause });
    }
    throw tooLarge(width, height, "read", (cause as Error).message);
  }
}

/** A scratch canvas (OffscreenCanvas where there is one), or with `visible` a <canvas> wherever there is a document. */
function newCanvas(width: number, height: number, why: "read" | "write", visible = false): Canvas {
  const doc = (globalThis as { document?: Document }).document;
  if (has("OffscreenCanvas") && !(visible && doc)) return new OffscreenCanvas(width, height);
  if (!doc) {
    const message = `this runtime has neither OffscreenCanvas nor a document to draw images with; use ${why === "read" ? "decodeImage()" : "encodeImage()"} on bytes instead`;
    throw why === "read" ? new ImageDecodeError(message) : new ImageEncodeError(message);
  }
  const c = doc.createElement("canvas");
  c.width = width;
  c.height = height;
  if (c.width !== width || c.height !== height) throw tooLarge(width, height, why, "the canvas refused that size");
  return c;
}

function context2d(width: number, height: number, why: "read" | "write", colorSpace = "srgb"): Ctx2D {
  const ctx = newCanvas(width, height, why).getContext("2d", { willReadFrequently: true, colorSpace: colorSpace as PredefinedColorSpace }) as Ctx2D | null;
  if (!ctx) throw tooLarge(width, height, why, "no 2D context");
  return ctx;
}

// Browsers cap canvas area (Safari on iOS at 16.7 M pixels), so a large upscale can outgrow one.
function tooLarge(width: number, height: number, why: "read" | "write", detail: string): Error {
  const message = `a ${width}×${height} canvas is beyond this browser's limits (${detail}); ` +
    (why === "write" ? "use the raw pixels (or toImageData) and encode them another way, or upscale a smaller image" : "pass the pixels as ImageData instead");
  return why === "write" ? new ImageEncodeError(message) : new ImageDecodeError(message);
}
