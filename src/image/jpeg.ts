// SPDX-License-Identifier: MIT
// JPEG ⇄ RGBA8 on jpeg-js (pure JS). We walk the marker segments ourselves first: that gives the
// frame size before any allocation, the EXIF orientation, and a precise refusal for the JPEG
// flavours jpeg-js cannot decode (lossless, hierarchical, arithmetic-coded, 12-bit).
import jpeg from "jpeg-js";
import { ImageDecodeError, ImageEncodeError } from "../errors.js";
import { applyOrientation, readExifOrientation } from "./exif.js";

export interface JpegHeader {
  /** Stored size (before orientation). */
  width: number;
  height: number;
  components: number;
  progressive: boolean;
  /** EXIF orientation 1–8 (1 when there is none). */
  orientation: number;
}

export function isJpeg(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

const fail = (what: string) => new ImageDecodeError(`JPEG ${what}`);
const damaged = "; the file is damaged or incomplete: export or download it again";
const resave = "; re-save it as a baseline or progressive 8-bit JPEG (or as PNG)";

/** SOF markers jpeg-js cannot decode, and why. */
const UNSUPPORTED_SOF: Record<number, string> = {
  0xc3: "lossless coding", 0xc5: "hierarchical coding", 0xc6: "hierarchical coding", 0xc7: "hierarchical lossless coding",
  0xc9: "arithmetic coding", 0xca: "arithmetic coding", 0xcb: "arithmetic lossless coding",
  0xcd: "hierarchical arithmetic coding", 0xce: "hierarchical arithmetic coding", 0xcf: "hierarchical arithmetic coding",
};

/** Walks the segments up to the first scan: frame size and EXIF orientation, no pixel work. */
export function readJpegHeader(bytes: Uint8Array): JpegHeader {
  if (!isJpeg(bytes)) throw fail("start-of-image marker missing: this is not a JPEG file");
  let orientation = 0;
  let frame: Omit<JpegHeader, "orientation"> | undefined;
  let at = 2;
  for (;;) {
    if (at + 2 > bytes.length) throw fail(`is truncated: it ends at byte ${bytes.length} before its image data${damaged}`);
    if (bytes[at] !== 0xff) throw fail(`is corrupt: expected a marker at byte ${at}, found 0x${bytes[at].toString(16)}${damaged}`);
    const marker = bytes[at + 1];
    if (marker === 0xff) { at++; continue; } // fill byte before a marker
    if (marker === 0xd9) throw fail(`ends (EOI) before any image data${damaged}`);
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) { at += 2; continue; } // no length field
    if (at + 4 > bytes.length) throw fail(`is truncated inside the segment at byte ${at}${damaged}`);
    const length = (bytes[at + 2] << 8) | bytes[at + 3];
    if (length < 2 || at + 2 + length > bytes.length) throw fail(`is truncated: segment 0xFF${hex(marker)} at byte ${at} declares ${length} bytes but ${bytes.length - at - 2} remain${damaged}`);
    const payload = bytes.subarray(at + 4, at + 2 + length);
    if (marker === 0xe1 && orientation === 0 && payload.length >= 6 && payload[0] === 0x45 && payload[1] === 0x78) {
      orientation = readExifOrientation(payload); // only the first Exif APP1 counts (XMP is APP1 too)
    } else if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (UNSUPPORTED_SOF[marker]) throw fail(`uses ${UNSUPPORTED_SOF[marker]} (SOF${marker - 0xc0}), which the decoder does not support${resave}`);
      if (frame) throw fail(`has more than one frame header${damaged}`);
      if (payload.length < 6) throw fail(`frame header is ${payload.length} bytes, too short${damaged}`);
      const precision = payload[0];
      const height = (payload[1] << 8) | payload[2], width = (payload[3] << 8) | payload[4], components = payload[5];
      if (precision !== 8) throw fail(`has ${precision}-bit samples; only 8-bit JPEG is supported${resave}`);
      if (width === 0) throw fail(`frame header declares width 0${damaged}`);
      if (height === 0) throw fail(`declares its height later in the file (DNL marker), which the decoder does not support${resave}`);
      if (![1, 3, 4].includes(components)) throw fail(`has ${components} colour components; 1 (grey), 3 (YCbCr/RGB) or 4 (CMYK) are supported${resave}`);
      if (payload.length < 6 + 3 * components) throw fail(`frame header is too short for ${components} components${damaged}`);
      frame = { width, height, components, progressive: marker === 0xc2 };
    } else if (marker === 0xda) {
      if (!frame) throw fail(`has image data (SOS) before its frame header${damaged}`);
      return { ...frame, orientation: orientation || 1 };
    }
    at += 2 + length;
  }
}

