// The restricted pickle VM (src/model/formats/pickle.ts): CPython's own pickles decode to the values it
// wrote; only the caller's allow-list resolves globals; every other opcode, stack misuse, memo miss,
// oversized length and truncation is a ModelFormatError naming the opcode and offset.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { ModelFormatError } from "../../src/errors.js";
import { isTuple, PickleDict, PickleGlobal, unpickle, type PickleValue } from "../../src/model/formats/pickle.js";
import { everyPrefixRefused, throwsFormatError } from "../format-helpers.js";
import { OP } from "../pickle-writer.js";

const test = suite("formats/pickle");

type V = PickleValue<never>;
/** A test allow-list: OrderedDict, and the _codecs.encode that protocol-2 pickles of bytes call. */
const globals = (module: string, name: string): PickleGlobal<never> | string => {
  if (module === "collections" && name === "OrderedDict") return new PickleGlobal(module, name, () => new PickleDict<never>());
  if (module === "_codecs" && name === "encode") return new PickleGlobal(module, name, ([s]) => Uint8Array.from(String(s), (c) => c.charCodeAt(0)));
  return "not allowed here";
};
const run = (bytes: number[] | Uint8Array, start = 0) => unpickle<never>(Uint8Array.from(bytes), start, { where: "t.pkl", global: globals }).value;
const hex = (h: string) => Uint8Array.from(h.replace("<X255>", "78".repeat(255)).match(/../g)!, (b) => parseInt(b, 16));

// pickle.dumps(obj, protocol=P) by CPython 3 for
//   obj = {"a": [1, -1, 255, 256, 65535, 65536, -2**31, 2**31, 2**63, -2**70], "f": [0.5, -1e300, inf],
//          "s": ("ééé", "y" + "x" * 255), "b": b"\0\1\xff", "n": None, "t": (True, False), "nested": [[[]]],
//          "od": OrderedDict([("k", 1)]), "shared": (shared, shared)}   with shared = [1, 2]
const PY2 = "80027d71002858010000006171015d7102284b014affffffff4bff4d00014dffff4a000001004a000000808a0500000080008a090000000000000080008a090000000000000000c06558010000006671035d710428473fe000000000000047fe37e43c8800759c477ff00000000000006558010000007371055806000000c3a9c3a9c3a97106580001000079<X255>71078671085801000000627109635f636f646563730a656e636f64650a710a58040000000001c3bf710b58060000006c6174696e31710c86710d52710e58010000006e710f4e5801000000747110888986711158060000006e657374656471125d71135d71145d7115616158020000006f64711663636f6c6c656374696f6e730a4f726465726564446963740a71172952711858010000006b71194b01735806000000736861726564711a5d711b284b014b0265681b86711c752e";
const PY5 = "800595e5010000000000007d94288c0161945d94284b014affffffff4bff4d00014dffff4a000001004a000000808a0500000080008a090000000000000080008a090000000000000000c0658c0166945d9428473fe000000000000047fe37e43c8800759c477ff0000000000000658c0173948c06c3a9c3a9c3a994580001000079<X255>9486948c01629443030001ff948c016e944e8c017494888986948c066e6573746564945d945d945d9461618c026f64948c0b636f6c6c656374696f6e73948c0b4f726465726564446963749493942952948c016b944b01738c06736861726564945d94284b014b026568198694752e";

test("CPython's protocol 2 and 5 pickles decode to the values it wrote (memo sharing kept)", () => {
  for (const [name, h] of [["protocol 2", PY2], ["protocol 5", PY5]]) {
    const v = run(hex(h)) as PickleDict<never>;
    assert.ok(v instanceof PickleDict, name);
    assert.equal(v.get("a"), [1, -1, 255, 256, 65535, 65536, -(2 ** 31), 2 ** 31, 2n ** 63n, -(2n ** 70n)], name);
    assert.equal(v.get("f"), [0.5, -1e300, Infinity], name);
    assert.equal(v.get("s"), ["ééé", `y${"x".repeat(255)}`], name);
    assert.ok(isTuple(v.get("s")) && !isTuple(v.get("a")), `${name}: tuples frozen, lists not`);
    assert.equal(Array.from(v.get("b") as Uint8Array), [0, 1, 255], name);
    assert.equal([v.get("n"), v.get("t"), v.get("nested")], [null, [true, false], [[[]]]], name);
    assert.equal([...(v.get("od") as PickleDict<never>)], [["k", 1]], name);
    const shared = v.get("shared") as V[];
    assert.ok(shared[0] === shared[1], `${name}: a memoised list is one object`);
  }
});

