// Small files that claim huge images, built on the fly: decompression bombs for the limit tests.
import { deflateSync } from "node:zlib";
import { encodeJpeg } from "../src/image/codec.js";
import { crc32 } from "../src/model/crc32.js";
import { randomImage, rng } from "./helpers.js";

/** One PNG chunk: length, type, data, CRC. */
export function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, data.length);
  out.set(Buffer.from(type, "latin1"), 4);
  out.set(data, 8);
  dv.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** A 1-bit grey PNG of any size whose IDAT is `idat` (default: valid and all black; zeros deflate ~1000:1). */
export function blackPng(width: number, height: number, idat?: Uint8Array): Uint8Array {
  const ihdr = new Uint8Array(13);
  new DataView(ihdr.buffer).setUint32(0, width);
  new DataView(ihdr.buffer).setUint32(4, height);
  ihdr.set([1, 0, 0, 0, 0], 8);
  idat ??= deflateSync(new Uint8Array(height * (1 + Math.ceil(width / 8))), { level: 9 }); // filter 0 + packed row, all zero
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk("IHDR", ihdr), chunk("IDAT", idat), chunk("IEND", new Uint8Array(0))]);
}

/** A small real JPEG (~7 KB) whose frame header is rewritten to claim width×height. */
export function jpegClaiming(width: number, height: number): Uint8Array {
  const jpg = encodeJpeg(randomImage(rng(3), 64, 64), 90).slice();
  const sof = jpg.findIndex((b, i) => b === 0xff && jpg[i + 1] === 0xc0);
  jpg.set([height >> 8, height & 255, width >> 8, width & 255], sof + 5);
  return jpg;
}
