// SPDX-License-Identifier: MIT
// The explicit list of ops. A graph may use exactly these; adding an op means adding its file and one
// line here (no side-effect registration).
import type { OpDef } from "./op.js";
import { Conv2D } from "./conv2d.js";
import { Activation } from "./activation.js";
import { PixelShuffle } from "./pixel-shuffle.js";
import { Add } from "./add.js";
import { Resize } from "./resize.js";
import { GlobalMean } from "./global-pool.js";
import { Dense } from "./dense.js";
import { Mul } from "./mul.js";
import { Crop } from "./crop.js";
import { SpaceToDepth } from "./space-to-depth.js";
import { Concat } from "./concat.js";

const OPS: readonly OpDef[] = [Conv2D, Activation, PixelShuffle, Add, Resize, GlobalMean, Dense, Mul, Crop, SpaceToDepth, Concat];

const byName = new Map(OPS.map((op) => [op.name, op]));

export function getOp(name: string): OpDef | undefined {
  return byName.get(name);
}

export function opNames(): string[] {
  return [...byName.keys()];
}
