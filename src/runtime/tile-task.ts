// SPDX-License-Identifier: MIT
// One tile, start to finish, on whichever thread runs it: RGBA8 in → f32 planes → graph → crop →
// RGBA8 out, all inside one arena leased for the tile. Alpha (when present) is resized on its own with
// bicubic and rejoined; it never goes through the network.
import type { Kernels } from "../backends/wasm/abi.js";
import { runPlanWasm } from "./executor.js";
import type { NetworkHandle } from "./network.js";
import type { ExecutionPlan } from "./plan.js";
import type { Rect } from "./tiler.js";

export interface TileJob {
  /** RGBA8 pixels of the padded rectangle, row-major, in the shared memory. */
  rgbaPtr: number;
  width: number;
  height: number;
  /** Arena of plan.arenaBytes (+ alphaPlan.arenaBytes when alpha is present). */
  arenaPtr: number;
  plan: ExecutionPlan;
  /** Plan of the alpha resize graph at the same size, or null when the image is opaque. */
  alphaPlan: ExecutionPlan | null;
  /** Core rectangle relative to the padded one, input pixels. */
  crop: Rect;
  /** RGBA8 output of the crop (crop.w·scale × crop.h·scale). */
  outPtr: number;
}

export function runTile(k: Kernels, net: NetworkHandle, alphaNet: NetworkHandle | null, job: TileJob): void {
  const { plan, alphaPlan, arenaPtr } = job;
  const n = job.width * job.height;
  const alphaArena = arenaPtr + plan.arenaBytes;
  const alphaIn = alphaPlan ? alphaArena + alphaPlan.input.offset : 0;
  k.rgba8_to_f32(job.rgbaPtr, arenaPtr + plan.input.offset, alphaIn, 0, n);
  runPlanWasm(k, net, plan, arenaPtr);
  if (alphaPlan && alphaNet) runPlanWasm(k, alphaNet, alphaPlan, alphaArena);
  const s = net.scale;
  const outW = plan.output.shape.w;
  const cw = job.crop.w * s;
  const rgb = arenaPtr + plan.output.offset;
  const alpha = alphaPlan ? alphaArena + alphaPlan.output.offset : 0;
  for (let row = 0; row < job.crop.h * s; row++) {
    const src = (job.crop.y * s + row) * outW + job.crop.x * s; // pixel index in the tile's output
    k.f32_to_rgba8(rgb + src * 12, alpha ? alpha + src * 4 : 0, job.outPtr + row * cw * 4, 0, cw);
  }
}
