// SPDX-License-Identifier: MIT
// srgan-rust's pretrained `.rsr` networks: xz → byte un-shuffle (stride 4) → bincode descriptor (old or
// new header) → parameter arrays, each checked against the shape the fractal graph needs; the graph is
// built by ../families/srgan-rust.ts. The format is specified in ../shared/docs/srgan-rust-rsr.md.
import { ModelFormatError } from "../../errors.js";
import { validateGraph, type ValidatedGraph } from "../graph.js";
import { rsrGraph, rsrParameterSpec, sameShape, type RsrArray, type RsrHyper } from "../families/srgan-rust.js";

/** Every .rsr file is one xz stream: these are the xz stream-header magic bytes. */
const XZ_MAGIC = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];
/** Decompressed size beyond which we stop: the real networks are 1.4 MB; this bounds a hostile stream. */
const MAX_PAYLOAD_BYTES = 256 << 20;

export interface RsrDescriptor extends RsrHyper {
  /** 'old': factor, log_depth, gnf (the published files); 'new': factor, width, log_depth, gnf. */
  header: "old" | "new";
  globalBias: boolean;
}

export function isRsr(bytes: Uint8Array): boolean {
  return bytes.length >= XZ_MAGIC.length && XZ_MAGIC.every((b, i) => bytes[i] === b);
}

/**
 * Decodes the bytes of an srgan-rust `.rsr` file into a validated graph.
 * @example
 * const graph = await decodeRsr(await readFile("natural.rsr"), "natural.rsr"); // graph.scale === 4
 */
export async function decodeRsr(bytes: Uint8Array, label = "bytes"): Promise<ValidatedGraph> {
  const fail = (what: string, cause?: unknown) => new ModelFormatError(`srgan-rust network ${label}: ${what}`, { cause });
  if (!isRsr(bytes)) throw fail("not an xz stream (an .rsr file starts with FD 37 7A 58 5A 00)");
  // A single xz stream ends with the footer magic "YZ"; checking it first names truncation plainly
  // instead of leaving it to the decoder's generic buffer error.
  if (bytes.length < 32 || bytes[bytes.length - 2] !== 0x59 || bytes[bytes.length - 1] !== 0x5a) {
    throw fail(`the xz stream has no footer (${bytes.length} bytes): the file is truncated or has bytes appended; download it again`);
  }
  const payload = await xzDecompress(bytes, fail);
  const { desc, arrays } = parseRsrPayload(payload, label);
  const name = label === "bytes" ? "srgan-rust" : (label.split(/[\\/]/).pop() ?? label).replace(/\.rsr$/i, "");
  return validateGraph(rsrGraph(desc, arrays, name));
}

type Fail = (what: string, cause?: unknown) => ModelFormatError;

// xz-embedded's return codes, as the xz-decompress wrapper reports them in its error message.
const XZ_ERRORS: Record<number, string> = {
  2: "uses an xz integrity check the decoder does not support",
  3: "needs more memory than the xz decoder could allocate",
  4: "needs a larger xz dictionary than the decoder allows",
  5: "is not a valid xz stream (bad header)",
  6: "uses xz options the decoder does not support",
  7: "is corrupt (xz data or checksum error)",
  8: "ends early or has bytes after the xz stream (truncated or padded file)",
};

interface XzModule { XzReadableStream?: new (s: ReadableStream<Uint8Array>) => ReadableStream<Uint8Array> }

