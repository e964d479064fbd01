// SPDX-License-Identifier: MIT
// ncnn networks, two files, to plain data: the text `.param` (magic 7767517, layer and blob counts, then
// per layer its type, name, input and output blob names and `id=value` params) and the `.bin`, read
// layer by layer in the order and with the sizes ncnn's own loader uses (src/net.cpp, src/paramdict.cpp,
// src/modelbin.cpp and each layer's load_model). A layer whose weights this reader cannot size is an
// error naming it, never a silent misalignment, and the .bin must be consumed exactly.
import { ModelFormatError } from "../../errors.js";
import { ByteReader } from "./byte-reader.js";
import { decodeElements } from "./tensor.js";

/** An int, a float, an array of either, or (newer ncnn) a string. */
export type NcnnParamValue = number | number[] | string;

export interface NcnnLayer {
  readonly type: string;
  readonly name: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  /** By param id (0–31); an array param written `-23300-id=n,a,b,…` is stored under `id`. */
  readonly params: ReadonlyMap<number, NcnnParamValue>;
  /** 1-based line of the .param where the layer starts, for messages. */
  readonly line: number;
}

export interface NcnnParamFile { readonly layers: readonly NcnnLayer[]; readonly blobCount: number }

/**
 * A layer with its weights from the .bin, float32 in ncnn's order, by name: `weight` and `bias`
 * (Convolution, ConvolutionDepthWise, Deconvolution, DeconvolutionDepthWise, InnerProduct), `slope`
 * (PReLU), `scale` and `bias` (Scale), `slope`, `mean`, `variance`, `bias` (BatchNorm); empty for
 * layers without weights.
 */
export interface NcnnWeightedLayer extends NcnnLayer { readonly weights: ReadonlyMap<string, Float32Array> }

export interface NcnnNetwork { readonly layers: readonly NcnnWeightedLayer[]; readonly blobCount: number }

export interface NcnnLabels { param: string; bin: string }

const MAGIC = "7767517";
/** A .param this large is not a network description (the largest real ones are a few hundred KB). */
const MAX_PARAM_BYTES = 64 << 20;
/** ncnn's NCNN_MAX_PARAM_COUNT. */
const PARAM_IDS = 32;
/** Array params are written with id −23300 − k. */
const ARRAY_KEY = -23300;

/** True when the .param text starts with the magic number 7767517. */
export function sniff(param: Uint8Array): boolean {
  let i = param[0] === 0xef && param[1] === 0xbb && param[2] === 0xbf ? 3 : 0; // UTF-8 BOM
  while (i < param.length && (param[i] === 0x20 || param[i] === 0x09 || param[i] === 0x0d || param[i] === 0x0a)) i++;
  for (let k = 0; k < MAGIC.length; k++) if (param[i + k] !== MAGIC.charCodeAt(k)) return false;
  const after = param[i + MAGIC.length];
  return after === undefined || after === 0x20 || after === 0x09 || after === 0x0d || after === 0x0a;
}

/**
 * Decodes an ncnn network from its two files.
 * @example
 * const net = decodeNcnn({ param: await readFile("x4.param"), bin: await readFile("x4.bin") }, { param: "x4.param", bin: "x4.bin" });
 * net.layers[2].type; // "Convolution"; net.layers[2].weights.get("weight")!.length === 1728
 */
export function decodeNcnn(files: { param: string | Uint8Array; bin: Uint8Array }, labels: NcnnLabels = { param: "param", bin: "bin" }): NcnnNetwork {
  const parsed = parseNcnnParam(files.param, labels.param);
  const weights = readNcnnBin(parsed.layers, files.bin, labels.bin);
  return { blobCount: parsed.blobCount, layers: parsed.layers.map((l, i) => ({ ...l, weights: weights[i] })) };
}

// ---- .param ----------------------------------------------------------------------------------------

