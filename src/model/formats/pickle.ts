// SPDX-License-Identifier: MIT
// A Python pickle reader for the opcodes of protocols 2–5 that a saved state dict uses, which runs no
// code: GLOBAL resolves only through the caller's allow-list (anything else is refused by name before
// it is used), REDUCE and BUILD only call what that list returned, dicts are Maps and lists arrays, so
// no key from the file ever becomes an object property. Opcode semantics: CPython's Lib/pickletools.py.
import { ModelFormatError } from "../../errors.js";
import { ByteReader } from "./byte-reader.js";

/**
 * What a pickle decodes to. Lists are arrays, tuples frozen arrays (`isTuple`), dicts `PickleDict`s;
 * `O` is whatever the caller's allowed globals make (tensors, storages).
 */
export type PickleValue<O> =
  | null | boolean | number | bigint | string | Uint8Array
  | PickleValue<O>[] | PickleDict<O> | PickleGlobal<O> | O;

/** A Python dict or OrderedDict (insertion-ordered, like both). */
export class PickleDict<O> extends Map<PickleValue<O>, PickleValue<O>> {
  /** What a BUILD set on the object: a state dict's `_metadata`, for instance. */
  readonly attributes = new Map<string, PickleValue<O>>();
}

/** An allowed global: `call` is what REDUCE does with it; without `call` it is only a value (a storage type). */
export class PickleGlobal<O> {
  constructor(readonly module: string, readonly name: string, readonly call?: (args: readonly PickleValue<O>[]) => PickleValue<O>) {}
}

export const isTuple = (v: unknown): v is readonly unknown[] => Array.isArray(v) && Object.isFrozen(v);

export interface UnpickleOptions<O> {
  /** Names the pickle in messages, e.g. "PyTorch file model.pth, archive/data.pkl". */
  where: string;
  /** The allow-list: the global for module.name, or why it is refused. */
  global(module: string, name: string): PickleGlobal<O> | string;
  /** The object a persistent id (BINPERSID) stands for; without it persistent ids are refused. */
  persistentLoad?(pid: PickleValue<O>): PickleValue<O>;
}

/** The opcodes we run, by code, for messages. */
const OPCODES: Record<number, string> = {
  0x80: "PROTO", 0x95: "FRAME", 0x2e: "STOP", 0x28: "MARK", 0x30: "POP", 0x31: "POP_MARK", 0x32: "DUP",
  0x4e: "NONE", 0x88: "NEWTRUE", 0x89: "NEWFALSE", 0x4a: "BININT", 0x4b: "BININT1", 0x4d: "BININT2",
  0x8a: "LONG1", 0x8b: "LONG4", 0x47: "BINFLOAT", 0x58: "BINUNICODE", 0x8c: "SHORT_BINUNICODE",
  0x8d: "BINUNICODE8", 0x54: "BINSTRING", 0x55: "SHORT_BINSTRING", 0x42: "BINBYTES", 0x43: "SHORT_BINBYTES",
  0x8e: "BINBYTES8", 0x96: "BYTEARRAY8", 0x5d: "EMPTY_LIST", 0x29: "EMPTY_TUPLE", 0x7d: "EMPTY_DICT",
  0x61: "APPEND", 0x65: "APPENDS", 0x6c: "LIST", 0x74: "TUPLE", 0x85: "TUPLE1", 0x86: "TUPLE2", 0x87: "TUPLE3",
  0x64: "DICT", 0x73: "SETITEM", 0x75: "SETITEMS", 0x71: "BINPUT", 0x72: "LONG_BINPUT", 0x94: "MEMOIZE",
  0x68: "BINGET", 0x6a: "LONG_BINGET", 0x63: "GLOBAL", 0x93: "STACK_GLOBAL", 0x52: "REDUCE", 0x62: "BUILD",
  0x51: "BINPERSID",
};
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Opcodes we refuse by name: they build objects no state dict holds, or need code to run. */
const UNSUPPORTED: Record<number, string> = {
  0x81: "NEWOBJ", 0x92: "NEWOBJ_EX", 0x69: "INST", 0x6f: "OBJ", 0x82: "EXT1", 0x83: "EXT2", 0x84: "EXT4",
  0x8f: "EMPTY_SET", 0x90: "ADDITEMS", 0x91: "FROZENSET", 0x97: "NEXT_BUFFER", 0x98: "READONLY_BUFFER",
  0x49: "INT (protocol 0)", 0x4c: "LONG (protocol 0)", 0x46: "FLOAT (protocol 0)", 0x53: "STRING (protocol 0)",
  0x56: "UNICODE (protocol 0)", 0x70: "PUT (protocol 0)", 0x67: "GET (protocol 0)", 0x50: "PERSID (protocol 0)",
};

