// The test-side pickle writer: the opcodes src/model/formats/pickle.ts accepts, emitted one by one (for
// hostile pickles) or for a whole value the way torch.save's protocol-2 pickler writes it (memoised
// globals, OrderedDict by REDUCE + SETITEMS, tensors by _rebuild_tensor_v2 and a persistent id).

/** A tensor as torch pickles it: a view of a storage. */
export interface TensorRef { kind: "tensor"; storage: string; offset: number; shape: number[]; stride: number[] }
/** A Python tuple (plain arrays are lists). */
export interface Tuple { kind: "tuple"; items: PyValue[] }
/** A plain dict (a Map is written as a collections.OrderedDict, as state dicts are). */
export interface PlainDict { kind: "dict"; map: Map<PyValue, PyValue> }
/** Opcodes written as they are. */
export interface Raw { kind: "raw"; bytes: number[] }
/** A module-level name (a class or function), written by GLOBAL. */
export interface Global { kind: "global"; module: string; name: string }
export type PyValue = null | boolean | number | bigint | string | Uint8Array | PyValue[] | Map<PyValue, PyValue> | TensorRef | Tuple | PlainDict | Raw | Global;

export const tuple = (...items: PyValue[]): Tuple => ({ kind: "tuple", items });
export const dict = (entries: [PyValue, PyValue][]): PlainDict => ({ kind: "dict", map: new Map(entries) });
export const raw = (...bytes: number[]): Raw => ({ kind: "raw", bytes });
export const global = (module: string, name: string): Global => ({ kind: "global", module, name });
export const tensorRef = (storage: string, shape: number[], stride = rowMajor(shape), offset = 0): TensorRef => ({ kind: "tensor", storage, offset, shape, stride });

export function rowMajor(shape: number[]): number[] {
  const s = new Array<number>(shape.length);
  for (let d = shape.length - 1, n = 1; d >= 0; d--) { s[d] = n; n *= shape[d]; }
  return s;
}

export const OP = {
  PROTO: 0x80, STOP: 0x2e, MARK: 0x28, POP: 0x30, POP_MARK: 0x31, DUP: 0x32, NONE: 0x4e, NEWTRUE: 0x88, NEWFALSE: 0x89,
  BININT: 0x4a, BININT1: 0x4b, BININT2: 0x4d, LONG1: 0x8a, LONG4: 0x8b, BINFLOAT: 0x47, BINUNICODE: 0x58,
  SHORT_BINUNICODE: 0x8c, BINUNICODE8: 0x8d, BINSTRING: 0x54, SHORT_BINSTRING: 0x55, BINBYTES: 0x42, SHORT_BINBYTES: 0x43, BINBYTES8: 0x8e,
  BYTEARRAY8: 0x96, EMPTY_LIST: 0x5d, APPEND: 0x61, APPENDS: 0x65, LIST: 0x6c, EMPTY_TUPLE: 0x29, TUPLE: 0x74,
  TUPLE1: 0x85, TUPLE2: 0x86, TUPLE3: 0x87, EMPTY_DICT: 0x7d, DICT: 0x64, SETITEM: 0x73, SETITEMS: 0x75,
  BINPUT: 0x71, LONG_BINPUT: 0x72, MEMOIZE: 0x94, BINGET: 0x68, LONG_BINGET: 0x6a, GLOBAL: 0x63, STACK_GLOBAL: 0x93,
  REDUCE: 0x52, BUILD: 0x62, BINPERSID: 0x51, FRAME: 0x95, NEWOBJ: 0x81, INST: 0x69, EMPTY_SET: 0x8f,
} as const;

/** Emits opcodes into a byte list. */
export class PickleWriter {
  readonly out: number[] = [];
  private memo = new Map<string, number>();
  /** How storage persistent ids are written: (dtype storage name, key, numel) → the pid value. */
  constructor(private readonly pid: (ref: TensorRef) => PyValue = () => null) {}

