// SPDX-License-Identifier: MIT
// A small protobuf (proto3 wire format) codec driven by a schema: enough for ONNX (./onnx-proto.ts), with
// no code generated at run time and no dependency. Decoding bounds-checks every length, accepts repeated
// numbers packed or not, skips unknown fields and views `bytes` fields in place (weights are not copied).
// Encoding measures each message first, then writes into one buffer.

export type ScalarType = "int64" | "int32" | "float" | "double" | "string" | "bytes";

export interface FieldSpec {
  readonly name: string;
  /** A scalar, or the schema of a nested message (a function, so schemas may refer to later ones). */
  readonly type: ScalarType | (() => MessageSchema);
  readonly repeated?: boolean;
}

/** Field number → field. */
export type MessageSchema = ReadonlyMap<number, FieldSpec>;

/** A schema from `[number, name, type, "repeated"?]` rows. */
export function schema(rows: readonly [number, string, FieldSpec["type"], "repeated"?][]): MessageSchema {
  return new Map(rows.map(([n, name, type, r]) => [n, { name, type, repeated: r === "repeated" }]));
}

type Message = Record<string, unknown>;

const VARINT = 0, FIXED64 = 1, LENGTH = 2, FIXED32 = 5;
const wireTypeOf = (t: FieldSpec["type"]): number =>
  t === "int64" || t === "int32" ? VARINT : t === "float" ? FIXED32 : t === "double" ? FIXED64 : LENGTH;

/** Decodes a message; malformed bytes throw an Error saying where. */
export function decodeMessage<T>(bytes: Uint8Array, s: MessageSchema): T {
  return new Decoder(bytes).message(s, bytes.length) as T;
}

class Decoder {
  private pos = 0;
  private readonly dv: DataView;
  constructor(private readonly bytes: Uint8Array) {
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private fail(what: string): never {
    throw new Error(`${what} at byte ${this.pos}`);
  }

  private need(n: number, end: number): void {
    if (n > end - this.pos) this.fail(`a field needs ${n} bytes but ${end - this.pos} remain`);
  }

  /** A varint as a number: int64 two's complement (10 bytes for negatives), exact up to ±2^53. */
  private varint(end: number): number {
    let value = 0, scale = 1;
    for (let i = 0; i < 7; i++) {
      if (this.pos >= end) this.fail("a varint runs past the end");
      const b = this.bytes[this.pos++];
      value += (b & 0x7f) * scale;
      if (b < 0x80) return value;
      scale *= 128;
    }
    // Longer than 49 bits: large or negative; exact through BigInt.
    let big = BigInt(value), shift = 49n;
    for (let i = 7; i < 10; i++) {
      if (this.pos >= end) this.fail("a varint runs past the end");
      const b = this.bytes[this.pos++];
      big |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return Number(BigInt.asIntN(64, big));
      shift += 7n;
    }
    return this.fail("a varint is longer than 10 bytes");
  }

  private length(end: number): number {
    const n = this.varint(end);
    if (n < 0) this.fail("a negative length");
    this.need(n, end);
    return n;
  }

  private scalar(type: ScalarType, end: number): unknown {
    switch (type) {
      case "int64": case "int32": return this.varint(end);
      case "float": { this.need(4, end); const v = this.dv.getFloat32(this.pos, true); this.pos += 4; return v; }
      case "double": { this.need(8, end); const v = this.dv.getFloat64(this.pos, true); this.pos += 8; return v; }
      case "bytes": { const n = this.length(end); const v = this.bytes.subarray(this.pos, this.pos + n); this.pos += n; return v; }
      case "string": { const n = this.length(end); const v = new TextDecoder().decode(this.bytes.subarray(this.pos, this.pos + n)); this.pos += n; return v; }
    }
  }

  private skip(wire: number, end: number): void {
    switch (wire) {
      case VARINT: this.varint(end); return;
      case FIXED64: this.need(8, end); this.pos += 8; return;
      case LENGTH: { const n = this.length(end); this.pos += n; return; }
      case FIXED32: this.need(4, end); this.pos += 4; return;
      default: this.fail(`wire type ${wire} (groups are not supported)`);
    }
  }

  message(s: MessageSchema, end: number): Message {
    const out: Message = {};
    for (const f of s.values()) if (f.repeated) out[f.name] = [];
    while (this.pos < end) {
      const tag = this.varint(end);
      const number = Math.floor(tag / 8), wire = tag & 7;
      if (number < 1) this.fail(`field number ${number}`);
      const f = s.get(number);
      if (!f) { this.skip(wire, end); continue; }
      const expected = wireTypeOf(f.type);
      let value: unknown;
      if (typeof f.type === "function") {
        if (wire !== LENGTH) this.fail(`field '${f.name}' has wire type ${wire}, expected ${LENGTH}`);
        const n = this.length(end);
        value = this.message(f.type(), this.pos + n);
      } else if (f.repeated && wire === LENGTH && expected !== LENGTH) {
        // Packed numbers: a run of them in one length-delimited field.
        const n = this.length(end), stop = this.pos + n;
        const list = out[f.name] as unknown[];
        while (this.pos < stop) list.push(this.scalar(f.type, stop));
        continue;
      } else {
        if (wire !== expected) this.fail(`field '${f.name}' has wire type ${wire}, expected ${expected}`);
        value = this.scalar(f.type, end);
      }
      if (f.repeated) (out[f.name] as unknown[]).push(value);
      else out[f.name] = value;
    }
    if (this.pos !== end) this.fail("a message runs past its length");
    return out;
  }
}

/** Encodes a message: fields that are undefined or null are left out, repeated numbers are packed. */
export function encodeMessage(m: object, s: MessageSchema): Uint8Array {
  const sizes = new Map<object, number>();
  const out = new Encoder(new Uint8Array(measure(m as Message, s, sizes)), sizes);
  out.message(m as Message, s);
  return out.bytes;
}

const varintSize = (v: number): number => {
  if (v < 0) return 10;
  let n = 1;
  while (v >= 128) { v = Math.floor(v / 128); n++; }
  return n;
};
const utf8 = new TextEncoder();

function scalarSize(type: ScalarType, v: unknown): number {
  switch (type) {
    case "int64": case "int32": return varintSize(v as number);
    case "float": return 4;
    case "double": return 8;
    case "bytes": { const n = (v as Uint8Array).length; return varintSize(n) + n; }
    case "string": { const n = utf8.encode(v as string).length; return varintSize(n) + n; }
  }
}

/** The encoded size of a message's body; each nested message's size is kept in `sizes` for the write. */
function measure(m: Message, s: MessageSchema, sizes: Map<object, number>): number {
  let total = 0;
  for (const [number, f] of s) {
    const v = m[f.name];
    if (v == null) continue;
    const tag = varintSize(number * 8);
    const values = f.repeated ? (v as unknown[]) : [v];
    if (typeof f.type === "function") {
      for (const x of values) {
        const n = measure(x as Message, f.type(), sizes);
        sizes.set(x as object, n);
        total += tag + varintSize(n) + n;
      }
    } else if (f.repeated && wireTypeOf(f.type) !== LENGTH) {
      if (values.length === 0) continue;
      let n = 0;
      for (const x of values) n += scalarSize(f.type, x);
      sizes.set(values, n);
      total += tag + varintSize(n) + n;
    } else {
      for (const x of values) total += tag + scalarSize(f.type, x);
    }
  }
  return total;
}

class Encoder {
  private pos = 0;
  private readonly dv: DataView;
  constructor(readonly bytes: Uint8Array, private readonly sizes: Map<object, number>) {
    this.dv = new DataView(bytes.buffer);
  }

