// The test-side .rsr writer: bincode → shuffle → a stored-LZMA2 xz stream, for synthetic srgan-rust networks.
import { crc32 } from "../src/model/crc32.js";
import { rsrParameterSpec, type RsrArray, type RsrHyper } from "../src/model/families/srgan-rust.js";
import { shuffleBytes } from "../src/model/formats/rsr.js";
import { randomArray } from "./helpers.js";

/** bincode of the descriptor: the published header (no width) or the later one (width after factor). */
export function bincode(h: RsrHyper, arrays: RsrArray[], header: "old" | "new"): Uint8Array {
  const parts: number[] = [];
  const u32 = (v: number) => parts.push(v & 255, (v >>> 8) & 255, (v >>> 16) & 255, v >>> 24);
  const u64 = (v: number) => { u32(v >>> 0); u32(Math.floor(v / 4294967296)); };
  u32(h.factor);
  if (header === "new") u32(h.width);
  u32(h.logDepth); u32(h.globalNodeFactor); u64(arrays.length);
  for (const a of arrays) {
    parts.push(1); u64(a.shape.length); a.shape.forEach(u64); u64(a.data.length);
    parts.push(...new Uint8Array(a.data.slice().buffer));
  }
  return Uint8Array.from(parts);
}

/** A valid single-stream .xz file whose LZMA2 chunks are stored (uncompressed), with a CRC32 check. */
export function xzStore(data: Uint8Array): Uint8Array {
  const out: number[] = [];
  const le32 = (v: number) => [v & 255, (v >>> 8) & 255, (v >>> 16) & 255, v >>> 24];
  const varint = (v: number) => { const b = []; while (v >= 0x80) { b.push((v & 0x7f) | 0x80); v = Math.floor(v / 128); } b.push(v); return b; };
  const flags = [0x00, 0x01];
  out.push(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, ...flags, ...le32(crc32(Uint8Array.from(flags))));
  const blockHeader = [2, 0x00, 0x21, 0x01, 16, 0, 0, 0]; // 12 bytes; LZMA2, 1 MiB dictionary
  out.push(...blockHeader, ...le32(crc32(Uint8Array.from(blockHeader))));
  const start = out.length;
  for (let at = 0; at < data.length; at += 65536) {
    const n = Math.min(65536, data.length - at);
    out.push(at === 0 ? 0x01 : 0x02, (n - 1) >> 8, (n - 1) & 255, ...data.subarray(at, at + n));
  }
  out.push(0x00);
  const unpadded = 12 + (out.length - start) + 4;
  while (out.length % 4) out.push(0);
  out.push(...le32(crc32(data)));
  const index = [0x00, ...varint(1), ...varint(unpadded), ...varint(data.length)];
  while (index.length % 4) index.push(0);
  index.push(...le32(crc32(Uint8Array.from(index))));
  out.push(...index);
  const footer = [...le32(index.length / 4 - 1), ...flags];
  out.push(...le32(crc32(Uint8Array.from(footer))), ...footer, 0x59, 0x5a);
  return Uint8Array.from(out);
}

/** Random parameters of the right shapes; splines get plausible (L, Ce, R) rows. */
export function randomArrays(h: RsrHyper, rand: () => number): RsrArray[] {
  return rsrParameterSpec(h).map(({ name, shape }) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = /spline/.test(name) ? randomArray(n, rand, 0.05, 1.2) : randomArray(n, rand, -0.3, 0.3);
    return { shape, data };
  });
}

export const payload = (h: RsrHyper, a: RsrArray[], header: "old" | "new" = "old") => shuffleBytes(bincode(h, a, header));
export const rsrFile = (h: RsrHyper, a: RsrArray[], header: "old" | "new" = "old") => xzStore(payload(h, a, header));
