// SPDX-License-Identifier: MIT
// waifu2x's JSON networks (nagadomi/waifu2x tools/export_model.lua, the format of its web and C++ ports)
// to plain data: a list of torch7 convolution layers with their sizes, weights and biases, the first
// carrying the network's `model_config`. Every count is checked against the nested arrays.
import { ModelFormatError } from "../../errors.js";

export interface Waifu2xLayer {
  /** torch7's module name; files from before class_name was exported are nn.SpatialConvolutionMM. */
  readonly className: string;
  /** True for nn/cudnn.SpatialFullConvolution (a transposed convolution). */
  readonly transposed: boolean;
  readonly kW: number; readonly kH: number;
  readonly dW: number; readonly dH: number;
  readonly padW: number; readonly padH: number;
  readonly nInputPlane: number; readonly nOutputPlane: number;
  /** Row-major [nOutputPlane][nInputPlane][kH][kW]; for a transposed convolution torch7's [nInputPlane][nOutputPlane][kH][kW]. */
  readonly weight: Float32Array;
  /** nOutputPlane values (zeros where the module had no bias, as the exporter writes). */
  readonly bias: Float32Array;
}

export interface Waifu2xNetwork {
  readonly layers: readonly Waifu2xLayer[];
  /** The first layer's `model_config` as written (arch_name, scale_factor, channels, offset, …); empty when absent. */
  readonly modelConfig: ReadonlyMap<string, unknown>;
}

/** A JSON network larger than this is not one of waifu2x's (theirs are 0.5–25 MB). */
const MAX_JSON_BYTES = 256 << 20;
/** Bounds on sizes that no waifu2x network comes near; they keep a hostile file's products small. */
const MAX_PLANES = 4096, MAX_KERNEL = 64;

const CONVOLUTIONS = new Set(["nn.SpatialConvolutionMM", "cudnn.SpatialConvolution", "nn.SpatialDilatedConvolution", "cudnn.SpatialDilatedConvolution"]);
const TRANSPOSED = new Set(["nn.SpatialFullConvolution", "cudnn.SpatialFullConvolution"]);

/** True when the text starts (after whitespace) with `[{"` — a JSON list of objects. */
export function sniff(bytes: Uint8Array): boolean {
  let i = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  const expect = [0x5b, 0x7b, 0x22]; // [ { "
  for (const c of expect) {
    while (bytes[i] === 0x20 || bytes[i] === 0x09 || bytes[i] === 0x0a || bytes[i] === 0x0d) i++;
    if (bytes[i++] !== c) return false;
  }
  return true;
}

/**
 * Decodes a waifu2x JSON network.
 * @example
 * const net = decodeWaifu2xJson(await readFile("scale2.0x_model.json"), "scale2.0x_model.json");
 * net.layers.length; // 7; net.modelConfig.get("offset") === 7
 */
export function decodeWaifu2xJson(json: string | Uint8Array, label = "bytes"): Waifu2xNetwork {
  const fail = (what: string) => new ModelFormatError(`waifu2x JSON network ${label}: ${what}`);
  const size = typeof json === "string" ? json.length : json.length;
  if (size > MAX_JSON_BYTES) throw fail(`${size} bytes: larger than any waifu2x network (limit ${MAX_JSON_BYTES})`);
  let root: unknown;
  try {
    const text = typeof json === "string" ? json : new TextDecoder("utf-8", { fatal: true }).decode(json);
    root = JSON.parse(text.replace(/^\uFEFF/, ""));
  } catch (cause) {
    throw new ModelFormatError(`waifu2x JSON network ${label}: not valid UTF-8 JSON (truncated or corrupt): ${(cause as Error).message}`, { cause });
  }
  if (!Array.isArray(root) || root.length === 0) throw fail("not a non-empty JSON list of layers");

  const layers = root.map((raw: unknown, i): Waifu2xLayer => {
    const where = `layer ${i}`;
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw fail(`${where} is not an object`);
    const l = raw as Record<string, unknown>;
    const className = l.class_name === undefined ? "nn.SpatialConvolutionMM" : l.class_name;
    if (typeof className !== "string" || !(CONVOLUTIONS.has(className) || TRANSPOSED.has(className))) {
      throw fail(`${where} is ${JSON.stringify(className)}: this reader takes ${[...CONVOLUTIONS, ...TRANSPOSED].join(", ")}`);
    }
    const int = (key: string, min: number, max: number, def?: number): number => {
      const v = l[key] ?? def;
      if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) throw fail(`${where} ${key} is ${JSON.stringify(v)}, expected an integer in [${min}, ${max}]`);
      return v;
    };
    const kW = int("kW", 1, MAX_KERNEL), kH = int("kH", 1, MAX_KERNEL);
    const nInputPlane = int("nInputPlane", 1, MAX_PLANES), nOutputPlane = int("nOutputPlane", 1, MAX_PLANES);
    // torch7's defaults, for files written before the exporter wrote these.
    const dW = int("dW", 1, MAX_KERNEL, 1), dH = int("dH", 1, MAX_KERNEL, 1);
    const padW = int("padW", 0, MAX_KERNEL, 0), padH = int("padH", 0, MAX_KERNEL, 0);
    const transposed = TRANSPOSED.has(className);
    const dims = transposed ? [nInputPlane, nOutputPlane, kH, kW] : [nOutputPlane, nInputPlane, kH, kW];
    // Each number takes at least two characters ("0,"): a size the text cannot hold fails before allocating.
    const count = dims.reduce((a, b) => a * b, 1);
    if (count > size / 2) throw fail(`${where} declares ${count} weights ([${dims}]), more than the ${size}-byte file can hold (corrupt)`);
    const weight = flatten(l.weight, dims, (what) => fail(`${where} weight${what}`));
    const bias = flatten(l.bias, [nOutputPlane], (what) => fail(`${where} bias${what}`));
    return { className, transposed, kW, kH, dW, dH, padW, padH, nInputPlane, nOutputPlane, weight, bias };
  });

  const config = (root[0] as Record<string, unknown>).model_config;
  if (config !== undefined && (typeof config !== "object" || config === null || Array.isArray(config))) throw fail("model_config is not an object");
  // Object.entries of a JSON.parse result lists own keys only: a "__proto__" key is just a name here.
  const modelConfig = new Map(Object.entries(config ?? {}));
  for (const key of ["scale_factor", "offset", "channels"]) {
    const v = modelConfig.get(key);
    if (v !== undefined && (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 64)) throw fail(`model_config.${key} is ${JSON.stringify(v)}, expected a small non-negative integer`);
  }
  return { layers, modelConfig };
}

/** The nested arrays `value`, whose sizes must be exactly `dims`, as one row-major Float32Array. */
function flatten(value: unknown, dims: readonly number[], fail: (what: string) => ModelFormatError): Float32Array {
  const out = new Float32Array(dims.reduce((a, b) => a * b, 1));
  let n = 0;
  const walk = (v: unknown, depth: number, path: string): void => {
    if (depth === dims.length) {
      if (typeof v !== "number") throw fail(`${path} is ${JSON.stringify(v)?.slice(0, 20)}, not a number`);
      out[n++] = v;
      return;
    }
    if (!Array.isArray(v) || v.length !== dims[depth]) {
      throw fail(`${path} has ${Array.isArray(v) ? `${v.length} entries` : `no list (${typeof v})`}, expected ${dims[depth]} (sizes [${dims}])`);
    }
    for (let i = 0; i < v.length; i++) walk(v[i], depth + 1, `${path}[${i}]`);
  };
  walk(value, 0, "");
  return out;
}
