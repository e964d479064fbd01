// The test-side torch.save writer: PyTorch's zip format (stored entries, 64-byte aligned data, data
// descriptors and zip64 end records, as torch writes them) and the legacy format before it, for
// synthetic .pth files built from a pickled value and its storages.
import { crc32 } from "../src/model/crc32.js";
import { f32ToF16 } from "../src/model/float16.js";
import type { TensorDtype } from "../src/model/formats/tensor.js";
import { dict, global, pickle, tuple, type PyValue, type TensorRef } from "./pickle-writer.js";

/** A storage: its key in the file, element type and elements. */
export interface Storage { key: string; dtype: TensorDtype; values: ArrayLike<number> }

const STORAGE_TYPE: Record<TensorDtype, string> = {
  float32: "FloatStorage", float16: "HalfStorage", bfloat16: "BFloat16Storage", float64: "DoubleStorage", int64: "LongStorage",
  int32: "IntStorage", int16: "ShortStorage", int8: "CharStorage", uint8: "ByteStorage", bool: "BoolStorage",
};

/** The storage's elements as little-endian bytes. */
export function storageBytes(s: Storage): Uint8Array {
  const v = Array.from(s.values);
  switch (s.dtype) {
    case "float32": return new Uint8Array(Float32Array.from(v).buffer);
    case "float16": return new Uint8Array(f32ToF16(Float32Array.from(v)).buffer);
    case "bfloat16": return new Uint8Array(Uint16Array.from(new Uint32Array(Float32Array.from(v).buffer), (b) => b >>> 16).buffer); // truncation: tests use exact values
    case "float64": return new Uint8Array(Float64Array.from(v).buffer);
    case "int64": return new Uint8Array(BigInt64Array.from(v, (x) => BigInt(x)).buffer);
    case "int32": return new Uint8Array(Int32Array.from(v).buffer);
    case "int16": return new Uint8Array(Int16Array.from(v).buffer);
    case "int8": return new Uint8Array(Int8Array.from(v).buffer);
    case "uint8": case "bool": return Uint8Array.from(v);
  }
}

const storageGlobal = (dtype: TensorDtype) => global("torch", STORAGE_TYPE[dtype]);

export interface ZipOptions {
  /** The archive's folder (torch uses the file's stem). */
  folder?: string;
  /** Write CRC-32s (torch's default) or zeros (torch's compute_crc32=False). */
  crc?: boolean;
  /** Entries written besides data.pkl, byteorder and the storages (name relative to the folder → bytes). */
  extra?: Record<string, Uint8Array>;
  /** Storages named in the pickle whose data/<key> entries are left out. */
  omit?: string[];
}

/** A zip-format .pth holding `root`, whose tensors view `storages`. */
export function torchZip(root: PyValue, storages: Storage[], opts: ZipOptions = {}): Uint8Array {
  const folder = opts.folder ?? "archive";
  const byKey = new Map(storages.map((s) => [s.key, s]));
  const pkl = pickle(root, (ref: TensorRef) => {
    const s = byKey.get(ref.storage)!;
    return tuple("storage", storageGlobal(s.dtype), s.key, "cpu", s.values.length);
  });
  const entries: [string, Uint8Array][] = [[`${folder}/data.pkl`, pkl], [`${folder}/byteorder`, new TextEncoder().encode("little")]];
  for (const s of storages) if (!opts.omit?.includes(s.key)) entries.push([`${folder}/data/${s.key}`, storageBytes(s)]);
  for (const [name, bytes] of Object.entries(opts.extra ?? {})) entries.push([`${folder}/${name}`, bytes]);
  entries.push([`${folder}/version`, new TextEncoder().encode("3\n")]);
  return zipStored(entries, opts.crc ?? true);
}

/** A legacy (pre-1.6) .pth listing every one of `storages`. `views` maps a tensor's storage name to a view of a root storage. */
export function torchLegacy(root: PyValue, storages: Storage[], views: Record<string, { root: string; offset: number; size: number }> = {}): Uint8Array {
  const byKey = new Map(storages.map((s) => [s.key, s]));
  const obj = pickle(root, (ref: TensorRef) => {
    const view = views[ref.storage];
    const s = byKey.get(view ? view.root : ref.storage)!;
    return tuple("storage", storageGlobal(s.dtype), s.key, "cpu", s.values.length, view ? tuple(ref.storage, view.offset, view.size) : null);
  });
  const sysInfo = dict([["protocol_version", 1001], ["little_endian", true], ["type_sizes", dict([["short", 2], ["int", 4], ["long", 4]])]]);
  const parts = [pickle(0x1950a86a20f9469cfc6cn), pickle(1001), pickle(sysInfo), obj, pickle(storages.map((s) => s.key))];
  for (const s of storages) {
    const count = new Uint8Array(8);
    new DataView(count.buffer).setBigUint64(0, BigInt(s.values.length), true);
    parts.push(count, storageBytes(s));
  }
  return concat(parts);
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

/**
 * A zip of stored entries laid out as torch's writer does: each local header with sizes 0 and flag 8
 * (a data descriptor follows the data), data aligned to 64 bytes by an "FB" extra field, then the
 * central directory, a zip64 end record and locator, and the classic end record.
 */
export function zipStored(entries: [string, Uint8Array][], withCrc = true): Uint8Array {
  const out: number[] = [];
  const u16 = (v: number) => out.push(v & 255, v >>> 8);
  const u32 = (v: number) => out.push(v & 255, (v >>> 8) & 255, (v >>> 16) & 255, v >>> 24);
  const u64 = (v: number) => { u32(v >>> 0); u32(Math.floor(v / 4294967296)); };
  const central: { name: Uint8Array; crc: number; size: number; offset: number }[] = [];
  for (const [n, data] of entries) {
    const name = new TextEncoder().encode(n), crc = withCrc ? crc32(data) : 0, offset = out.length;
    const pad = (64 - ((offset + 30 + name.length + 4) % 64)) % 64;
    u32(0x04034b50); u16(0); u16(0x0808); u16(0); u32(0); u32(0); u32(0); u32(0); u16(name.length); u16(4 + pad);
    out.push(...name); u16(0x4246); u16(pad); out.push(...new Array(pad).fill(0x5a));
    for (const b of data) out.push(b);
    u32(0x08074b50); u32(crc); u32(data.length); u32(data.length);
    central.push({ name, crc, size: data.length, offset });
  }
  const cdOffset = out.length;
  for (const e of central) {
    u32(0x02014b50); u16(0x031e); u16(0); u16(0x0808); u16(0); u32(0); u32(e.crc); u32(e.size); u32(e.size);
    u16(e.name.length); u16(0); u16(0); u16(0); u16(0); u32(0); u32(e.offset); out.push(...e.name);
  }
  const cdSize = out.length - cdOffset, eocd64 = out.length;
  u32(0x06064b50); u64(44); u16(0x031e); u16(45); u32(0); u32(0); u64(central.length); u64(central.length); u64(cdSize); u64(cdOffset);
  u32(0x07064b50); u32(0); u64(eocd64); u32(1);
  u32(0x06054b50); u16(0); u16(0); u16(central.length); u16(central.length); u32(cdSize); u32(cdOffset); u16(0);
  return Uint8Array.from(out);
}