  op(...bytes: number[]): this { this.out.push(...bytes); return this; }
  u32(v: number): this { return this.op(v & 255, (v >>> 8) & 255, (v >>> 16) & 255, v >>> 24); }
  u64(v: number): this { return this.u32(v >>> 0).u32(Math.floor(v / 4294967296)); }
  str(s: string): this {
    const b = new TextEncoder().encode(s);
    return b.length < 256 ? this.op(OP.SHORT_BINUNICODE, b.length, ...b) : this.op(OP.BINUNICODE).u32(b.length).op(...b);
  }
  int(v: number): this {
    if (v >= 0 && v < 256) return this.op(OP.BININT1, v);
    if (v >= 0 && v < 65536) return this.op(OP.BININT2, v & 255, v >> 8);
    if (v >= -(2 ** 31) && v < 2 ** 31) return this.op(OP.BININT).u32(v >>> 0);
    return this.long(BigInt(v));
  }
  long(v: bigint): this {
    if (v === 0n) return this.op(OP.LONG1, 0);
    const b: number[] = []; // little-endian two's complement, as short as the sign allows
    for (let x = v; ;) {
      const byte = Number(x & 0xffn);
      b.push(byte);
      x >>= 8n;
      if ((x === 0n && !(byte & 0x80)) || (x === -1n && byte & 0x80)) break;
    }
    return this.op(OP.LONG1, b.length, ...b);
  }
  float(v: number): this {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, v, false);
    return this.op(OP.BINFLOAT, ...b);
  }
  /** GLOBAL once, then BINGET from the memo: as pickle does. */
  global(module: string, name: string): this {
    const key = `${module}.${name}`;
    const slot = this.memo.get(key);
    if (slot !== undefined) return this.op(OP.BINGET, slot);
    this.op(OP.GLOBAL, ...new TextEncoder().encode(`${module}\n${name}\n`));
    this.memo.set(key, this.memo.size);
    return this.op(OP.BINPUT, this.memo.size - 1);
  }
  value(v: PyValue): this {
    if (v === null) return this.op(OP.NONE);
    if (typeof v === "boolean") return this.op(v ? OP.NEWTRUE : OP.NEWFALSE);
    if (typeof v === "bigint") return this.long(v);
    if (typeof v === "number") return Number.isInteger(v) ? this.int(v) : this.float(v);
    if (typeof v === "string") return this.str(v);
    if (v instanceof Uint8Array) return this.op(OP.BINBYTES).u32(v.length).op(...v);
    if (Array.isArray(v)) {
      this.op(OP.EMPTY_LIST);
      if (v.length) { this.op(OP.MARK); v.forEach((x) => this.value(x)); this.op(OP.APPENDS); }
      return this;
    }
    if (v instanceof Map) {
      this.global("collections", "OrderedDict").op(OP.EMPTY_TUPLE, OP.REDUCE);
      return this.items(v);
    }
    switch (v.kind) {
      case "raw": return this.op(...v.bytes);
      case "global": return this.global(v.module, v.name);
      case "tuple":
        if (v.items.length === 0) return this.op(OP.EMPTY_TUPLE);
        this.op(OP.MARK); v.items.forEach((x) => this.value(x));
        return this.op(OP.TUPLE);
      case "dict": this.op(OP.EMPTY_DICT); return this.items(v.map);
      case "tensor":
        this.global("torch._utils", "_rebuild_tensor_v2").op(OP.MARK);
        this.value(this.pid(v)).op(OP.BINPERSID);
        this.int(v.offset).value(tuple(...v.shape)).value(tuple(...v.stride)).op(OP.NEWFALSE);
        this.global("collections", "OrderedDict").op(OP.EMPTY_TUPLE, OP.REDUCE);
        return this.op(OP.TUPLE, OP.REDUCE);
    }
  }
  private items(m: Map<PyValue, PyValue>): this {
    if (m.size) { this.op(OP.MARK); for (const [k, x] of m) this.value(k).value(x); this.op(OP.SETITEMS); }
    return this;
  }
  /** PROTO 2, the value, STOP. */
  pickle(v: PyValue): Uint8Array {
    this.op(OP.PROTO, 2).value(v).op(OP.STOP);
    return Uint8Array.from(this.out);
  }
}

/** `v` pickled as torch.save's pickler would, with `pid` writing each tensor's persistent id. */
export function pickle(v: PyValue, pid?: (ref: TensorRef) => PyValue): Uint8Array {
  return new PickleWriter(pid).pickle(v);
}
