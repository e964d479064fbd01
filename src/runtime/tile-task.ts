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
  /** Input pixels the network's output starts in from the padded rectangle (its unpadded ops' shrink). */
  shrink: number;
  /** RGBA8 output of the crop (crop.w·scale × crop.h·scale). */
  outPtr: number;
}

export function runTile(k: Kernels, net: NetworkHandle, alphaNet: NetworkHandle | null, job: TileJob): void {
  tileInput(k, job);
  runPlanWasm(k, net, job.plan, job.arenaPtr);
  if (job.alphaPlan && alphaNet) runPlanWasm(k, alphaNet, job.alphaPlan, alphaArena(job));
  tileOutput(k, net.scale, job);
}

/** The bytes a tile reads from outside (its RGBA8 input) and leaves for the scheduler (its RGBA8 output). */
export function tileBuffers(job: TileJob, scale: number): { input: [ptr: number, bytes: number]; output: [ptr: number, bytes: number] } {
  return { input: [job.rgbaPtr, job.width * job.height * 4], output: [job.outPtr, job.crop.w * scale * job.crop.h * scale * 4] };
}

const alphaArena = (job: TileJob) => job.arenaPtr + job.plan.arenaBytes;

/** RGBA8 → the plan's f32 RGB input (and the alpha plan's input). */
export function tileInput(k: Kernels, job: TileJob): void {
  const alphaIn = job.alphaPlan ? alphaArena(job) + job.alphaPlan.input.offset : 0;
  k.rgba8_to_f32(job.rgbaPtr, job.arenaPtr + job.plan.input.offset, alphaIn, 0, job.width * job.height);
}

/**
 * Rows [y0, y1) (default: all) of the crop of the network output (and alpha) → RGBA8 at job.outPtr. The
 * alpha plane covers the whole padded rectangle; the network's output starts `shrink` pixels in.
 */
export function tileOutput(k: Kernels, scale: number, job: TileJob, y0 = 0, y1 = job.crop.h * scale): void {
  const { plan, alphaPlan, crop, shrink } = job;
  const outW = plan.output.shape.w;
  const cw = crop.w * scale;
  const rgb = job.arenaPtr + plan.output.offset;
  const alpha = alphaPlan ? alphaArena(job) + alphaPlan.output.offset : 0;
  const alphaW = alphaPlan?.output.shape.w ?? 0;
  for (let row = y0; row < y1; row++) {
    // Pixel indices in the tile's network output and alpha output.
    const src = ((crop.y - shrink) * scale + row) * outW + (crop.x - shrink) * scale;
    const srcAlpha = (crop.y * scale + row) * alphaW + crop.x * scale;
    k.f32_to_rgba8(rgb + src * 12, alpha ? alpha + srcAlpha * 4 : 0, job.outPtr + row * cw * 4, 0, cw);
  }
}