/** Parses the text .param. ncnn reads it as a stream of whitespace-separated tokens, and so do we. */
export function parseNcnnParam(param: string | Uint8Array, label = "param"): NcnnParamFile {
  const fail = (what: string) => new ModelFormatError(`ncnn param file ${label}: ${what}`);
  let text: string;
  if (typeof param === "string") {
    text = param;
  } else {
    if (param.length > MAX_PARAM_BYTES) throw fail(`${param.length} bytes: larger than any network description (limit ${MAX_PARAM_BYTES})`);
    if (param[0] === 0xdd && param[1] === 0x84 && param[2] === 0x76 && param[3] === 0x00) {
      throw fail("a binary .param.bin (ncnn2mem output): this reader takes the text .param");
    }
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(param);
    } catch {
      throw fail("not UTF-8 text (a .param is text; did you pass the .bin?)");
    }
  }
  if (text.length > MAX_PARAM_BYTES) throw fail(`${text.length} characters: larger than any network description (limit ${MAX_PARAM_BYTES})`);
  const s = new Scanner(text.replace(/^\uFEFF/, ""), fail);
  const count = (what: string, min: number, where?: string) => {
    const t = s.next(where ? `${where}: ${what}` : what);
    if (!/^\d{1,9}$/.test(t) || Number(t) < min) throw fail(`${where ?? `line ${s.line}`}: ${what} is '${t}', expected an integer ≥ ${min}`);
    return Number(t);
  };
  const magic = s.next("the magic number");
  if (magic !== MAGIC) throw fail(`starts with '${magic.slice(0, 20)}', not the magic number ${MAGIC} (not an ncnn .param, or one too old: regenerate it with a current ncnn)`);
  const layerCount = count("the layer count", 1), blobCount = count("the blob count", 1);

  const layers: NcnnLayer[] = [];
  const blobs = new Set<string>();
  for (let i = 0; i < layerCount; i++) {
    if (s.atEnd()) throw fail(`declares ${layerCount} layers but ends after ${i} (truncated)`);
    const type = s.next("a layer type"), line = s.line;
    const name = s.next(`layer ${i}'s name`);
    const where = `line ${line}, layer ${i} '${name}' (${type})`;
    const nIn = count("the input count", 0, where), nOut = count("the output count", 0, where);
    const names = (n: number, what: string) => {
      const out: string[] = []; // pushed one by one: a corrupt count runs out of tokens, not of memory
      for (let k = 0; k < n; k++) out.push(s.next(`${where}: ${what} ${k}`));
      return out;
    };
    const inputs = names(nIn, "input"), outputs = names(nOut, "output");
    // ncnn gives every new blob name a slot: outputs, and inputs that no layer produced before.
    for (const b of [...inputs, ...outputs]) blobs.add(b);
    if (blobs.size > blobCount) throw fail(`${where}: more than the ${blobCount} blobs the header declares (corrupt)`);
    const params = new Map<number, NcnnParamValue>();
    while (/^[+-]?\d+=/.test(s.peek())) {
      const [id, value] = parseParam(s, (what) => fail(`${where}: ${what}`));
      params.set(id, value);
    }
    layers.push({ type, name, inputs, outputs, params, line });
  }
  if (!s.atEnd()) throw fail(`line ${s.line}: text after the ${layerCount} layers the header declares ('${s.peek().slice(0, 20)}'): the counts are wrong or the file is corrupt`);
  return { layers, blobCount };
}

/** Whitespace-separated tokens, with the current line for messages. */
class Scanner {
  private pos = 0;
  line = 1;
  constructor(readonly text: string, private readonly fail: (what: string) => ModelFormatError) {}
  private skip(): void {
    for (; this.pos < this.text.length; this.pos++) {
      const c = this.text.charCodeAt(this.pos);
      if (c === 0x0a) this.line++;
      else if (c !== 0x20 && c !== 0x09 && c !== 0x0d) break;
    }
  }
  atEnd(): boolean { this.skip(); return this.pos >= this.text.length; }
  peek(): string {
    this.skip();
    const end = this.tokenEnd();
    return this.text.slice(this.pos, end);
  }
  next(what: string): string {
    this.skip();
    if (this.pos >= this.text.length) throw this.fail(`${what} is missing at the end of the file (truncated)`);
    const end = this.tokenEnd();
    const t = this.text.slice(this.pos, end);
    this.pos = end;
    return t;
  }
  /** The rest of a quoted string value that contains spaces, up to its closing quote on this line. */
  untilQuote(): string {
    const end = this.text.indexOf('"', this.pos), nl = this.text.indexOf("\n", this.pos);
    if (end < 0 || (nl >= 0 && nl < end)) return "";
    const t = this.text.slice(this.pos, end + 1);
    this.pos = end + 1;
    return t;
  }
  private tokenEnd(): number {
    let end = this.pos;
    while (end < this.text.length) {
      const c = this.text.charCodeAt(end);
      if (c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a) break;
      end++;
    }
    return end;
  }
}

