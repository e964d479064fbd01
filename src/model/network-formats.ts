// SPDX-License-Identifier: MIT
// The network file formats this package reads, as one table: the loaders (src/api/load-network.ts, the
// CLI), their messages and every help text read it. This layer decodes bytes only; reading paths and
// URLs, and fetching a format's second file (ncnn's .bin beside the .param), is the caller's.
import { ModelFormatError } from "../errors.js";
import type { ValidatedGraph } from "./types.js";
import { decodeNetwork, isSrnet } from "./formats/srnet.js";
import { decodeRsr, isRsr } from "./formats/rsr.js";

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
  /** Decodes and validates; failures are ModelFormatErrors whose message starts with `label`. */
  decode(files: NetworkFiles, label: string): Promise<ValidatedGraph>;
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
];

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

/** Decodes a network file of any format in the table, recognised by its content. */
export async function decodeNetworkFiles(files: NetworkFiles, label: string): Promise<ValidatedGraph> {
  const format = formatOf(files.main);
  if (!format) throw new ModelFormatError(`${label}: not a network file this package reads (${formatNames()})`);
  if (format.companion && !files.companion) {
    throw new ModelFormatError(`${label}: a ${format.name} network is two files; the ${format.companion.what} (${format.companion.extension}) is missing`);
  }
  return format.decode(files, label);
}
