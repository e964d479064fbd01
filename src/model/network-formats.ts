// SPDX-License-Identifier: MIT
// The network file formats this package reads, as one table: the loaders (src/api/load-network.ts, the
// CLI), their messages and every help text read it. This layer decodes bytes only; reading paths and
// URLs, and fetching a format's second file (ncnn's .bin beside the .param), is the caller's.
import { ModelFormatError } from "../errors.js";
import type { ValidatedGraph } from "./types.js";
import { decodeNetwork, isSrnet } from "./formats/srnet.js";
import { decodeRsr, isRsr } from "./formats/rsr.js";
import { decodeNcnn, sniff as isNcnnParam } from "./formats/ncnn.js";
import { decodePth, pickStateDict, sniff as isPth } from "./formats/pytorch.js";
import { decodeSafetensors, sniff as isSafetensors } from "./formats/safetensors.js";
import { decodeWaifu2xJson, sniff as isWaifu2xJson } from "./formats/waifu2x-json.js";
import { sniff as isOnnx } from "./formats/onnx-sniff.js";
import { ncnnGraph } from "./families/ncnn.js";
import { stateDictGraph } from "./families/state-dict.js";
import { waifu2xGraph } from "./families/waifu2x.js";

/** A network's bytes: its file, and the second file of formats that have one. */
export interface NetworkFiles {
  main: Uint8Array;
  companion?: Uint8Array;
}

export interface NetworkFormat {
  /** As messages name it. */
  readonly name: string;
  /** File name endings (lower case), for help texts and for finding the second file. */
  readonly extensions: readonly string[];
  /** A second file the network needs, found beside the first by its extension. */
  readonly companion?: { extension: string; what: string };
  /** Recognises the format from the start of the main file. */
  sniff(bytes: Uint8Array): boolean;
  /**
   * Decodes and validates; failures are ModelFormatErrors whose message starts with `label`. `scale`
   * is the scale asked for, which only networks without one of their own take (waifu2x's ×1 JSON).
   */
  decode(files: NetworkFiles, label: string, scale?: number): Promise<ValidatedGraph>;
}

/** Prefixes a ModelFormatError's message with the file it is about (once). */
async function labelled<T>(label: string, decode: () => T | Promise<T>): Promise<T> {
  try {
    return await decode();
  } catch (e) {
    if (e instanceof ModelFormatError && !e.message.startsWith(label)) e.message = `${label}: ${e.message}`;
    throw e;
  }
}

export const NETWORK_FORMATS: readonly NetworkFormat[] = [
  { name: ".srnet", extensions: [".srnet"], sniff: isSrnet, decode: ({ main }, label) => labelled(label, () => decodeNetwork(main)) },
  { name: "srgan-rust .rsr", extensions: [".rsr"], sniff: isRsr, decode: ({ main }, label) => decodeRsr(main, label) },
  {
    name: "ncnn .param + .bin", extensions: [".param"], companion: { extension: ".bin", what: "weights file" }, sniff: isNcnnParam,
    decode: async ({ main, companion }, label) => ncnnGraph(decodeNcnn({ param: main, bin: companion! }, { param: label, bin: binName(label) }), label),
  },
  { name: "PyTorch .pth", extensions: [".pth", ".pt", ".ckpt"], sniff: isPth, decode: async ({ main }, label) => stateDictGraph(pickStateDict(decodePth(main, label), label), label, "PyTorch .pth") },
  { name: ".safetensors", extensions: [".safetensors"], sniff: isSafetensors, decode: async ({ main }, label) => stateDictGraph(decodeSafetensors(main, label).tensors, label, ".safetensors") },
  { name: "waifu2x JSON", extensions: [".json"], sniff: isWaifu2xJson, decode: async ({ main }, label, scale) => waifu2xGraph(decodeWaifu2xJson(main, label), label, scale) },
  // Loaded when an ONNX file is read: the protobuf schema stays out of bundles that never read one.
  { name: "ONNX", extensions: [".onnx"], sniff: isOnnx, decode: async ({ main }, label) => (await import("./formats/onnx-network.js")).decodeOnnxNetwork(main, label) },
];

/** How errors name an ncnn network's .bin: beside the .param, as the loaders fetch it. */
const binName = (label: string) => (/\.param$/i.test(label) ? label.replace(/\.param$/i, ".bin") : `${label} (weights)`);

/** The format of a file from its first bytes, or undefined. */
export function formatOf(bytes: Uint8Array): NetworkFormat | undefined {
  return NETWORK_FORMATS.find((f) => f.sniff(bytes));
}

/** "…, … or …": the formats by name, for messages and help texts. */
export function formatNames(): string {
  const names = NETWORK_FORMATS.map((f) => f.name);
  return names.length > 1 ? `${names.slice(0, -1).join(", ")} or ${names.at(-1)}` : names[0];
}

/** The path or URL of a format's second file: `name` with its extension replaced (x.param → x.bin). */
export function companionName(name: string, format: NetworkFormat): string | undefined {
  if (!format.companion) return undefined;
  const ext = format.extensions.find((e) => name.toLowerCase().endsWith(e));
  return (ext ? name.slice(0, -ext.length) : name) + format.companion.extension;
}

/** Decodes a network file of any format in the table, recognised by its content (`scale`: see NetworkFormat.decode). */
export async function decodeNetworkFiles(files: NetworkFiles, label: string, scale?: number): Promise<ValidatedGraph> {
  const format = formatOf(files.main);
  if (!format) throw new ModelFormatError(`${label}: not a network file this package reads (${formatNames()})`);
  if (format.companion && !files.companion) {
    throw new ModelFormatError(`${label}: a ${format.name} network is two files; the ${format.companion.what} (${format.companion.extension}) is missing`);
  }
  return format.decode(files, label, scale);
}