/** One `id=value` (paramdict.cpp): a float if it has '.', 'e' or 'E', else an int; a string if it starts with a letter or '"'. */
function parseParam(s: Scanner, fail: (what: string) => ModelFormatError): [number, NcnnParamValue] {
  const token = s.next("a param");
  const eq = token.indexOf("=");
  const key = Number(token.slice(0, eq));
  let value = token.slice(eq + 1);
  const isArray = key <= ARRAY_KEY;
  const id = isArray ? ARRAY_KEY - key : key;
  if (!(id >= 0 && id < PARAM_IDS)) throw fail(`param id ${key} is outside [0, ${PARAM_IDS}) (corrupt)`);
  const scalar = (v: string, float: boolean): number => {
    if (float) {
      const f = Number(v);
      if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(v) || !Number.isFinite(f)) throw fail(`param ${id}: '${v}' is not a number`);
      return Math.fround(f);
    }
    if (!/^[+-]?\d+$/.test(v) || Math.abs(Number(v)) > 0x7fffffff) throw fail(`param ${id}: '${v}' is not a 32-bit integer`);
    return Number(v);
  };
  const isFloat = (v: string) => /[.eE]/.test(v);
  if (isArray) { // old style: count, then the elements
    const [n, ...items] = value.split(",");
    const len = scalar(n, false);
    if (len !== items.length) throw fail(`array param ${id} declares ${len} elements but has ${items.length}`);
    return [id, items.map((v) => scalar(v, isFloat(v)))];
  }
  if (/^[A-Za-z"]/.test(value)) { // a string, maybe quoted with spaces inside
    if (value.startsWith('"') && (value.length === 1 || !value.endsWith('"'))) value += s.untilQuote();
    return [id, value.replace(/^"/, "").replace(/"$/, "")];
  }
  if (value.includes(",")) { // new style array: the first element's type is the array's
    const items = value.split(",");
    const float = isFloat(items[0]);
    return [id, items.map((v) => scalar(v, float))];
  }
  return [id, scalar(value, isFloat(value))];
}

// ---- .bin ------------------------------------------------------------------------------------------

/** Layer types that have no load_model in ncnn (src/layer/*.cpp): they read nothing from the .bin. */
const WEIGHTLESS = new Set([
  "AbsVal", "ArgMax", "BNLL", "BinaryOp", "CELU", "Cast", "Clip", "Concat", "CopyTo", "Crop", "CumulativeSum",
  "DeepCopy", "DetectionOutput", "Diag", "Dropout", "ELU", "Einsum", "Eltwise", "Erf", "Exp", "ExpandDims",
  "Flatten", "Flip", "Fold", "GELU", "GLU", "GridSample", "HardSigmoid", "HardSwish", "Input", "Interp",
  "InverseSpectrogram", "LRN", "Log", "MVN", "MatMul", "Mish", "Noop", "PSROIPooling", "Packing", "Permute",
  "PixelShuffle", "Pooling", "Pooling1D", "Pooling3D", "Power", "PriorBox", "Proposal", "ROIAlign", "ROIPooling",
  "ReLU", "Reduction", "Reorg", "Reshape", "RotaryEmbed", "SDPA", "SELU", "SPP", "Shrink", "ShuffleChannel",
  "Sigmoid", "Slice", "Softmax", "Softplus", "Spectrogram", "Split", "Squeeze", "StatisticsPooling", "Swish",
  "TanH", "Threshold", "Tile", "UnaryOp", "Unfold", "YoloDetectionOutput", "Yolov3DetectionOutput",
]);

/** What ModelBin::load(w, type) reads: `tagged` (type 0) starts with a 4-byte storage tag; untagged (type 1) is raw fp32. */
interface Blob { name: string; count: number; tagged: boolean }

const TAG_FP32 = 0x00000000, TAG_FP32_SCALED = 0x0002c056, TAG_FP16 = 0x01306b47, TAG_INT8 = 0x000d4b38;

/**
 * Reads every layer's weights from the .bin in layer order, as ncnn's loader does; returns one map per
 * layer (empty for layers without weights). Refuses layer types whose weights it cannot size, int8
 * weights, and any .bin that is not consumed exactly.
 */
