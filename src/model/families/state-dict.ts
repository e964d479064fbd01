// SPDX-License-Identifier: MIT
// PyTorch state dicts (.pth, .safetensors) as our graph, recognised from their keys and shapes as
// spandrel does: Real-ESRGAN's SRVGGNetCompact (`body.N`), and ESRGAN's RRDBNet in BasicSR's layout
// (`conv_first`, `body.N.rdbK.convJ`) or the original repository's (`model.0`, `model.1.sub.N.RDBk.
// convj.0`), any depth, width, growth and scale. Anything else is refused, naming what was found.
import { ModelFormatError } from "../../errors.js";
import type { Tensor } from "../formats/tensor.js";
import { validateGraph } from "../graph.js";
import type { ValidatedGraph } from "../types.js";
import { GraphBuilder, nameOf } from "./build.js";

type StateDict = ReadonlyMap<string, Tensor>;

/** The graph of a state dict's network; `source` names the container for meta ("PyTorch .pth"). */
export function stateDictGraph(sd: StateDict, label: string, source: string): ValidatedGraph {
  const family = FAMILIES.find((f) => f.matches(sd));
  if (!family) {
    const keys = [...sd.keys()];
    throw new ModelFormatError(`${label}: the weights match no network family this package runs (${FAMILIES.map((f) => f.name).join(", ")}); ${keys.length} keys, the first: ${keys.slice(0, 4).join(", ")}`);
  }
  return family.build(sd, label, source);
}

interface Family {
  name: string;
  matches(sd: StateDict): boolean;
  build(sd: StateDict, label: string, source: string): ValidatedGraph;
}

/** A 4-D conv weight [cout][cin][k][k] (checked) with its bias, by key prefix. */
function conv(sd: StateDict, prefix: string, label: string): { w: Tensor; b?: Tensor; cout: number; cin: number; k: number } {
  const w = sd.get(`${prefix}.weight`), b = sd.get(`${prefix}.bias`);
  if (!w || w.shape.length !== 4 || w.shape[2] !== w.shape[3] || w.shape[2] % 2 === 0) {
    throw new ModelFormatError(`${label}: '${prefix}.weight' must be an odd square convolution kernel [cout, cin, k, k], got ${w ? `[${w.shape}]` : "none"}`);
  }
  const [cout, cin, k] = w.shape;
  if (b && (b.shape.length !== 1 || b.shape[0] !== cout)) throw new ModelFormatError(`${label}: '${prefix}.bias' has shape [${b.shape}], expected [${cout}]`);
  return { w, b, cout, cin, k };
}

// ---- SRVGGNetCompact (Real-ESRGAN's realesr-animevideov3, realesr-general-x4v3, AniScale, …) ----
// body.0 conv 3 → F, body.1 PReLU, (conv F → F, PReLU) × n, conv F → 3·s², PixelShuffle(s) + the input
// enlarged by nearest neighbour.

