// SPDX-License-Identifier: MIT
// `srgan convert IN OUT`: any network the package reads (src/model/network-formats.ts, built-ins) written
// as .srnet, or the network inside a training checkpoint (to evaluate or ship it). Without --f16 the
// weights must survive bit for bit, and we check that they did.
import { decodeNetwork, encodeNetwork } from "../model/formats/srnet.js";
import type { Graph, ValidatedGraph } from "../model/types.js";
import { SrganError } from "../errors.js";
import { intFlag, parse, type Command } from "./args.js";
import { formatBytes, loadModel, prefixPath, readBytes, writeBytesAtomic } from "./io.js";
import { BUILTIN_NAMES } from "../model/builtin.js";
import { validateGraph } from "../model/graph.js";
import { formatNames } from "../model/network-formats.js";
import { checkpointGraph, decodeCheckpoint, isCheckpoint } from "../train/checkpoint.js";

export const command: Command = {
  help: `Usage: srgan convert IN OUT [options]

Reads the network IN (${formatNames()}, a built-in name, or the network in a training
checkpoint written by 'srgan train') and writes it to OUT in this package's .srnet format. Weights are copied exactly (f32) unless --f16 is given.

Options:
      --f16               store weights as IEEE half floats (half the size, ~3 significant digits)
  -s, --scale N           for a ×1 waifu2x JSON network: write it as ×N (run on the input enlarged by
                          nearest neighbour, as waifu2x does)
  -h, --help              show this help

Examples:
  srgan convert natural.rsr natural.srnet
  srgan convert realesr-animevideov3-x4.param animevideov3-x4.srnet --f16   (reads the .bin beside it)`,

  async run(argv, ctx) {
    const { values, args: [input, output] } = parse("convert", argv, { f16: { type: "boolean" }, scale: { type: "string", short: "s" } }, ["IN", "OUT"]);
    const { graph, source } = await loadNetworkOrCheckpoint(input, intFlag("convert", "scale", values.scale, 1, 8));
    const dtype = values.f16 ? "f16" : "f32";
    const bytes = encodeNetwork(graph, { dtype });
    if (dtype === "f32") assertSameWeights(graph, decodeNetwork(bytes));
    await writeBytesAtomic(output, bytes);
    ctx.out(`${input} (${source}) → ${output} (.srnet ${dtype}, ${formatBytes(bytes.length)}; ${graph.name} ×${graph.scale}, ${graph.parameterCount.toLocaleString("en-US")} parameters)`);
  },
};

async function loadNetworkOrCheckpoint(input: string, scale?: number): Promise<{ graph: ValidatedGraph; source: string }> {
  if (!BUILTIN_NAMES.includes(input)) {
    const bytes = await readBytes(input);
    if (isCheckpoint(bytes)) {
      try {
        const c = decodeCheckpoint(bytes);
        const graph = checkpointGraph(c);
        return { graph: validateGraph({ ...graph, meta: { ...graph.meta, checkpointStep: c.step } }), source: `training checkpoint at step ${c.step}` };
      } catch (e) {
        throw prefixPath(e, input);
      }
    }
  }
  return loadModel(input, scale);
}

/** Guards the "lossless" promise: a converter bug must fail here, not ship a subtly different network. */
function assertSameWeights(a: Graph, b: Graph): void {
  const bits = (f: Float32Array) => new Uint32Array(f.buffer, f.byteOffset, f.length);
  for (const [name, w] of Object.entries(a.weights)) {
    const got = b.weights[name]?.data;
    const want = bits(w.data);
    const same = got !== undefined && got.length === want.length && bits(got).every((x, i) => x === want[i]);
    if (!same) throw new SrganError("ERR_MODEL_FORMAT", `conversion check failed: weight '${name}' did not survive the round trip bit for bit; please report this as a bug`);
  }
}