test("the rest of the subset: LONG4, BINUNICODE8, BINBYTES8, BYTEARRAY8, (SHORT_)BINSTRING, DICT, LIST, POP, POP_MARK, DUP, APPEND, MEMOIZE, LONG_BINPUT/GET", () => {
  const u64 = (n: number) => [n, 0, 0, 0, 0, 0, 0, 0];
  assert.is(run([OP.PROTO, 4, OP.LONG4, 2, 0, 0, 0, 0xff, 0x7f, OP.STOP]), 0x7fff);
  assert.is(run([OP.PROTO, 4, OP.BINUNICODE8, ...u64(2), 0x68, 0x69, OP.STOP]), "hi");
  assert.equal(Array.from(run([OP.PROTO, 4, OP.BINBYTES8, ...u64(1), 7, OP.STOP]) as Uint8Array), [7]);
  assert.equal(Array.from(run([OP.PROTO, 5, OP.BYTEARRAY8, ...u64(1), 9, OP.STOP]) as Uint8Array), [9]);
  assert.is(run([OP.PROTO, 2, OP.SHORT_BINSTRING, 1, 0x61, OP.STOP]), "a");
  assert.is(run([OP.PROTO, 2, OP.BINSTRING, 1, 0, 0, 0, 0x62, OP.STOP]), "b");
  assert.equal([...(run([OP.PROTO, 2, OP.MARK, OP.BININT1, 1, OP.BININT1, 2, OP.DICT, OP.STOP]) as PickleDict<never>)], [[1, 2]]);
  assert.equal(run([OP.PROTO, 2, OP.MARK, OP.NONE, OP.NEWTRUE, OP.LIST, OP.STOP]), [null, true]);
  assert.equal(run([OP.PROTO, 2, OP.NONE, OP.NEWTRUE, OP.POP, OP.STOP]), null);
  assert.equal(run([OP.PROTO, 2, OP.NONE, OP.MARK, OP.NEWTRUE, OP.NEWFALSE, OP.POP_MARK, OP.STOP]), null);
  const dup = run([OP.PROTO, 2, OP.EMPTY_LIST, OP.DUP, OP.TUPLE2, OP.STOP]) as V[][];
  assert.ok(dup[0] === dup[1]);
  assert.equal(run([OP.PROTO, 2, OP.EMPTY_LIST, OP.BININT1, 5, OP.APPEND, OP.STOP]), [5]);
  assert.equal(run([OP.PROTO, 4, OP.BININT1, 3, OP.MEMOIZE, OP.POP, OP.BINGET, 0, OP.STOP]), 3);
  assert.equal(run([OP.PROTO, 2, OP.BININT1, 4, OP.LONG_BINPUT, 0, 0, 1, 0, OP.POP, OP.LONG_BINGET, 0, 0, 1, 0, OP.STOP]), 4);
  assert.equal(run([OP.PROTO, 2, OP.BININT1, 1, OP.BININT1, 2, OP.BININT1, 3, OP.TUPLE3, OP.TUPLE1, OP.STOP]), [[1, 2, 3]]);
});

test("a pickle inside a larger file: the value and the offset after its STOP", () => {
  const bytes = Uint8Array.of(0xaa, OP.PROTO, 2, OP.BININT1, 7, OP.STOP, 0xbb);
  assert.equal(unpickle<never>(bytes, 1, { where: "t", global: globals }), { value: 7, end: 6 });
});

