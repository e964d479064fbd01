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
  /**
   * Whole-image statistics the plan reads as given tensors (src/runtime/stages.ts): their values, one
   * after another in plan.given's order, each padded to 4 floats, right after the RGBA8 input. 0: none.
   */
  givenPtr: number;
  /** A statistic stage: sum this window of the plan's output (f64 per channel, 2·c f64 at ptr) instead of writing pixels. */
  sum?: { x: number; y: number; w: number; h: number; ptr: number };
  /** RGBA8 output of the crop (crop.w·scale × crop.h·scale). */
  outPtr: number;
}

export function runTile(k: Kernels, net: NetworkHandle, alphaNet: NetworkHandle | null, job: TileJob): void {
  tileInput(k, job);
  runPlanWasm(k, net, job.plan, job.arenaPtr);
  if (job.sum) {
    const { sum, plan: { output } } = job;
    k.channel_sum_f32(job.arenaPtr + output.offset, output.shape.w, output.shape.c, sum.x, sum.y, sum.x + sum.w, sum.y + sum.h, sum.ptr);
    return;
  }
  if (job.alphaPlan && alphaNet) runPlanWasm(k, alphaNet, job.alphaPlan, alphaArena(job));
  tileOutput(k, net.scale, job);
}

/** Floats the given statistics take after the RGBA8 input (see TileJob.givenPtr). */
export const givenFloats = (plan: ExecutionPlan): number => plan.given.reduce((n, t) => n + ((t.shape.c + 3) & ~3), 0);

/**
 * The bytes a tile reads from outside (its RGBA8 input and the given statistics after it) and leaves for
 * the scheduler (its RGBA8 output, or a statistic stage's sums).
 */
export function tileBuffers(job: TileJob, scale: number): { input: [ptr: number, bytes: number]; output: [ptr: number, bytes: number] } {
  const inputEnd = job.givenPtr ? job.givenPtr + givenFloats(job.plan) * 4 : job.rgbaPtr + job.width * job.height * 4;
  const output: [number, number] = job.sum ? [job.sum.ptr, job.plan.output.shape.c * 8] : [job.outPtr, job.crop.w * scale * job.crop.h * scale * 4];
  return { input: [job.rgbaPtr, inputEnd - job.rgbaPtr], output };
}

const alphaArena = (job: TileJob) => job.arenaPtr + job.plan.arenaBytes;

/** RGBA8 → the plan's f32 RGB input (and the alpha plan's input); the given statistics into their slots. */
export function tileInput(k: Kernels, job: TileJob): void {
  const alphaIn = job.alphaPlan ? alphaArena(job) + job.alphaPlan.input.offset : 0;
  k.rgba8_to_f32(job.rgbaPtr, job.arenaPtr + job.plan.input.offset, alphaIn, 0, job.width * job.height);
  let from = job.givenPtr;
  for (const t of job.plan.given) {
    k.copy_channels_f32(from, t.shape.c, job.arenaPtr + t.offset, t.shape.c, 0, 0, 1);
    from += ((t.shape.c + 3) & ~3) * 4;
  }
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
