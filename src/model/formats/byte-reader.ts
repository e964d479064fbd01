// SPDX-License-Identifier: MIT
// A bounds-checked little-endian cursor for the binary readers in this folder: every read names what it
// reads, and running past the end is a ModelFormatError (built by the caller, which knows the file).
import type { ModelFormatError } from "../../errors.js";

export type Fail = (what: string) => ModelFormatError;

export class ByteReader {
  private readonly dv: DataView;
  /** `truncation` is what running past `end` most likely means, for the message. */
  constructor(readonly bytes: Uint8Array, public pos: number, private readonly fail: Fail, readonly end = bytes.length, private readonly truncation = "truncated") {
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  get left(): number { return this.end - this.pos; }
  need(n: number, what: string): void {
    if (n > this.left) throw this.fail(`${what} needs ${n} bytes at offset ${this.pos} but only ${this.left} remain (${this.truncation})`);
  }
  u8(what: string): number { this.need(1, what); return this.bytes[this.pos++]; }
  u16(what: string): number { this.need(2, what); const v = this.dv.getUint16(this.pos, true); this.pos += 2; return v; }
  u32(what: string): number { this.need(4, what); const v = this.dv.getUint32(this.pos, true); this.pos += 4; return v; }
  i32(what: string): number { this.need(4, what); const v = this.dv.getInt32(this.pos, true); this.pos += 4; return v; }
  f64be(what: string): number { this.need(8, what); const v = this.dv.getFloat64(this.pos, false); this.pos += 8; return v; }
  /** A u64 as a number; values ≥ 2^53 cannot be a size or an offset in any file we read. */
  u64(what: string): number {
    this.need(8, what);
    const lo = this.dv.getUint32(this.pos, true), hi = this.dv.getUint32(this.pos + 4, true);
    if (hi >= 0x200000) throw this.fail(`${what} at offset ${this.pos} is ${(BigInt(hi) << 32n) | BigInt(lo)}, impossibly large (corrupt)`);
    this.pos += 8;
    return hi * 4294967296 + lo;
  }
  /** The next `n` bytes as a view (no copy). */
  take(n: number, what: string): Uint8Array {
    this.need(n, what);
    const v = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }
}