  private varint(v: number): void {
    if (v < 0) {
      let big = BigInt.asUintN(64, BigInt(v));
      for (let i = 0; i < 9; i++) { this.bytes[this.pos++] = Number(big & 0x7fn) | 0x80; big >>= 7n; }
      this.bytes[this.pos++] = Number(big);
      return;
    }
    while (v >= 128) { this.bytes[this.pos++] = (v % 128) | 0x80; v = Math.floor(v / 128); }
    this.bytes[this.pos++] = v;
  }

  private scalar(type: ScalarType, v: unknown): void {
    switch (type) {
      case "int64": case "int32": this.varint(v as number); return;
      case "float": this.dv.setFloat32(this.pos, v as number, true); this.pos += 4; return;
      case "double": this.dv.setFloat64(this.pos, v as number, true); this.pos += 8; return;
      case "bytes": case "string": {
        const b = type === "string" ? utf8.encode(v as string) : (v as Uint8Array);
        this.varint(b.length);
        this.bytes.set(b, this.pos);
        this.pos += b.length;
      }
    }
  }

  message(m: Message, s: MessageSchema): void {
    for (const [number, f] of s) {
      const v = m[f.name];
      if (v == null) continue;
      const values = f.repeated ? (v as unknown[]) : [v];
      if (typeof f.type === "function") {
        for (const x of values) {
          this.varint(number * 8 + LENGTH);
          this.varint(this.sizes.get(x as object)!);
          this.message(x as Message, f.type());
        }
      } else if (f.repeated && wireTypeOf(f.type) !== LENGTH) {
        if (values.length === 0) continue;
        this.varint(number * 8 + LENGTH);
        this.varint(this.sizes.get(values)!);
        for (const x of values) this.scalar(f.type, x);
      } else {
        for (const x of values) { this.varint(number * 8 + wireTypeOf(f.type)); this.scalar(f.type, x); }
      }
    }
  }
}