/** Decodes to RGBA8, upright per EXIF. The caller has checked the header's size against its limits. */
export function decodeJpegPixels(bytes: Uint8Array, h: JpegHeader): { data: Uint8ClampedArray; width: number; height: number } {
  const pixels = h.width * h.height;
  // Every 8×8 block costs at least one bit of coded data, so a file this short cannot hold the size
  // it declares: refuse before the decoder allocates (and spends seconds) for that size.
  const least = Math.ceil((Math.ceil(h.width / 8) * Math.ceil(h.height / 8)) / 8);
  if (bytes.length < least) throw fail(`declares ${h.width}×${h.height} pixels, which take at least ${least} bytes of image data, but the file has ${bytes.length}${damaged}`);
  let raw: { width: number; height: number; data: Uint8Array };
  try {
    raw = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: true,
      // Tolerant mode fills missing blocks with grey: a truncated file would "decode" to garbage.
      tolerantDecoding: false,
      maxResolutionInMP: Math.ceil(pixels / 1e6) + 1,
      // What a legitimate file of this size needs (coefficients, component planes, output) with room
      // to spare; a corrupt file that asks for more is refused by jpeg-js itself.
      maxMemoryUsageInMB: Math.ceil((pixels * 40) / 1048576) + 64,
    });
  } catch (cause) {
    const msg = (cause as Error)?.message ?? String(cause);
    throw new ImageDecodeError(`JPEG cannot be decoded: ${msg}${damaged}`, { cause });
  }
  if (raw.width !== h.width || raw.height !== h.height || raw.data.length !== pixels * 4) {
    throw fail(`decoded to ${raw.width}×${raw.height}, but its header says ${h.width}×${h.height}${damaged}`);
  }
  const img = { data: new Uint8ClampedArray(raw.data.buffer, raw.data.byteOffset, raw.data.length), width: raw.width, height: raw.height };
  return applyOrientation(img, h.orientation);
}

/**
 * RGBA8 → baseline JPEG. JPEG has no alpha, so translucent pixels are composited over white: the
 * colour under a transparent pixel is arbitrary (often black) and should not show.
 */
export function encodeJpegPixels(data: Uint8Array | Uint8ClampedArray, width: number, height: number, quality: number): Uint8Array {
  let rgba: Uint8Array | Uint8ClampedArray = data;
  for (let i = 3; i < data.length; i += 4) {
    if (data[i] === 255) continue;
    if (rgba === data) rgba = new Uint8Array(data); // a copy even for a Node Buffer, whose slice() is a view
    const a = data[i] / 255;
    for (let c = i - 3; c < i; c++) rgba[c] = Math.round(data[c] * a + 255 * (1 - a));
    rgba[i] = 255;
  }
  try {
    const out = jpeg.encode({ data: rgba, width, height }, quality).data;
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (cause) {
    throw new ImageEncodeError(`cannot encode a ${width}×${height} JPEG: ${(cause as Error).message}`, { cause });
  }
}

const hex = (n: number) => n.toString(16).toUpperCase().padStart(2, "0");
