// SPDX-License-Identifier: MIT
// PyTorch `.pth` files as torch.save writes them, to plain data: the zip format (torch ≥ 1.6:
// <folder>/data.pkl + <folder>/data/<key> storages) and the legacy format before it (a magic-number
// pickle, protocol and sys_info pickles, the object's pickle, the storage keys' pickle, then each
// storage as an 8-byte element count and its bytes). The pickles run through pickle.ts with an
// allow-list of what a state dict needs, so no code in the file runs. Which network a state dict is
// belongs to the layer above; `pickStateDict` only finds the weights in the usual wrappers.
import { ModelFormatError } from "../../errors.js";
import { ByteReader } from "./byte-reader.js";
import { describe, isTuple, PickleDict, PickleGlobal, unpickle, type PickleValue } from "./pickle.js";
import { decodeElements, DTYPE_BYTES, elementCount, isTensor, type Tensor, type TensorDtype } from "./tensor.js";
import { isZip, readZip, type ZipEntry } from "./zip.js";

/** A storage the file pickled by itself, outside any tensor (no state dict does this). */
export interface PthStorage { readonly storageKey: string; readonly dtype: TensorDtype; readonly numel: number }

/** What a .pth file holds: dicts (`PthDict`, a Map), lists, tuples (frozen arrays), numbers, strings, tensors. */
export type PthValue = PickleValue<Tensor | PthStorage>;
export type PthDict = PickleDict<Tensor | PthStorage>;

// The legacy format's first pickle holds torch/serialization.py's MAGIC_NUMBER as LONG1 (10 bytes).
const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_MAGIC_LONG1 = [0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];
const LEGACY_PROTOCOL = 1001;

/** True for a zip archive (torch ≥ 1.6) or a legacy torch.save stream (PROTO 2–5, a FRAME at 4+, the magic number). */
export function sniff(bytes: Uint8Array): boolean {
  if (isZip(bytes)) return true;
  if (bytes[0] !== 0x80 || !(bytes[1] >= 2 && bytes[1] <= 5)) return false;
  const at = bytes[2] === 0x95 ? 11 : 2; // PROTO, then FRAME + u64 length under protocol 4 and 5
  return LEGACY_MAGIC_LONG1.every((b, i) => bytes[at + i] === b);
}

/**
 * Decodes a .pth file to the object it pickled, with every tensor's data read (float32). Refuses,
 * with a ModelFormatError naming `label`, any global outside the allow-list (whole pickled models
 * included), compressed zip entries, big-endian files and every inconsistency of sizes and offsets.
 * @example
 * const sd = pickStateDict(decodePth(await readFile("2x-AniScale.pth"), "2x-AniScale.pth"));
 * sd.get("body.0.weight")!.shape; // [64, 3, 3, 3]
 */
export function decodePth(bytes: Uint8Array, label = "bytes"): PthValue {
  const fail = (what: string) => new ModelFormatError(`PyTorch file ${label}: ${what}`);
  if (isZip(bytes)) return decodeZip(bytes, label, fail);
  if (sniff(bytes)) return decodeLegacy(bytes, label, fail);
  throw fail("neither a zip archive (torch ≥ 1.6) nor a legacy torch.save stream (it must start with PK or the legacy magic number)");
}

// ---- the allow-list --------------------------------------------------------------------------------

class StorageType extends PickleGlobal<Tensor | PthStorage> {
  constructor(name: string, readonly dtype: TensorDtype) { super("torch", name); }
}

const STORAGE_TYPES: Record<string, TensorDtype> = {
  FloatStorage: "float32", HalfStorage: "float16", BFloat16Storage: "bfloat16", DoubleStorage: "float64",
  LongStorage: "int64", IntStorage: "int32", ShortStorage: "int16", CharStorage: "int8", ByteStorage: "uint8", BoolStorage: "bool",
};

/** A storage as a persistent id names it: elements [offset, offset + numel) of the storage `key`. */
class StorageRef implements PthStorage {
  constructor(readonly storageKey: string, readonly dtype: TensorDtype, readonly numel: number, readonly offset = 0) {}
}

interface PendingTensor { tensor: { data: Float32Array }; storage: StorageRef; offset: number; shape: number[]; stride: number[]; contiguous: boolean }