const SRVGG: Family = {
  name: "SRVGGNetCompact",
  matches: (sd) => sd.has("body.0.weight") && sd.get("body.0.weight")!.shape.length === 4 && !sd.has("conv_first.weight"),
  build(sd, label, source) {
    const convs: number[] = [];
    for (let i = 0; sd.has(`body.${i}.weight`); i += 2) convs.push(i);
    for (const [key] of sd) {
      const m = /^body\.(\d+)\.weight$/.exec(key);
      if (m && Number(m[1]) % 2 === 1 && sd.get(key)!.shape.length !== 1) throw new ModelFormatError(`${label}: SRVGGNetCompact's activations must be PReLU ('${key}' is not a slope vector)`);
    }
    if (!sd.has("body.1.weight")) throw new ModelFormatError(`${label}: an SRVGGNetCompact without PReLU weights (body.1): its ReLU / LeakyReLU cannot be told apart from the file; not supported`);
    const b = new GraphBuilder("x");
    let x = "x", c = 3;
    for (const [j, i] of convs.entries()) {
      const cv = conv(sd, `body.${i}`, label);
      if (cv.cin !== c) throw new ModelFormatError(`${label}: body.${i} reads ${cv.cin} channels, the layer before gives ${c}`);
      const last = j === convs.length - 1;
      const slope = last ? undefined : sd.get(`body.${i + 1}.weight`);
      if (!last && slope?.shape[0] !== cv.cout) throw new ModelFormatError(`${label}: body.${i + 1} needs ${cv.cout} PReLU slopes`);
      x = b.conv([x], [c], cv.w.data, cv.cout, cv.k, { bias: cv.b?.data, ...(slope ? { act: "prelu" as const, slope: slope.data } : {}) });
      c = cv.cout;
    }
    const scale = Math.round(Math.sqrt(c / 3));
    if (3 * scale * scale !== c) throw new ModelFormatError(`${label}: SRVGGNetCompact's last conv has ${c} outputs, not 3·scale²`);
    const y = b.node("Add", [b.node("PixelShuffle", [x], { r: scale, order: "torch" }), b.node("Resize", ["x"], { method: "nearest", scale })]);
    return validateGraph(b.graph({ name: nameOf(label, "Real-ESRGAN SRVGGNetCompact"), scale, output: y, meta: { source, family: "Real-ESRGAN SRVGGNetCompact", width: conv(sd, "body.0", label).cout, convs: convs.length } }));
  },
};

// ---- ESRGAN RRDBNet (BasicSR's Real-ESRGAN x4plus, x4plus-anime, x2plus, and the community's ESRGAN files) ----
// conv_first, blocks of 3 residual dense blocks (5 convs, dense concatenation, LeakyReLU 0.2, scaled 0.2
// residuals), conv_body added to the first features, per ×2 a nearest enlargement + conv + LeakyReLU,
// conv_hr + LeakyReLU, conv_last. BasicSR's ×2 and ×1 networks first pixel-unshuffle the input by 2 / 4.

/** The original ESRGAN layout renamed to BasicSR's (what spandrel does): model.0, model.1.sub.N…, then per stage. */
function basicsrNames(sd: StateDict, label: string): Map<string, Tensor> {
  if (sd.has("conv_first.weight")) return new Map(sd);
  const out = new Map<string, Tensor>();
  const blocks = new Set<number>();
  for (const [key, t] of sd) {
    const m = /^model\.1\.sub\.(\d+)\.RDB(\d)\.conv(\d)\.0\.(weight|bias)$/.exec(key);
    if (m) { blocks.add(Number(m[1])); out.set(`body.${m[1]}.rdb${m[2]}.conv${m[3]}.${m[4]}`, t); }
  }
  const nb = blocks.size;
  const rename = (from: string, to: string) => {
    for (const p of ["weight", "bias"]) { const t = sd.get(`${from}.${p}`); if (t) out.set(`${to}.${p}`, t); }
  };
  rename("model.0", "conv_first");
  rename(`model.1.sub.${nb}`, "conv_body");
  // After the trunk: the convs in index order are the ×2 stages' convs, then conv_hr, then conv_last.
  const tail = [...sd.keys()].map((k) => /^model\.(\d+)\.weight$/.exec(k)).filter((m): m is RegExpExecArray => !!m && Number(m[1]) >= 2).map((m) => Number(m[1])).sort((a, b) => a - b);
  if (tail.length < 2) throw new ModelFormatError(`${label}: an ESRGAN (model.N) file without its final convolutions`);
  tail.slice(0, -2).forEach((i, j) => rename(`model.${i}`, `conv_up${j + 1}`));
  rename(`model.${tail.at(-2)}`, "conv_hr");
  rename(`model.${tail.at(-1)}`, "conv_last");
  return out;
}

