// SPDX-License-Identifier: MIT
// Weight-space blending of two networks of one architecture (WiSE-FT, Wortsman et al. 2022): a network
// fine-tuned from another and the one it started from lie in one basin, so α·tuned + (1−α)·base trades
// what fine-tuning gained against what it lost, smoothly and at no cost at inference. `natural-real` is
// such a blend: its JPEG fine-tune with a share of `natural`, chosen on held-out photos (docs/models.md).
import type { Graph, Weight } from "../model/graph.js";
import { invalidInput } from "../errors.js";

export function blendNetworks(tuned: Graph, base: Graph, alpha: number): Graph {
  if (!(alpha >= 0 && alpha <= 1)) throw new RangeError(`alpha must be in [0, 1], got ${alpha}`);
  const names = Object.keys(tuned.weights).sort();
  const same = JSON.stringify(tuned.nodes) === JSON.stringify(base.nodes) && names.join() === Object.keys(base.weights).sort().join()
    && names.every((n) => tuned.weights[n].shape.join() === base.weights[n].shape.join());
  if (!same) throw invalidInput(`networks '${tuned.name}' and '${base.name}' differ in layers or weight shapes; only networks of one architecture blend (e.g. a fine-tune and the network it started from)`);
  const weights: Record<string, Weight> = {};
  for (const n of names) {
    const t = tuned.weights[n].data, b = base.weights[n].data;
    weights[n] = { shape: [...tuned.weights[n].shape], data: t.map((v, i) => alpha * v + (1 - alpha) * b[i]) };
  }
  return { ...tuned, weights, meta: { ...tuned.meta, blend: { alpha, base: base.name, baseArch: base.meta?.arch } } };
}