/** The unpickling of one file: its allowed globals, and the tensors waiting for their storage's bytes. */
class TorchUnpickler {
  readonly pending: PendingTensor[] = [];
  private readonly globals = new Map<string, PickleGlobal<Tensor | PthStorage>>();
  constructor() {
    type V = PthValue;
    const orderedDict = (args: readonly V[]): V => {
      const d = new PickleDict<Tensor | PthStorage>();
      if (args.length === 0) return d;
      const pairs = args[0];
      if (args.length !== 1 || !Array.isArray(pairs)) throw new ModelFormatError(`takes no argument or a list of pairs, not ${args.length} arguments`);
      for (const p of pairs) {
        if (!Array.isArray(p) || p.length !== 2) throw new ModelFormatError(`an item is ${describe(p)}, not a (key, value) pair`);
        d.set(p[0], p[1]);
      }
      return d;
    };
    const parameter = (args: readonly V[]): V => {
      if (!isTensor(args[0])) throw new ModelFormatError(`its data is ${describe(args[0])}, not a tensor`);
      return args[0];
    };
    const add = (module: string, name: string, call?: (args: readonly V[]) => V) => this.globals.set(`${module}.${name}`, new PickleGlobal(module, name, call));
    add("collections", "OrderedDict", orderedDict);
    add("typing", "OrderedDict", orderedDict); // an alias of the same class; spandrel's allow-list has it too
    add("torch._utils", "_rebuild_tensor_v2", (a) => this.rebuildTensor(a));
    add("torch._utils", "_rebuild_tensor", (a) => this.rebuildTensor(a)); // torch < 0.4
    add("torch._utils", "_rebuild_parameter", parameter);
    add("torch._utils", "_rebuild_parameter_with_state", parameter);
    for (const [name, dtype] of Object.entries(STORAGE_TYPES)) this.globals.set(`torch.${name}`, new StorageType(name, dtype));
  }

  global(module: string, name: string): PickleGlobal<Tensor | PthStorage> | string {
    const g = this.globals.get(`${module}.${name}`);
    if (g) return g;
    const wholeModel = /^[A-Z]/.test(name)
      ? ". If the file is a whole pickled model (torch.save(model)) rather than its weights, load it in Python with the code that defines it and save the state dict: torch.save(model.state_dict(), \"weights.pth\")"
      : "";
    return `only the globals a state dict needs are allowed (collections.OrderedDict, torch._utils._rebuild_tensor(_v2) and _rebuild_parameter, torch.*Storage), and nothing in the file runs${wholeModel}`;
  }

  /** The persistent id's storage type and element count: shared by both formats' ids. */
  storageType(t: PthValue, numel: PthValue): { dtype: TensorDtype; numel: number } {
    if (!(t instanceof StorageType)) throw new ModelFormatError(`the storage type is ${describe(t)}, not a torch.*Storage`);
    if (typeof numel !== "number" || !Number.isInteger(numel) || numel < 0) throw new ModelFormatError(`the storage size is ${describe(numel)}`);
    return { dtype: t.dtype, numel };
  }

  /** _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata]) */
  private rebuildTensor(args: readonly PthValue[]): Tensor {
    const [storage, offset, size, stride] = args;
    if (!(storage instanceof StorageRef)) throw new ModelFormatError(`its storage is ${describe(storage)}`);
    const ints = (v: PthValue, what: string): number[] => {
      if (!Array.isArray(v) || v.length > 64 || !v.every((d) => typeof d === "number" && Number.isInteger(d) && d >= 0)) {
        throw new ModelFormatError(`its ${what} is ${describe(v)}, not a tuple of at most 64 non-negative integers`);
      }
      return v as number[];
    };
    const shape = ints(size, "size"), strides = ints(stride, "stride");
    if (typeof offset !== "number" || !Number.isInteger(offset) || offset < 0) throw new ModelFormatError(`its storage offset is ${describe(offset)}`);
    if (strides.length !== shape.length) throw new ModelFormatError(`its size [${shape}] and stride [${strides}] differ in length`);
    const numel = elementCount(shape);
    if (numel < 0) throw new ModelFormatError(`its size [${shape}] has more elements than can exist`);
    let last = offset, contiguous = true;
    for (let d = shape.length - 1, expected = 1; d >= 0; d--) {
      last += (shape[d] - 1) * strides[d];
      if (shape[d] !== 1 && strides[d] !== expected) contiguous = false;
      expected *= shape[d];
    }
    // Checked here, before any allocation: the view lies inside its storage, and a view that repeats
    // elements (stride 0) may not need more memory than the storage itself.
    if (numel > 0 && (last >= storage.numel || numel > storage.numel)) {
      throw new ModelFormatError(`a tensor of size [${shape}], stride [${strides}] at offset ${offset} does not fit its storage '${storage.storageKey}' of ${storage.numel} elements (corrupt)`);
    }
    const tensor = { shape: Object.freeze([...shape]), dtype: storage.dtype, data: new Float32Array(0) };
    if (numel > 0) this.pending.push({ tensor, storage, offset, shape, stride: strides, contiguous });
    return tensor;
  }