const RRDB: Family = {
  name: "ESRGAN RRDBNet",
  matches: (sd) => (sd.has("conv_first.weight") && sd.has("body.0.rdb1.conv1.weight")) || (sd.has("model.0.weight") && sd.has("model.1.sub.0.RDB1.conv1.0.weight")),
  build(raw, label, source) {
    const sd = basicsrNames(raw, label);
    const b = new GraphBuilder("x");
    const first = conv(sd, "conv_first", label);
    // BasicSR's x2plus / x1 networks read the input pixel-unshuffled by 2 / 4.
    const unshuffle = Math.round(Math.sqrt(first.cin / 3));
    if (3 * unshuffle * unshuffle !== first.cin) throw new ModelFormatError(`${label}: conv_first reads ${first.cin} channels: neither RGB nor RGB pixel-unshuffled`);
    const x = unshuffle > 1 ? b.node("SpaceToDepth", ["x"], { r: unshuffle, order: "torch" }) : "x";
    const lrelu = { act: "leaky" as const, alpha: 0.2 };
    const nf = first.cout;
    const feat = b.conv([x], [first.cin], first.w.data, nf, first.k, { bias: first.b?.data });
    let h = feat;
    let blocks = 0;
    for (; sd.has(`body.${blocks}.rdb1.conv1.weight`); blocks++) {
      const blockIn = h;
      for (let r = 1; r <= 3; r++) {
        const rdbIn = h;
        // Conv j reads the block's input and every earlier conv's output, concatenated: one kernel each.
        const dense = [rdbIn];
        const chans = [nf];
        for (let j = 1; j <= 5; j++) {
          const cv = conv(sd, `body.${blocks}.rdb${r}.conv${j}`, label);
          if (cv.cin !== chans.reduce((a, c) => a + c, 0)) throw new ModelFormatError(`${label}: body.${blocks}.rdb${r}.conv${j} reads ${cv.cin} channels, the dense block gives ${chans.reduce((a, c) => a + c, 0)}`);
          const out = b.conv([...dense], [...chans], cv.w.data, cv.cout, cv.k, { bias: cv.b?.data, ...(j < 5 ? lrelu : {}) });
          dense.push(out);
          chans.push(cv.cout);
        }
        h = b.node("Add", [dense[5], rdbIn], { coefficients: [0.2, 1] });
      }
      h = b.node("Add", [h, blockIn], { coefficients: [0.2, 1] });
    }
    const body = conv(sd, "conv_body", label);
    h = b.node("Add", [feat, b.conv([h], [nf], body.w.data, nf, body.k, { bias: body.b?.data })]);
    let ups = 0;
    for (; sd.has(`conv_up${ups + 1}.weight`); ups++) {
      const cv = conv(sd, `conv_up${ups + 1}`, label);
      h = b.conv([b.node("Resize", [h], { method: "nearest", scale: 2 })], [nf], cv.w.data, cv.cout, cv.k, { bias: cv.b?.data, ...lrelu });
    }
    const hr = conv(sd, "conv_hr", label), last = conv(sd, "conv_last", label);
    h = b.conv([h], [nf], hr.w.data, hr.cout, hr.k, { bias: hr.b?.data, ...lrelu });
    const y = b.conv([h], [hr.cout], last.w.data, last.cout, last.k, { bias: last.b?.data });
    const scale = 2 ** ups / unshuffle;
    if (!Number.isInteger(scale) || scale < 1) throw new ModelFormatError(`${label}: ${ups} ×2 stages after a ÷${unshuffle} unshuffle is no integer scale`);
    const growth = conv(sd, "body.0.rdb1.conv1", label).cout;
    return validateGraph(b.graph({
      name: nameOf(label, "ESRGAN RRDBNet"), scale, output: y, align: unshuffle,
      // An unshuffled network's input must split into whole 2×2 / 4×4 blocks: its border repeats edges.
      inputPad: unshuffle > 1 ? { mode: "reflect", size: 0 } : undefined,
      meta: { source, family: "ESRGAN RRDBNet", features: nf, growth, blocks },
    }));
  },
};

const FAMILIES: readonly Family[] = [RRDB, SRVGG];