test("globals resolve only through the allow-list, before anything is called", () => {
  let called = false;
  const spy = (m: string, n: string) => (m === "os" ? new PickleGlobal<never>(m, n, () => { called = true; return null; }) : "no");
  const reduce = [OP.PROTO, 2, OP.GLOBAL, ...Buffer.from("builtins\neval\n"), OP.SHORT_BINUNICODE, 1, 0x31, OP.TUPLE1, OP.REDUCE, OP.STOP];
  throwsFormatError(() => unpickle<never>(Uint8Array.from(reduce), 0, { where: "t.pkl", global: spy }), /^t\.pkl: refused global 'builtins\.eval': no \(pickle opcode GLOBAL at offset 2\)$/, "GLOBAL");
  assert.not.ok(called);
  throwsFormatError(() => run([OP.PROTO, 2, OP.BININT1, 1, OP.EMPTY_TUPLE, OP.REDUCE, OP.STOP]), /REDUCE calls the number 1, which is not an allowed callable/, "REDUCE on a number");
  const valueOnly = (m: string, n: string) => new PickleGlobal<never>(m, n); // a storage type: a value, not callable
  throwsFormatError(() => unpickle<never>(Uint8Array.from([OP.PROTO, 2, OP.GLOBAL, ...Buffer.from("torch\nFloatStorage\n"), OP.EMPTY_TUPLE, OP.REDUCE, OP.STOP]), 0, { where: "t", global: valueOnly }),
    /REDUCE calls the global torch\.FloatStorage, which is not an allowed callable/, "REDUCE on a value");
  throwsFormatError(() => run([OP.PROTO, 2, ...[OP.GLOBAL, ...Buffer.from("collections\nOrderedDict\n")], OP.EMPTY_LIST, OP.REDUCE, OP.STOP]), /REDUCE's arguments are a list of 0, not a tuple/, "args not a tuple");
  throwsFormatError(() => run([OP.PROTO, 2, OP.GLOBAL, ...new Array(300).fill(0x61), OP.STOP]), /do not end in a newline within 256 bytes/, "endless GLOBAL");
  throwsFormatError(() => run([OP.PROTO, 2, OP.BINPERSID, OP.STOP]), /stack is empty/, "BINPERSID on nothing");
  throwsFormatError(() => run([OP.PROTO, 2, OP.NONE, OP.BINPERSID, OP.STOP]), /a persistent id where none is expected/, "BINPERSID without persistentLoad");
});

test("a '__proto__' key is a Map key: nothing reaches Object.prototype", () => {
  const key = [OP.SHORT_BINUNICODE, 9, ...Buffer.from("__proto__")];
  const v = run([OP.PROTO, 2, OP.EMPTY_DICT, ...key, OP.EMPTY_DICT, ...[OP.SHORT_BINUNICODE, 1, 0x78], OP.NEWTRUE, OP.SETITEM, OP.SETITEM, OP.STOP]) as PickleDict<never>;
  assert.ok((v.get("__proto__") as PickleDict<never>).get("x") === true);
  assert.is(({} as Record<string, unknown>).x, undefined);
  assert.is(Object.getPrototypeOf(v), PickleDict.prototype);
});

test("opcodes outside the subset are refused by name; unknown bytes as unknown", () => {
  const cases: [number[], RegExp][] = [
    [[OP.NEWOBJ], /opcode NEWOBJ at offset 2/], [[OP.INST], /INST/], [[OP.EMPTY_SET], /EMPTY_SET/], [[0x82, 1], /EXT1/],
    [[0x49, 0x31, 0x0a], /INT \(protocol 0\)/], [[0x70, 0x30, 0x0a], /PUT \(protocol 0\)/], [[0x97], /NEXT_BUFFER/],
  ];
  for (const [ops, re] of cases) throwsFormatError(() => run([OP.PROTO, 2, ...ops, OP.STOP]), new RegExp(`not one a state dict uses.*${re.source}`), re.source);
  throwsFormatError(() => run([OP.PROTO, 2, 0xff, OP.STOP]), /unknown opcode \(corrupt, or not a pickle\) \(pickle opcode 0xff at offset 2\)/, "0xff");
  throwsFormatError(() => run([OP.PROTO, 1, OP.NONE, OP.STOP]), /protocol 1: this reader takes protocols 2 to 5/, "protocol 1");
  throwsFormatError(() => run([OP.PROTO, 6, OP.NONE, OP.STOP]), /protocol 6/, "protocol 6");
});

test("stack discipline: underflow, items below a MARK, leftovers at STOP, wrong containers, memo misses", () => {
  const bad: [number[], RegExp][] = [
    [[OP.POP], /stack is empty.*POP at offset 2/],
    [[OP.NONE, OP.MARK, OP.TUPLE1], /stack is empty.*TUPLE1/], // the None sits below the mark
    [[OP.APPENDS], /no MARK to pop to/],
    [[OP.NONE, OP.NONE], /2 items and 0 marks on the stack at STOP/],
    [[OP.MARK, OP.NONE], /1 items and 1 marks/],
    [[OP.EMPTY_TUPLE, OP.NONE, OP.APPEND], /APPEND on a tuple of 0, not a list/],
    [[OP.EMPTY_LIST, OP.NONE, OP.NONE, OP.SETITEM], /SETITEM on a list of 0, not a dict/],
    [[OP.EMPTY_DICT, OP.MARK, OP.NONE, OP.SETITEMS], /odd number of items/],
    [[OP.BINGET, 3], /memo slot 3 was never stored.*BINGET/],
    [[OP.EMPTY_LIST, OP.EMPTY_DICT, OP.BUILD], /BUILD on a list of 0: only dicts may have state set/],
    [[OP.EMPTY_DICT, OP.NONE, OP.BUILD, OP.POP, OP.EMPTY_DICT, OP.BININT1, 1, OP.BUILD], /BUILD with state the number 1, not a dict/],
    [[OP.BINUNICODE, 2, 0, 0, 0, 0xc3, 0x28], /BINUNICODE is not valid UTF-8/],
  ];
  for (const [ops, re] of bad) throwsFormatError(() => run([OP.PROTO, 2, ...ops, OP.STOP]), re, re.source);
});

test("length fields larger than the rest of the file fail at once, without allocating", () => {
  const ff = [0xff, 0xff, 0xff, 0xff];
  const bad: [number[], RegExp][] = [
    [[OP.BINUNICODE, ...ff], /BINUNICODE claims 4294967295 bytes but 1 remain/],
    [[OP.BINBYTES8, 0, 0, 0, 0, 0, 0, 0x10, 0], /BINBYTES8 claims 4503599627370496 bytes but 1 remain/],
    [[OP.BINBYTES8, ...ff, ...ff], /length at offset 3 is 18446744073709551615, impossibly large/],
    [[OP.LONG4, 0xff, 0xff, 0xff, 0x7f], /LONG4 claims 2147483647 bytes/],
    [[OP.BINSTRING, ...ff], /BINSTRING claims -1 bytes/],
    [[OP.FRAME, 0, 0, 0, 0, 1, 0, 0, 0], /FRAME claims 4294967296 bytes/],
  ];
  for (const [ops, re] of bad) throwsFormatError(() => run([OP.PROTO, 4, ...ops, OP.STOP]), re, re.source);
});

test("200 000 nested lists decode (the VM does not recurse)", () => {
  const depth = 200_000;
  const ops = [OP.PROTO, 2, ...new Array(depth).fill(OP.EMPTY_LIST), ...new Array(depth - 1).fill(OP.APPEND), OP.STOP];
  let v = run(ops), n = 1;
  while (Array.isArray(v) && v.length) { v = v[0]; n++; }
  assert.is(n, depth);
});

test("truncated at every length: a ModelFormatError each time", () => {
  const b = hex(PY5);
  assert.is(everyPrefixRefused(b, (p) => run(p), "protocol 5"), b.length);
  // Never another error type, whatever the bytes: a sweep of single-byte corruptions.
  for (let i = 0; i < b.length; i += 3) {
    const c = b.slice();
    c[i] ^= 0x5a;
    try { run(c); } catch (e) { if (!(e instanceof ModelFormatError)) assert.unreachable(`byte ${i}: ${(e as Error).name}: ${(e as Error).message}`); }
  }
});

test.run();
