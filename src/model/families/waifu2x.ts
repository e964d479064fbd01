// SPDX-License-Identifier: MIT
// waifu2x's JSON networks (src/model/formats/waifu2x-json.ts) as our graph: vgg_7, unpadded 3×3
// convolutions with LeakyReLU 0.1 between them, on RGB. These files are ×1 networks (model_config.
// scale_factor 1): waifu2x makes its ×2 by running one on the input enlarged by nearest neighbour, so
// asking for a larger scale does that here too. Like waifu2x's tools, the input is extended by
// repeating its edges so that the output is exactly scale × the input: by the network's offset, in
// enlarged pixels (an edge-extended image enlarged by nearest neighbour is the enlarged image
// edge-extended, so the border is added before the enlargement and the excess cropped after it).
import { ModelFormatError } from "../../errors.js";
import type { Waifu2xNetwork } from "../formats/waifu2x-json.js";
import { validateGraph } from "../graph.js";
import type { ValidatedGraph } from "../types.js";
import { GraphBuilder, nameOf } from "./build.js";

export function waifu2xGraph(net: Waifu2xNetwork, label: string, scale?: number): ValidatedGraph {
  const arch = net.modelConfig.get("arch_name");
  const own = (net.modelConfig.get("scale_factor") as number | undefined) ?? 1;
  const channels = (net.modelConfig.get("channels") as number | undefined) ?? 3;
  if (arch !== undefined && arch !== "vgg_7") throw new ModelFormatError(`${label}: waifu2x arch '${String(arch)}' is not supported (vgg_7 is; upconv_7 and CUNet run from their ncnn files)`);
  if (channels !== 3) throw new ModelFormatError(`${label}: a ${channels}-channel waifu2x network (Y-only networks are not supported; use an RGB one)`);
  if (own !== 1) throw new ModelFormatError(`${label}: model_config.scale_factor ${own}: only ×1 vgg_7 networks are supported`);
  const s = scale ?? own;
  if (!Number.isInteger(s) || s < 1 || s > 8) throw new ModelFormatError(`${label}: scale ${s}: a ×1 waifu2x network runs at ×1 to ×8`);
  let c = 3;
  net.layers.forEach((l, i) => {
    if (l.transposed || l.kW !== l.kH || l.kW % 2 === 0 || l.dW !== 1 || l.dH !== 1 || l.padW !== 0 || l.padH !== 0) {
      throw new ModelFormatError(`${label}: layer ${i} (${l.className}, ${l.kW}×${l.kH}, stride ${l.dW}, pad ${l.padW}) is not an unpadded odd convolution of stride 1, as vgg_7's are`);
    }
    if (l.nInputPlane !== c) throw new ModelFormatError(`${label}: layer ${i} reads ${l.nInputPlane} planes, the layer before gives ${c}`);
    c = l.nOutputPlane;
  });
  if (c !== 3) throw new ModelFormatError(`${label}: the last layer gives ${c} planes, not RGB`);
  const offset = net.layers.reduce((o, l) => o + (l.kW >> 1), 0);
  const declared = net.modelConfig.get("offset");
  if (declared !== undefined && declared !== offset) throw new ModelFormatError(`${label}: model_config.offset ${String(declared)} differs from the layers' ${offset}`);
  // The border in input pixels that covers `offset` enlarged pixels; the excess is cropped after enlarging.
  const border = Math.ceil(offset / s);
  const b = new GraphBuilder("x");
  let x = "x";
  if (s > 1) {
    x = b.node("Resize", [x], { method: "nearest", scale: s });
    if (border * s > offset) x = b.node("Crop", [x], { margin: border * s - offset });
  }
  net.layers.forEach((l, i) => {
    x = b.conv([x], [l.nInputPlane], l.weight, l.nOutputPlane, l.kW, { pad: 0, bias: l.bias, ...(i < net.layers.length - 1 ? { act: "leaky" as const, alpha: 0.1 } : {}) });
  });
  return validateGraph(b.graph({
    name: nameOf(label, "waifu2x vgg_7"), scale: s, output: x, inputPad: { mode: "edge", size: border },
    meta: { source: "waifu2x JSON", family: "waifu2x vgg_7", ...(s > 1 ? { enlargedFirst: s } : {}) },
  }));
}
