// SPDX-License-Identifier: MIT
// Turns whatever the caller names as a model into a validated graph: a built-in name, a graph object,
// the bytes of a .srnet or srgan-rust .rsr file, or a path / URL to one.
import { ModelFormatError } from "../errors.js";
import { builtinGraph, BUILTIN_NAMES, TRAINED } from "./builtin.js";
import { decodeNetwork, isSrnet } from "./format.js";
import { validateGraph, type Graph, type ValidatedGraph } from "./graph.js";
import { decodeRsr, isRsr } from "./rsr.js";
import { readAsset, readUrl } from "../platform/assets.js";

export type ModelSource = string | URL | Uint8Array | ArrayBuffer | Graph;

export async function loadNetwork(source: ModelSource): Promise<ValidatedGraph> {
  if (typeof source === "string") {
    const builtin = builtinGraph(source);
    if (builtin) return validateGraph(builtin);
    if (Object.hasOwn(TRAINED, source)) return decodeNetwork(await readAsset(TRAINED[source as keyof typeof TRAINED]));
    return decodeNetworkBytes(await readModelFile(toUrl(source)), source);
  }
  if (source instanceof URL) return decodeNetworkBytes(await readModelFile(source), source.href);
  if (source instanceof Uint8Array) return decodeNetworkBytes(source, "bytes");
  if (source instanceof ArrayBuffer) return decodeNetworkBytes(new Uint8Array(source), "bytes");
  if (source && typeof source === "object" && Array.isArray((source as Graph).nodes)) return validateGraph(source as Graph);
  throw new TypeError(`options.model must be a built-in name (${BUILTIN_NAMES.join(", ")}), a path or URL, bytes, or a graph`);
}

/** Decodes a network file by its magic: .srnet, or srgan-rust .rsr (xz, FD 37 7A 58 5A 00; async to decompress). */
export async function decodeNetworkBytes(bytes: Uint8Array, label: string): Promise<ValidatedGraph> {
  if (isSrnet(bytes)) return decodeNetwork(bytes);
  if (isRsr(bytes)) return decodeRsr(bytes, label);
  throw new ModelFormatError(`${label}: not a network file this package reads (.srnet, or srgan-rust .rsr). Built-in names: ${BUILTIN_NAMES.join(", ")}`);
}

function toUrl(s: string): URL {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(s) || s.startsWith("file:")) return new URL(s);
  const proc = (globalThis as { process?: { cwd(): string } }).process;
  const base = proc ? `file://${proc.cwd()}/` : (globalThis as { location?: { href: string } }).location?.href;
  return new URL(s, base);
}

async function readModelFile(url: URL): Promise<Uint8Array> {
  try {
    return await readUrl(url);
  } catch (cause) {
    throw new ModelFormatError(`cannot read network file ${url.protocol === "file:" ? decodeURIComponent(url.pathname) : url.href}: ${(cause as Error).message}. Built-in names: ${BUILTIN_NAMES.join(", ")}`, { cause });
  }
}