/** Decompresses one whole xz stream. Every failure becomes a ModelFormatError; the decoder's lock is always released. */
async function xzDecompress(bytes: Uint8Array, fail: Fail): Promise<Uint8Array> {
  // Loaded on first use: only .rsr files need it. It is a CommonJS/UMD bundle, so under Node's ESM
  // loader its exports sit on `default`; bundlers may expose them directly.
  const mod = (await import("xz-decompress")) as unknown as XzModule & { default?: XzModule };
  const Xz = mod.XzReadableStream ?? mod.default?.XzReadableStream;
  if (!Xz) throw fail("the xz decoder (package xz-decompress) did not load");
  const source = new ReadableStream<Uint8Array>({ start(c) { c.enqueue(bytes); c.close(); } });
  const reader = new Xz(source).getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  let idle = 0;
  for (;;) {
    let r: ReadableStreamReadResult<Uint8Array>;
    try {
      r = await reader.read();
    } catch (cause) {
      const code = Number(/error code (\d+)/.exec(String((cause as Error)?.message))?.[1]);
      throw fail(`the file ${XZ_ERRORS[code] ?? `cannot be decompressed (${(cause as Error)?.message ?? cause})`}`, cause);
    }
    if (r.done) break;
    total += r.value.length;
    // Guards against a decoder that neither ends nor makes progress, and against decompression bombs.
    idle = r.value.length === 0 ? idle + 1 : 0;
    if (total > MAX_PAYLOAD_BYTES || idle > 100_000) {
      await reader.cancel().catch(() => undefined);
      throw fail(total > MAX_PAYLOAD_BYTES ? `decompresses to more than ${MAX_PAYLOAD_BYTES >> 20} MiB: not an srgan-rust network` : "the xz decoder stopped making progress (corrupt file)");
    }
    chunks.push(r.value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) { out.set(c, at); at += c.length; }
  return out;
}

/**
 * Inverts srgan-rust's byte shuffle: the writer stored every byte at index ≡0 (mod 4), then ≡1, ≡2, ≡3
 * (so f32 exponents sit together and compress well). Plane k holds ⌈(n−k)/4⌉ bytes.
 */
export function unshuffleBytes(d: Uint8Array): Uint8Array {
  const n = d.length;
  const out = new Uint8Array(n);
  let src = 0;
  for (let k = 0; k < 4; k++) for (let i = k; i < n; i += 4) out[i] = d[src++];
  return out;
}

/** The forward shuffle (used to write files in tests and tools). */
export function shuffleBytes(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(b.length);
  let dst = 0;
  for (let k = 0; k < 4; k++) for (let i = k; i < b.length; i += 4) out[dst++] = b[i];
  return out;
}

/** Bounds-checked little-endian reader over the un-shuffled payload. */
class Reader {
  pos = 0;
  constructor(readonly b: Uint8Array, private readonly dv = new DataView(b.buffer, b.byteOffset, b.byteLength)) {}
  get left(): number { return this.b.length - this.pos; }
  need(n: number, what: string): void {
    if (n > this.left) throw new ModelFormatError(`${what} needs ${n} bytes at offset ${this.pos} but only ${this.left} remain (truncated)`);
  }
  u8(what: string): number { this.need(1, what); return this.b[this.pos++]; }
  u32(what: string): number { this.need(4, what); const v = this.dv.getUint32(this.pos, true); this.pos += 4; return v; }
  /** bincode u64 as a JS number; anything ≥ 2^53 is garbage here, reported as such. */
  u64(what: string): number {
    this.need(8, what);
    const lo = this.dv.getUint32(this.pos, true), hi = this.dv.getUint32(this.pos + 4, true);
    if (hi >= 0x200000) throw new ModelFormatError(`${what} at offset ${this.pos} is ${(BigInt(hi) << 32n) | BigInt(lo)}, impossibly large (corrupt)`);
    this.pos += 8;
    return hi * 4294967296 + lo;
  }
}

interface Parsed { desc: Omit<RsrDescriptor, "width" | "globalBias"> & { width?: number }; arrays: RsrArray[] }

/** Parses the bincode descriptor with one header layout; the file must be consumed exactly. */
function parseLayout(b: Uint8Array, header: "old" | "new"): Parsed {
  const r = new Reader(b);
  const factor = r.u32("factor");
  const width = header === "new" ? r.u32("width") : undefined;
  const logDepth = r.u32("log_depth");
  const globalNodeFactor = r.u32("global_node_factor");
  // Sane ranges: PixelShuffle handles r ≤ 8; 2^10 layers and g ≤ 16 are far past any trained network.
  if (factor < 1 || factor > 8) throw new ModelFormatError(`factor ${factor} is outside [1, 8]`);
  if (width !== undefined && (width < 1 || width > 1024)) throw new ModelFormatError(`width ${width} is outside [1, 1024]`);
  if (logDepth > 10) throw new ModelFormatError(`log_depth ${logDepth} is outside [0, 10]`);
  if (globalNodeFactor > 16) throw new ModelFormatError(`global_node_factor ${globalNodeFactor} is outside [0, 16]`);
  const count = r.u64("parameter count");
  // Each array takes at least 1 + 8 + 8 bytes (version, ndim, element count).
  if (count > r.left / 17) throw new ModelFormatError(`parameter count ${count} cannot fit in the ${r.left} bytes that follow (truncated or corrupt)`);
  const arrays: RsrArray[] = [];
  for (let a = 0; a < count; a++) {
    const what = `array #${a}`;
    const version = r.u8(`${what} version`);
    if (version !== 1) throw new ModelFormatError(`${what} at offset ${r.pos - 1} has serialisation version ${version}, expected 1 (corrupt)`);
    const ndim = r.u64(`${what} ndim`);
    if (ndim < 1 || ndim > 8) throw new ModelFormatError(`${what} has ${ndim} dimensions, expected 1 to 8 (corrupt)`);
    const shape: number[] = [];
    let n = 1;
    for (let i = 0; i < ndim; i++) {
      const d = r.u64(`${what} dim ${i}`);
      n *= d;
      // Checked while multiplying, so a corrupt dim never leads to a huge allocation.
      if (d < 1 || n * 4 > r.left) throw new ModelFormatError(`${what} has dims [${[...shape, d]}…]: ${d < 1 ? "a zero dimension" : "more data than the file holds"} (corrupt or truncated)`);
      shape.push(d);
    }
    const len = r.u64(`${what} element count`);
    if (len !== n) throw new ModelFormatError(`${what} has shape [${shape}] (${n} elements) but stores ${len} elements (corrupt)`);
    r.need(4 * n, `${what} data`);
    // Copied out so the floats are 4-byte aligned (wasm hosts are little-endian, as bincode is).
    const data = new Float32Array(b.slice(r.pos, r.pos + 4 * n).buffer);
    r.pos += 4 * n;
    for (let i = 0; i < n; i++) if (!Number.isFinite(data[i])) throw new ModelFormatError(`${what} value ${i} is ${data[i]} (corrupt)`);
    arrays.push({ shape, data });
  }
  if (r.left !== 0) throw new ModelFormatError(`${r.left} bytes follow the last array (the descriptor must end the file exactly)`);
  return { desc: { factor, width, logDepth, globalNodeFactor, header }, arrays };
}

/**
 * Un-shuffles and parses a decompressed .rsr payload and checks every array against the graph's needs.
 * Both header layouts are tried; the one that consumes the buffer exactly with sane counts wins.
 */
export function parseRsrPayload(shuffled: Uint8Array, label = "bytes"): { desc: RsrDescriptor; arrays: RsrArray[] } {
  const fail = (what: string) => new ModelFormatError(`srgan-rust network ${label}: ${what}`);
  const b = unshuffleBytes(shuffled);
  const tries = (["old", "new"] as const).map((header) => {
    try {
      return { header, parsed: parseLayout(b, header) };
    } catch (e) {
      if (!(e instanceof ModelFormatError)) throw e;
      return { header, error: e };
    }
  });
  const ok = tries.filter((t) => t.parsed);
  if (ok.length === 0) {
    const [o, n] = tries;
    throw fail(`the descriptor is not readable (${b.length} bytes decompressed). As the published layout: ${o.error!.message}. As the layout with a width field: ${n.error!.message}`);
  }
  // Both layouts parsing exactly is practically impossible; prefer the one whose shapes fit.
  let lastError: ModelFormatError | undefined;
  for (const t of ok) {
    try {
      return checkParameters(t.parsed!, label);
    } catch (e) {
      if (!(e instanceof ModelFormatError)) throw e;
      lastError = e;
    }
  }
  throw lastError!;
}

function checkParameters({ desc, arrays }: Parsed, label: string): { desc: RsrDescriptor; arrays: RsrArray[] } {
  const fail = (what: string) => new ModelFormatError(`srgan-rust network ${label}: ${what}`);
  const g = desc.globalNodeFactor;
  // The old header has no width: it is the output-channel count of the first conv (J(0) = {1}).
  const firstConv = arrays[g > 0 ? 3 : 0];
  const width = desc.width ?? firstConv?.shape[0];
  if (!width) throw fail(`has ${arrays.length} arrays, too few to hold the first conv (array #${g > 0 ? 3 : 0})`);
  const base = { ...desc, width };
  const plain = rsrParameterSpec({ ...base, globalBias: false });
  const biased = rsrParameterSpec({ ...base, globalBias: true });
  const globalBias = arrays.length !== plain.length && arrays.length === biased.length;
  const spec = globalBias ? biased : plain;
  const hyper = `factor ${desc.factor}, width ${width}, log_depth ${desc.logDepth}, global_node_factor ${g}`;
  if (arrays.length !== spec.length) {
    const alt = biased.length !== plain.length ? ` (or ${biased.length} with global biases)` : "";
    throw fail(`has ${arrays.length} arrays; a network with ${hyper} has ${plain.length}${alt}`);
  }
  spec.forEach((p, i) => {
    if (!sameShape(arrays[i].shape, p.shape)) throw fail(`array #${i} (${p.name}) has shape [${arrays[i].shape}], expected [${p.shape}] for ${hyper}`);
  });
  return { desc: { ...base, globalBias }, arrays };
}