/**
 * Runs one pickle that starts at `bytes[start]`; returns its value and the offset after its STOP.
 * Every failure is a ModelFormatError naming `where`, the opcode and its offset.
 * @example
 * const { value } = unpickle(pkl, 0, { where: "data.pkl", global: (m, n) => `${m}.${n} is not allowed` });
 */
export function unpickle<O>(bytes: Uint8Array, start: number, opts: UnpickleOptions<O>): { value: PickleValue<O>; end: number } {
  type V = PickleValue<O>;
  let opAt = start;
  let opName = "";
  const fail = (what: string) => new ModelFormatError(`${opts.where}: ${what}${opName ? ` (pickle opcode ${opName} at offset ${opAt})` : ""}`);
  const r = new ByteReader(bytes, start, fail);
  const stack: V[] = [];
  const marks: number[] = []; // stack heights at each MARK: items below the top mark are out of reach
  const memo = new Map<number, V>();

  const floor = () => (marks.length ? marks[marks.length - 1] : 0);
  const pop = (): V => {
    if (stack.length <= floor()) throw fail("the stack is empty (corrupt pickle)");
    return stack.pop()!;
  };
  const top = (): V => {
    if (stack.length <= floor()) throw fail("the stack is empty (corrupt pickle)");
    return stack[stack.length - 1];
  };
  const popToMark = (): V[] => {
    if (!marks.length) throw fail("no MARK to pop to (corrupt pickle)");
    return stack.splice(marks.pop()!);
  };
  const text = (n: number, what: string): string => {
    try {
      return utf8.decode(r.take(n, what));
    } catch (e) {
      if (e instanceof ModelFormatError) throw e;
      throw fail(`${what} is not valid UTF-8`);
    }
  };
  const length = (v: number, what: string): number => {
    if (v < 0 || v > r.left) throw fail(`${what} claims ${v} bytes but ${r.left} remain (truncated or corrupt)`);
    return v;
  };
  const dictOf = (v: V, what: string): PickleDict<O> => {
    if (!(v instanceof PickleDict)) throw fail(`${what} on ${describe(v)}, not a dict`);
    return v;
  };
  const listOf = (v: V, what: string): V[] => {
    if (!Array.isArray(v) || isTuple(v)) throw fail(`${what} on ${describe(v)}, not a list`);
    return v;
  };
  const setItems = (d: PickleDict<O>, items: V[]) => {
    if (items.length % 2) throw fail("SETITEMS with an odd number of items (corrupt pickle)");
    for (let i = 0; i < items.length; i += 2) d.set(items[i], items[i + 1]);
  };
  const resolve = (module: V, name: V): PickleGlobal<O> => {
    if (typeof module !== "string" || typeof name !== "string") throw fail("a global's module and name must be strings");
    const g = opts.global(module, name);
    if (typeof g === "string") throw fail(`refused global '${module}.${name}': ${g}`);
    return g;
  };
  // Allowed callables and persistentLoad refuse bad arguments with a bare ModelFormatError: say where.
  const calling = (what: string, run: () => V): V => {
    try {
      return run();
    } catch (e) {
      if (e instanceof ModelFormatError) throw fail(`${what}: ${e.message}`);
      throw e;
    }
  };
  const memoIndex = (i: number): V => {
    if (!memo.has(i)) throw fail(`memo slot ${i} was never stored (corrupt pickle)`);
    return memo.get(i)!;
  };
  const long = (n: number): number | bigint => {
    if (n === 0) return 0;
    const b = r.take(n, "LONG");
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
    if (b[n - 1] & 0x80) v -= 1n << BigInt(8 * n); // two's complement
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  };

  for (;;) {
    opAt = r.pos;
    opName = "";
    const op = r.u8("an opcode");
    opName = OPCODES[op] ?? UNSUPPORTED[op] ?? `0x${op.toString(16).padStart(2, "0")}`;
    switch (op) {
      case 0x80: { // PROTO
        const v = r.u8("protocol");
        if (v < 2 || v > 5) throw fail(`protocol ${v}: this reader takes protocols 2 to 5 (what torch.save writes)`);
        break;
      }
      case 0x95: length(r.u64("frame length"), "FRAME"); break; // framing only groups opcodes
      case 0x2e: { // STOP
        if (marks.length || stack.length !== 1) throw fail(`${stack.length} items and ${marks.length} marks on the stack at STOP, expected one item (corrupt pickle)`);
        return { value: stack[0], end: r.pos };
      }
      case 0x28: marks.push(stack.length); break;
      case 0x30: pop(); break;
      case 0x31: popToMark(); break;
      case 0x32: stack.push(top()); break;
      case 0x4e: stack.push(null); break;
      case 0x88: stack.push(true); break;
      case 0x89: stack.push(false); break;
      case 0x4a: stack.push(r.i32("BININT")); break;
      case 0x4b: stack.push(r.u8("BININT1")); break;
      case 0x4d: stack.push(r.u16("BININT2")); break;
      case 0x8a: stack.push(long(r.u8("LONG1 length"))); break;
      case 0x8b: stack.push(long(length(r.i32("LONG4 length"), "LONG4"))); break;
      case 0x47: stack.push(r.f64be("BINFLOAT")); break;
      case 0x58: stack.push(text(length(r.u32("length"), "BINUNICODE"), "BINUNICODE")); break;
      case 0x8c: stack.push(text(r.u8("length"), "SHORT_BINUNICODE")); break;
      case 0x8d: stack.push(text(length(r.u64("length"), "BINUNICODE8"), "BINUNICODE8")); break;
      // Python 2 str (legacy torch.save under Python 2): torch.load decodes it as UTF-8 too.
      case 0x54: stack.push(text(length(r.i32("length"), "BINSTRING"), "BINSTRING")); break;
      case 0x55: stack.push(text(r.u8("length"), "SHORT_BINSTRING")); break;
      case 0x42: stack.push(r.take(length(r.u32("length"), "BINBYTES"), "BINBYTES").slice()); break;
      case 0x43: stack.push(r.take(r.u8("length"), "SHORT_BINBYTES").slice()); break;
      case 0x8e: stack.push(r.take(length(r.u64("length"), "BINBYTES8"), "BINBYTES8").slice()); break;
      case 0x96: stack.push(r.take(length(r.u64("length"), "BYTEARRAY8"), "BYTEARRAY8").slice()); break;
      case 0x5d: stack.push([]); break;
      case 0x29: stack.push(Object.freeze([]) as V); break;
      case 0x7d: stack.push(new PickleDict<O>()); break;
      case 0x61: { const v = pop(); listOf(top(), "APPEND").push(v); break; }
      case 0x65: { const items = popToMark(), list = listOf(top(), "APPENDS"); for (const v of items) list.push(v); break; }
      case 0x6c: stack.push(popToMark()); break;
      case 0x74: stack.push(Object.freeze(popToMark()) as V); break;
      case 0x85: { const a = pop(); stack.push(Object.freeze([a]) as V); break; }
      case 0x86: { const b = pop(), a = pop(); stack.push(Object.freeze([a, b]) as V); break; }
      case 0x87: { const c = pop(), b = pop(), a = pop(); stack.push(Object.freeze([a, b, c]) as V); break; }
      case 0x64: { const d = new PickleDict<O>(); setItems(d, popToMark()); stack.push(d); break; }
      case 0x73: { const v = pop(), k = pop(); dictOf(top(), "SETITEM").set(k, v); break; }
      case 0x75: { const items = popToMark(); setItems(dictOf(top(), "SETITEMS"), items); break; }
      case 0x71: memo.set(r.u8("BINPUT slot"), top()); break;
      case 0x72: memo.set(r.u32("LONG_BINPUT slot"), top()); break;
      case 0x94: memo.set(memo.size, top()); break;
      case 0x68: stack.push(memoIndex(r.u8("BINGET slot"))); break;
      case 0x6a: stack.push(memoIndex(r.u32("LONG_BINGET slot"))); break;
      case 0x63: { // GLOBAL: "module\nname\n"
        const line = () => {
          const nl = bytes.subarray(r.pos, Math.min(r.end, r.pos + 256)).indexOf(0x0a);
          if (nl < 0) throw fail("GLOBAL's names do not end in a newline within 256 bytes (truncated or corrupt)");
          return text(nl + 1, "GLOBAL name").slice(0, -1);
        };
        const module = line(), name = line();
        stack.push(resolve(module, name));
        break;
      }
      case 0x93: { const name = pop(), module = pop(); stack.push(resolve(module, name)); break; }
      case 0x52: { // REDUCE: callable(*args)
        const args = pop(), fn = pop();
        if (!(fn instanceof PickleGlobal) || !fn.call) throw fail(`REDUCE calls ${describe(fn)}, which is not an allowed callable`);
        if (!isTuple(args)) throw fail(`REDUCE's arguments are ${describe(args)}, not a tuple`);
        stack.push(calling(`${fn.module}.${fn.name}`, () => fn.call!(args as V[])));
        break;
      }
      case 0x62: { // BUILD: obj.__setstate__(state); allowed on dicts only (a state dict's attributes)
        const state = pop(), obj = top();
        if (!(obj instanceof PickleDict)) throw fail(`BUILD on ${describe(obj)}: only dicts may have state set`);
        const attrs = isTuple(state) && state.length === 2 ? state[0] : state; // (dict state, slot state)
        if (attrs === null) break;
        if (!(attrs instanceof PickleDict)) throw fail(`BUILD with state ${describe(attrs)}, not a dict`);
        for (const [k, v] of attrs) {
          if (typeof k !== "string") throw fail(`BUILD with an attribute name ${describe(k)}, not a string`);
          obj.attributes.set(k, v);
        }
        break;
      }
      case 0x51: { // BINPERSID
        const pid = pop();
        if (!opts.persistentLoad) throw fail("a persistent id where none is expected");
        stack.push(calling("the persistent id", () => opts.persistentLoad!(pid)));
        break;
      }
      default:
        throw fail(UNSUPPORTED[op] ? "this opcode is not one a state dict uses: not supported" : "unknown opcode (corrupt, or not a pickle)");
    }
  }
}

/** A value as messages name it. */
export function describe(v: unknown): string {
  if (v === null) return "None";
  if (typeof v === "string") return `the string '${v.length > 40 ? `${v.slice(0, 40)}…` : v}'`;
  if (typeof v === "number" || typeof v === "bigint") return `the number ${v}`;
  if (typeof v === "boolean") return v ? "True" : "False";
  if (v instanceof Uint8Array) return `${v.length} bytes`;
  if (v instanceof PickleDict) return `a dict of ${v.size}`;
  if (v instanceof PickleGlobal) return `the global ${v.module}.${v.name}`;
  if (Array.isArray(v)) return `a ${isTuple(v) ? "tuple" : "list"} of ${v.length}`;
  return "an object";
}