  /**
   * Gives every tensor its data from `storageBytes(key)` (the storage's bytes, checked for size by the
   * caller). Contiguous tensors are views of the decoded storage; strided ones are copied, within a
   * budget of twice the storages' own size (plus 1 Mi elements), so that many views repeating one
   * storage (each may be as large as the storage) cannot multiply the memory a file needs.
   */
  fill(storageBytes: (s: StorageRef) => Uint8Array, fail: (what: string) => ModelFormatError): void {
    const decoded = new Map<string, Float32Array>();
    let budget = 1 << 20;
    for (const p of this.pending) {
      const key = p.storage.storageKey;
      let all = decoded.get(key);
      if (!all) {
        const b = storageBytes(p.storage);
        const out = decodeElements(b, 0, b.length / DTYPE_BYTES[p.storage.dtype], p.storage.dtype);
        if (!(out instanceof Float32Array)) throw fail(`storage '${key}' element ${out.inexact} is an integer that float32 cannot hold exactly`);
        decoded.set(key, all = out);
        budget += 2 * all.length;
      }
      const base = p.storage.offset + p.offset;
      const numel = elementCount(p.shape);
      if (p.contiguous) {
        p.tensor.data = all.subarray(base, base + numel);
      } else {
        if (numel > budget) throw fail(`its non-contiguous tensors need more memory than its storages hold; save them contiguous: {k: v.contiguous() for k, v in sd.items()}`);
        budget -= numel;
        p.tensor.data = gather(all, base, p.shape, p.stride, numel);
      }
    }
  }
}

/** Copies a strided view into a new row-major array (an odometer over the dimensions). */
function gather(src: Float32Array, base: number, shape: number[], stride: number[], numel: number): Float32Array {
  const out = new Float32Array(numel);
  const index = new Array<number>(shape.length).fill(0);
  let at = base;
  for (let i = 0; i < numel; i++) {
    out[i] = src[at];
    for (let d = shape.length - 1; d >= 0; d--) {
      at += stride[d];
      if (++index[d] < shape[d]) break;
      at -= stride[d] * shape[d];
      index[d] = 0;
    }
  }
  return out;
}

const PERSISTENT_ID_HELP = "expected ('storage', type, key, location, size…)";

// ---- zip (torch ≥ 1.6) ------------------------------------------------------------------------------