export function readNcnnBin(layers: readonly NcnnLayer[], bin: Uint8Array, label = "bin"): ReadonlyMap<string, Float32Array>[] {
  const fail = (what: string) => new ModelFormatError(`ncnn model file ${label}: ${what}`);
  const r = new ByteReader(bin, 0, fail, bin.length, "truncated, or this .bin does not belong to the .param");
  const out: ReadonlyMap<string, Float32Array>[] = [];
  let last = "the start of the file";
  for (const [i, layer] of layers.entries()) {
    const where = `layer ${i} '${layer.name}' (${layer.type}, .param line ${layer.line})`;
    const weights = new Map<string, Float32Array>();
    for (const blob of weightBlobs(layer, (what) => fail(`${where}: ${what}`))) {
      const what = `${where} ${blob.name} (${blob.count} values)`;
      const at = r.pos;
      const tag = blob.tagged ? r.u32(`${what}: its storage tag`) : TAG_FP32;
      let data: Float32Array;
      if (tag === TAG_FP16) {
        const bytes = r.take((blob.count * 2 + 3) & ~3, `${what} as fp16`); // padded to 4 bytes
        data = decodeElements(bytes, 0, blob.count, "float16") as Float32Array;
      } else if (tag === TAG_FP32 || tag === TAG_FP32_SCALED) {
        data = decodeElements(r.take(blob.count * 4, `${what} as fp32`), 0, blob.count, "float32") as Float32Array;
      } else if (tag === TAG_INT8) {
        throw fail(`${what} at offset ${at} is int8-quantised: this reader takes fp32 and fp16 weights; use the network's fp32 or fp16 files`);
      } else {
        throw fail(`${what} at offset ${at} has storage tag 0x${tag.toString(16).padStart(8, "0")}, not fp32 (0), fp16 (0x01306b47) or int8 (0x000d4b38): the .bin is corrupt, does not belong to this .param, or uses ncnn's old 8-bit lookup-table quantisation, which this reader does not take`);
      }
      weights.set(blob.name, data);
    }
    if (weights.size) last = `${where}, which ended at offset ${r.pos}`;
    out.push(weights);
  }
  if (r.left) throw fail(`${r.left} bytes remain after the last weights (${last}): this .bin does not belong to the .param, or it is corrupt`);
  return out;
}

/** The blobs a layer's load_model reads, in order, sized from its params (ncnn's defaults where absent). */
function weightBlobs(layer: NcnnLayer, fail: (what: string) => ModelFormatError): Blob[] {
  const int = (id: number, def: number): number => {
    const v = layer.params.get(id);
    if (v === undefined) return def;
    if (typeof v !== "number" || !Number.isInteger(v)) throw fail(`param ${id} is ${JSON.stringify(v)}, expected an integer`);
    return v;
  };
  const size = (id: number, what: string): number => {
    const v = int(id, 0);
    if (v <= 0) throw fail(`${what} (param ${id}) is ${v}: ncnn needs it positive to read the weights`);
    return v;
  };
  const noInt8 = () => {
    if (int(8, 0) !== 0) throw fail("int8-quantised (param 8, int8_scale_term): this reader takes fp32 and fp16 weights");
  };
  const weightAndBias = (weightId: number, biasTermId: number): Blob[] => [
    { name: "weight", count: size(weightId, "weight_data_size"), tagged: true },
    ...(int(biasTermId, 0) ? [{ name: "bias", count: size(0, "num_output"), tagged: false }] : []),
  ];
  switch (layer.type) {
    case "Convolution":
    case "ConvolutionDepthWise":
      noInt8();
      return int(19, 0) ? [] : weightAndBias(6, 5); // 19: dynamic_weight (the weights are an input)
    case "Deconvolution":
    case "DeconvolutionDepthWise":
      return int(28, 0) ? [] : weightAndBias(6, 5); // 28: dynamic_weight
    case "InnerProduct":
      noInt8();
      return weightAndBias(2, 1);
    case "PReLU":
      return [{ name: "slope", count: size(0, "num_slope"), tagged: false }];
    case "Scale": {
      const n = int(0, 0);
      if (n === -233) return []; // the scale is the layer's second input
      const count = size(0, "scale_data_size");
      return [{ name: "scale", count, tagged: false }, ...(int(1, 0) ? [{ name: "bias", count, tagged: false }] : [])];
    }
    case "BatchNorm": {
      const count = size(0, "channels");
      return ["slope", "mean", "variance", "bias"].map((name) => ({ name, count, tagged: false }));
    }
    default:
      if (WEIGHTLESS.has(layer.type)) return [];
      throw fail("this reader cannot size this layer type's weights in the .bin, so it cannot read the rest of the file");
  }
}
