// SPDX-License-Identifier: MIT
// Whole-image statistics without the whole image in memory. Networks with squeeze-excitation (waifu2x's
// CUNet, Real-CUGAN) pool whole feature maps (GlobalMean); pooling per tile instead, as the upstream
// tools do, makes the result depend on the tile size. Here such a network runs in stages: stage i
// computes the input of the i-th statistic tile by tile, each tile summing the part of that feature map
// it owns (the map's pixels whose place in the image lies in the tile's core), with the earlier
// statistics given; the last stage runs the whole network with every statistic given, tileable like any
// other. Stage i recomputes the network up to statistic i, so this costs more arithmetic than one
// whole-image pass (docs/formats.md says how much) and is only chosen when the whole image does not fit.
import type { GivenTensors } from "../model/graph.js";
import { tensorGeometry } from "../model/graph.js";
import type { ValidatedGraph } from "../model/types.js";
import type { NetworkHandle } from "./network.js";
import type { Rect, Tile } from "./tiler.js";

export interface Stage {
  /** The part of the network that computes this stage's output (the network's own, for the last stage). */
  graph: ValidatedGraph;
  /** Statistics this stage reads as given [1, 1, c] tensors. */
  given: GivenTensors;
  /** Input pixels of context its output reads, per side. */
  radius: number;
  /** Statistic stages: the GlobalMean node whose input this stage computes, and where that tensor lies. */
  statistic?: { node: number; channels: number; offset: number; scale: number };
}

/** The stages of a network with whole-image statistics: one per GlobalMean, in order, then the whole network. */
export function planStages(g: ValidatedGraph): Stage[] {
  const means = g.nodes.flatMap((n, i) => (n.op === "GlobalMean" ? [i] : []));
  const given: Record<string, number> = {};
  const stages: Stage[] = means.map((i) => {
    const t = g.nodes[i].inputs[0];
    const stage = partial(g, t, { ...given });
    const geo = tensorGeometry(stage.graph, t, stage.given);
    given[g.nodes[i].output] = geo.shape.c;
    return { ...stage, statistic: { node: i, channels: geo.shape.c, offset: geo.offset, scale: geo.scale } };
  });
  return [...stages, partial(g, g.output, given)];
}

/** The nodes of g that compute `output` with the `given` tensors given, as a graph of their own. */
function partial(g: ValidatedGraph, output: string, given: GivenTensors): Stage {
  const needed = new Set([output]);
  const keep = new Array<boolean>(g.nodes.length).fill(false);
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const n = g.nodes[i];
    if (!needed.has(n.output) || n.output in given) continue;
    keep[i] = true;
    for (const t of n.inputs) needed.add(t);
  }
  const used: Record<string, number> = {};
  for (const t of Object.keys(given)) if (needed.has(t)) used[t] = given[t];
  const graph: ValidatedGraph = { ...g, nodes: g.nodes.filter((_, i) => keep[i]), output, global: false, receptiveRadius: 0 };
  const radius = Math.ceil(tensorGeometry(graph, output, used).radius);
  return { graph: { ...graph, receptiveRadius: radius }, given: used, radius };
}

/** The handle of a stage: the full network's packed weights for the nodes it keeps. */
export function stageHandle(full: NetworkHandle, g: ValidatedGraph, stage: Stage): NetworkHandle {
  const index = new Map(g.nodes.map((n, i) => [n, i]));
  return {
    ...full, nodes: stage.graph.nodes, output: stage.graph.output, receptiveRadius: stage.radius, global: false,
    packed: stage.graph.nodes.map((n) => full.packed[index.get(n)!]),
  };
}

/**
 * The part of a statistic stage's output tensor (its pixels [0, w) × [0, h) in the tile) that the tile
 * owns: the pixels whose place in the (virtual) image lies in its core, stretched to the image's edges
 * for tiles on them, so that the tiles of one image own every pixel of the whole-image tensor once.
 */
export function ownedWindow(tile: Tile, image: { width: number; height: number }, geo: { offset: number; scale: number }, w: number, h: number): Rect {
  const axis = (coreAt: number, coreLen: number, paddedAt: number, n: number, len: number) => {
    // Tensor pixel j lies at virtual input coordinate paddedAt + offset + j / scale.
    const index = (x: number) => Math.min(len, Math.max(0, Math.ceil((x - paddedAt - geo.offset) * geo.scale)));
    return [coreAt === 0 ? 0 : index(coreAt), coreAt + coreLen === n ? len : index(coreAt + coreLen)];
  };
  const [x0, x1] = axis(tile.core.x, tile.core.w, tile.padded.x, image.width, w);
  const [y0, y1] = axis(tile.core.y, tile.core.h, tile.padded.y, image.height, h);
  return { x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
}
