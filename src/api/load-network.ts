// SPDX-License-Identifier: MIT
// Turns whatever the caller names as a model into a validated graph: a built-in name, a graph object,
// the bytes of a network file (any format of src/model/network-formats.ts), or a path / URL to one.
// Reading files and URLs happens here, above src/model/ (which only decodes bytes), including a
// format's second file (ncnn's .bin beside its .param).
import { ioError, SrganError } from "../errors.js";
import { AUTO_MODEL, builtinGraph, builtinNamesAt, BUILTIN_NAMES, DEFAULT_SCALE, TRAINED } from "../model/builtin.js";
import { decodeNetwork } from "../model/formats/srnet.js";
import { validateGraph, type Graph, type ValidatedGraph } from "../model/graph.js";
import { companionName, decodeNetworkFiles, formatOf } from "../model/network-formats.js";
import { readAsset, readUrl } from "../platform/assets.js";
import { pathToFileUrl } from "../platform/features.js";

/** An ncnn network's two files as bytes (as a page's file picker or fetch() gives them). */
export interface NcnnFiles { param: Uint8Array | ArrayBuffer; bin: Uint8Array | ArrayBuffer }

export type ModelSource = string | URL | Uint8Array | ArrayBuffer | NcnnFiles | Graph;

const asBytes = (b: Uint8Array | ArrayBuffer) => (b instanceof Uint8Array ? b : new Uint8Array(b));
const isBytes = (b: unknown): b is Uint8Array | ArrayBuffer => b instanceof Uint8Array || b instanceof ArrayBuffer;

/**
 * Loads a network. `scale` picks among the built-ins (`natural` has ×4 and ×2; resamplers take any);
 * a file or graph has its own scale, and asking for another one is an error rather than a surprise.
 */
export async function loadNetwork(source: ModelSource, opts: { scale?: number } = {}): Promise<ValidatedGraph> {
  const { scale } = opts;
  if (scale !== undefined && (!Number.isInteger(scale) || scale < 1 || scale > 8)) throw new RangeError(`options.scale must be an integer in [1, 8], got ${String(scale)}`);
  if (source === AUTO_MODEL) {
    throw new TypeError(`model 'auto' is two networks, one picked per input file: createUpscaler({ model: 'auto' }) holds both (upscale(image, { format }) picks); to load one, name it with autoModel(readImageInfo(bytes).format)`);
  }
  if (typeof source === "string" && (BUILTIN_NAMES as readonly string[]).includes(source)) {
    const at = scale ?? DEFAULT_SCALE;
    const builtin = builtinGraph(source, at);
    if (builtin) return validateGraph(builtin);
    const asset = TRAINED[source][at];
    if (!asset) {
      const scales = Object.keys(TRAINED[source]).map((s) => `×${s}`).join(", ");
      throw new SrganError("ERR_SCALE", `the built-in network '${source}' exists at ${scales}, not ×${at}; at ×${at} the built-ins are ${builtinNamesAt(at).join(", ")}`);
    }
    return decodeNetwork(await readAsset(asset));
  }
  const graph = await loadNetworkSource(source, scale);
  if (scale !== undefined && graph.scale !== scale) {
    throw new SrganError("ERR_SCALE", `the network '${graph.name}' upscales ×${graph.scale}, but ×${scale} was asked for: leave out the scale, or pick a ×${scale} network (built-ins at ×${scale}: ${builtinNamesAt(scale).join(", ")})`);
  }
  return graph;
}

async function loadNetworkSource(source: ModelSource, scale?: number): Promise<ValidatedGraph> {
  if (typeof source === "string") return loadNetworkUrl(toUrl(source), source, scale);
  if (source instanceof URL) return loadNetworkUrl(source, source.href, scale);
  if (source instanceof Uint8Array) return decodeNetworkFiles({ main: source }, "bytes", scale);
  if (source instanceof ArrayBuffer) return decodeNetworkFiles({ main: new Uint8Array(source) }, "bytes", scale);
  if (source && typeof source === "object" && isBytes((source as NcnnFiles).param) && isBytes((source as NcnnFiles).bin)) {
    const { param, bin } = source as NcnnFiles;
    return decodeNetworkFiles({ main: asBytes(param), companion: asBytes(bin) }, "bytes", scale);
  }
  if (source && typeof source === "object" && Array.isArray((source as Graph).nodes)) return validateGraph(source as Graph);
  throw new TypeError(`options.model must be a built-in name (${BUILTIN_NAMES.join(", ")}), a path or URL, a network file's bytes, an ncnn network's { param, bin } bytes, or a graph`);
}

/** Reads a network file (and its second file, for formats that have one) and decodes it. */
async function loadNetworkUrl(url: URL, label: string, scale?: number): Promise<ValidatedGraph> {
  const main = await readModelFile(url);
  const format = formatOf(main);
  const second = format && companionName(url.href, format);
  const companion = second === undefined ? undefined : await readModelFile(new URL(second));
  return decodeNetworkFiles({ main, companion }, label, scale);
}

/** A URL as it is; a path as a file: URL in Node and Deno, else relative to the page. */
function toUrl(s: string): URL {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(s) || s.startsWith("file:")) return new URL(s);
  return pathToFileUrl(s) ?? new URL(s, (globalThis as { location?: { href: string } }).location?.href);
}

/** A network file that cannot be read is an IoError naming it and why (not a format or bundler problem). */
async function readModelFile(url: URL): Promise<Uint8Array> {
  try {
    return await readUrl(url);
  } catch (e) {
    if (e instanceof SrganError && e.cause === undefined) throw e; // not an I/O failure (a Node too old, say)
    const cause = (e as Error).cause ?? e; // readUrl wraps the fs or fetch error
    throw ioError("read network file", url.protocol === "file:" ? decodeURIComponent(url.pathname) : url.href, cause);
  }
}