function decodeZip(bytes: Uint8Array, label: string, fail: (what: string) => ModelFormatError): PthValue {
  const entries = readZip(bytes, fail);
  const pickles = [...entries.keys()].filter((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (pickles.length !== 1) {
    throw fail(pickles.length ? `the archive holds ${pickles.length} <folder>/data.pkl entries, expected one` : "a zip archive without a <folder>/data.pkl entry: not a PyTorch file");
  }
  const folder = pickles[0].slice(0, -"data.pkl".length);
  if (entries.has(`${folder}constants.pkl`) || [...entries.keys()].some((n) => n.startsWith(`${folder}code/`))) {
    throw fail("a TorchScript archive (torch.jit.save), not a state dict: load it in Python with torch.jit.load and save its weights with torch.save(model.state_dict(), \"weights.pth\")");
  }
  const byteorder = entries.get(`${folder}byteorder`);
  if (byteorder && new TextDecoder().decode(byteorder.data()) !== "little") throw fail("the tensors are stored big-endian, which this reader does not take: save the file again on a little-endian machine");

  const u = new TorchUnpickler();
  const refs = new Map<string, StorageRef>();
  const { value } = unpickle<Tensor | PthStorage>(entries.get(pickles[0])!.data(), 0, {
    where: `PyTorch file ${label}, ${pickles[0]}`,
    global: (m, n) => u.global(m, n),
    persistentLoad(pid) {
      if (!isTuple(pid) || pid.length !== 5 || pid[0] !== "storage" || typeof pid[2] !== "string") throw new ModelFormatError(`${describe(pid)}: ${PERSISTENT_ID_HELP}`);
      const { dtype, numel } = u.storageType(pid[1], pid[4]);
      const key = pid[2];
      const seen = refs.get(key);
      if (seen && (seen.dtype !== dtype || seen.numel !== numel)) throw new ModelFormatError(`storage '${key}' is named twice with different types or sizes (corrupt)`);
      if (!seen) refs.set(key, new StorageRef(key, dtype, numel));
      return refs.get(key)!;
    },
  });
  u.fill((s) => {
    const entry: ZipEntry | undefined = entries.get(`${folder}data/${s.storageKey}`);
    if (!entry) throw fail(`storage '${s.storageKey}' has no entry ${folder}data/${s.storageKey} (truncated or corrupt)`);
    const data = entry.data(), want = s.numel * DTYPE_BYTES[s.dtype];
    if (data.length !== want) throw fail(`${entry.name} holds ${data.length} bytes, but its ${s.numel} ${s.dtype} elements need ${want} (corrupt)`);
    return data;
  }, fail);
  return value;
}

// ---- legacy (torch < 1.6, or _use_new_zipfile_serialization=False) ----------------------------------

function decodeLegacy(bytes: Uint8Array, label: string, fail: (what: string) => ModelFormatError): PthValue {
  const where = (what: string) => `PyTorch file ${label}, ${what}`;
  const none = () => "a header pickle needs no globals";
  let pos = 0;
  const header = (what: string) => {
    const { value, end } = unpickle<never>(bytes, pos, { where: where(what), global: none });
    pos = end;
    return value;
  };
  if (header("magic number") !== LEGACY_MAGIC) throw fail("the legacy magic number is wrong (corrupt)");
  const protocol = header("protocol version");
  if (protocol !== LEGACY_PROTOCOL) throw fail(`legacy protocol version ${describe(protocol)}, expected ${LEGACY_PROTOCOL}`);
  const sysInfo = header("sys_info");
  if (!(sysInfo instanceof PickleDict)) throw fail(`sys_info is ${describe(sysInfo)}, not a dict`);
  if (sysInfo.get("little_endian") === false) throw fail("the tensors are stored big-endian, which this reader does not take: save the file again on a little-endian machine");

  const u = new TorchUnpickler();
  const roots = new Map<string, { dtype: TensorDtype; numel: number }>();
  const object = unpickle<Tensor | PthStorage>(bytes, pos, {
    where: where("the pickled object"),
    global: (m, n) => u.global(m, n),
    persistentLoad(pid) {
      if (isTuple(pid) && pid[0] === "module") {
        throw new ModelFormatError("the file pickles a whole model (its module source is saved), not a state dict: load it in Python and save its weights with torch.save(model.state_dict(), \"weights.pth\")");
      }
      // ('storage', storage_type, root_key, location, root_size, view_metadata: None | (view_key, offset, view_size))
      if (!isTuple(pid) || pid.length !== 6 || pid[0] !== "storage" || typeof pid[2] !== "string") throw new ModelFormatError(`${describe(pid)}: ${PERSISTENT_ID_HELP}`);
      const { dtype, numel } = u.storageType(pid[1], pid[4]);
      const key = pid[2], seen = roots.get(key);
      if (seen && (seen.dtype !== dtype || seen.numel !== numel)) throw new ModelFormatError(`storage '${key}' is named twice with different types or sizes (corrupt)`);
      roots.set(key, { dtype, numel });
      const view = pid[5];
      if (view === null) return new StorageRef(key, dtype, numel);
      const [, offset, size] = isTuple(view) && view.length === 3 ? view : [];
      if (typeof offset !== "number" || typeof size !== "number" || !Number.isInteger(offset) || !Number.isInteger(size) || offset < 0 || size < 0 || offset + size > numel) {
        throw new ModelFormatError(`storage view ${describe(view)} does not lie within its storage '${key}' of ${numel} elements`);
      }
      return new StorageRef(key, dtype, size, offset);
    },
  });
  pos = object.end;
  const keys = unpickle<never>(bytes, pos, { where: where("the storage keys"), global: none });
  pos = keys.end;
  if (!Array.isArray(keys.value) || !keys.value.every((k) => typeof k === "string")) throw fail(`the storage keys are ${describe(keys.value)}, not a list of strings`);

  // The storages follow in the keys' order: an 8-byte element count, then the elements.
  const r = new ByteReader(bytes, pos, fail);
  const data = new Map<string, Uint8Array>();
  for (const key of keys.value as string[]) {
    const root = roots.get(key);
    if (!root) throw fail(`storage '${key}' is listed but no tensor uses it, so its element size is unknown (corrupt)`);
    if (data.has(key)) throw fail(`storage '${key}' is listed twice (corrupt)`);
    const at = r.pos, count = r.u64(`storage '${key}' element count`);
    if (count !== root.numel) throw fail(`storage '${key}' at offset ${at} holds ${count} elements, but the pickle says ${root.numel} (corrupt)`);
    data.set(key, r.take(count * DTYPE_BYTES[root.dtype], `storage '${key}' (${count} ${root.dtype})`));
  }
  if (r.left) throw fail(`${r.left} bytes follow the last storage at offset ${r.pos} (corrupt, or something appended)`);
  for (const key of roots.keys()) if (!data.has(key)) throw fail(`storage '${key}' is used but not in the file's storage list (truncated or corrupt)`);
  u.fill((s) => data.get(s.storageKey)!, fail);
  return object.value;
}

// ---- the state dict --------------------------------------------------------------------------------

/** Where training code wraps the weights, in the order spandrel (chaiNNer) tries them: `params_ema` before `params`, as Real-ESRGAN's inference does. */
const WRAPPERS = ["params_ema", "params-ema", "params", "model_state_dict", "state_dict", "model", "net"];
/** Prefixes removed when every key has them: nn.DataParallel's `module.`, and `netG.` (spandrel does the same). */
const PREFIXES = ["module.", "netG."];

/**
 * The flat name → tensor map a network is built from: the first of `params_ema`, `params-ema`,
 * `params`, `model_state_dict`, `state_dict`, `model`, `net` that is a dict, else the top level; its
 * string-keyed tensors, with a `module.` (or `netG.`) prefix shared by every key removed.
 * @example
 * const sd = pickStateDict(decodePth(bytes, "x.pth"), "x.pth"); // Map { "conv_first.weight" => Tensor, … }
 */
export function pickStateDict(obj: PthValue | ReadonlyMap<string, Tensor>, label = "bytes"): Map<string, Tensor> {
  const fail = (what: string) => new ModelFormatError(`PyTorch file ${label}: ${what}`);
  if (!(obj instanceof Map)) throw fail(`holds ${describe(obj)}, not a dict of tensors`);
  let dict: ReadonlyMap<unknown, unknown> = obj;
  for (const key of WRAPPERS) {
    const inner = dict.get(key);
    if (inner instanceof Map) { dict = inner; break; }
  }
  let out = new Map<string, Tensor>();
  for (const [k, v] of dict) if (typeof k === "string" && isTensor(v)) out.set(k, v);
  if (out.size === 0) {
    const keys = [...dict.keys()].slice(0, 8).map((k) => (typeof k === "string" ? `'${k}'` : describe(k)));
    throw fail(`no tensors found${keys.length ? `: its keys are ${keys.join(", ")}${dict.size > 8 ? ", …" : ""}` : " (an empty dict)"}`);
  }
  for (const prefix of PREFIXES) {
    if ([...out.keys()].every((k) => k.startsWith(prefix))) out = new Map([...out].map(([k, v]) => [k.slice(prefix.length), v]));
  }
  return out;
}
