// SPDX-License-Identifier: MIT
// The zip container of PyTorch's `.pth` files (torch ≥ 1.6): the central directory (zip64 included,
// which torch always writes) and views of stored entries, CRC-checked when read. Compressed or encrypted
// entries are refused: torch.save stores every entry uncompressed (its loader maps storages in place).
// Our own ~100 lines rather than a zip library: we need zero-copy views, zip64, every offset checked
// before use and messages that say where; inflating is never needed (see decodePth's message).
import { crc32 } from "../crc32.js";
import { ByteReader, type Fail } from "./byte-reader.js";

export interface ZipEntry {
  readonly name: string;
  /** The entry's bytes: a view into the archive, checked against its CRC-32 (where written) on first read. */
  data(): Uint8Array;
}

const EOCD64 = 0x06064b50, EOCD64_LOCATOR = 0x07064b50, CENTRAL = 0x02014b50, LOCAL = 0x04034b50;
const ZIP64_EXTRA = 0x0001;

export const isZip = (b: Uint8Array): boolean => b.length >= 4 && b[0] === 0x50 && b[1] === 0x4b && b[2] === 0x03 && b[3] === 0x04;

/** The archive's entries by name. `fail` builds the error (it knows the file's label). */
export function readZip(bytes: Uint8Array, fail: Fail): Map<string, ZipEntry> {
  const at = (pos: number) => new ByteReader(bytes, pos, fail);
  const eocd = findEocd(bytes);
  if (eocd < 0) throw fail("no zip end-of-central-directory record: the file is truncated or not a zip archive");
  const e = at(eocd + 10);
  let count = e.u16("entry count"), cdSize = e.u32("central directory size"), cdOffset = e.u32("central directory offset");
  if (eocd >= 20 && at(eocd - 20).u32("zip64 locator") === EOCD64_LOCATOR) {
    const loc = at(eocd - 12).u64("zip64 record offset");
    const z = at(loc);
    if (loc + 56 > eocd || z.u32("zip64 record signature") !== EOCD64) throw fail(`the zip64 end record at offset ${loc} is missing or damaged`);
    z.pos = loc + 32;
    count = z.u64("zip64 entry count");
    cdSize = z.u64("zip64 central directory size");
    cdOffset = z.u64("zip64 central directory offset");
  }
  if (cdOffset + cdSize > eocd) throw fail(`the central directory (offset ${cdOffset}, ${cdSize} bytes) overlaps its end record at ${eocd} (truncated or corrupt)`);
  if (count > cdSize / 46) throw fail(`${count} entries cannot fit in a ${cdSize}-byte central directory (corrupt)`);

  const entries = new Map<string, ZipEntry>();
  const r = new ByteReader(bytes, cdOffset, fail, cdOffset + cdSize);
  const utf8 = new TextDecoder();
  for (let i = 0; i < count; i++) {
    const here = r.pos;
    if (r.u32("central directory entry") !== CENTRAL) throw fail(`central directory entry ${i} at offset ${here} has a bad signature (corrupt)`);
    r.pos += 4;
    const flags = r.u16("flags"), method = r.u16("method");
    r.pos += 4;
    const crc = r.u32("CRC-32");
    let compressedSize = r.u32("compressed size"), size = r.u32("size");
    const nameLen = r.u16("name length"), extraLen = r.u16("extra length"), commentLen = r.u16("comment length");
    r.pos += 8;
    let local = r.u32("local header offset");
    const name = utf8.decode(r.take(nameLen, "entry name"));
    const extra = new ByteReader(bytes, r.pos, fail, r.pos + extraLen);
    r.take(extraLen + commentLen, "entry extra field and comment");
    // zip64: the sizes and offset that overflowed 32 bits sit in the extra field, in this order.
    while (extra.left >= 4) {
      const id = extra.u16("extra id"), len = extra.u16("extra length");
      const field = new ByteReader(bytes, extra.pos, fail, extra.pos + len);
      extra.take(len, "extra field");
      if (id !== ZIP64_EXTRA) continue;
      if (size === 0xffffffff) size = field.u64("zip64 size");
      if (compressedSize === 0xffffffff) compressedSize = field.u64("zip64 compressed size");
      if (local === 0xffffffff) local = field.u64("zip64 local header offset");
    }
    if (entries.has(name)) throw fail(`the archive has two entries named '${name}' (corrupt)`);
    const where = `zip entry '${name}'`;
    if (flags & 1) throw fail(`${where} is encrypted`);
    if (method !== 0) throw fail(`${where} is compressed (method ${method}); torch.save stores entries uncompressed, so another tool repacked this file: save it again with torch.save`);
    if (compressedSize !== size) throw fail(`${where} is stored but its sizes differ (${compressedSize} vs ${size}: corrupt)`);
    const h = at(local);
    if (h.u32(`${where} local header`) !== LOCAL) throw fail(`${where}: no local header at offset ${local} (corrupt)`);
    h.pos = local + 26;
    const start = local + 30 + h.u16("local name length") + h.u16("local extra length");
    if (start + size > bytes.length) throw fail(`${where} (${size} bytes at offset ${start}) runs past the end of the file (truncated)`);
    let checked = false;
    entries.set(name, {
      name,
      data() {
        const view = bytes.subarray(start, start + size);
        // A CRC of 0 means "not computed": torch.save writes that under compute_crc32=False, and torch.load accepts it.
        if (!checked && crc !== 0 && crc32(view) !== crc) throw fail(`${where} fails its CRC-32 check (corrupt)`);
        checked = true;
        return view;
      },
    });
  }
  return entries;
}

/** Offset of the end-of-central-directory record: the last signature within its 64 KiB comment range. */
function findEocd(b: Uint8Array): number {
  for (let i = b.length - 22; i >= Math.max(0, b.length - 22 - 0xffff); i--) {
    if (b[i] === 0x50 && b[i + 1] === 0x4b && b[i + 2] === 0x05 && b[i + 3] === 0x06) return i;
  }
  return -1;
}
