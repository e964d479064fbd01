// The network run in float on the whole image as the upscaler extends it (inputPad, align), one pass,
// cropped to scale × the image: what the importers' and exporters' tests compare other runtimes with.
import type { Engine } from "../src/runtime/engine.js";
import { prepareNetwork } from "../src/runtime/network.js";
import { planExecution } from "../src/runtime/plan.js";
import { runPlanWasm } from "../src/runtime/executor.js";
import { copyRect } from "../src/image/border.js";
import { virtualExtent } from "../src/runtime/tiler.js";
import type { ValidatedGraph } from "../src/model/types.js";
import type { RgbaImage } from "../src/image/rgba.js";

/** The network on the image extended by its border (and align), as one whole-image pass, cropped to scale × image: float RGB. */
export function runFloat(engine: Engine, g: ValidatedGraph, img: RgbaImage): Float32Array {
  const E = g.inputPad?.size ?? 0;
  const vx = virtualExtent(img.width, E, g.align), vy = virtualExtent(img.height, E, g.align);
  const [vw, vh] = [vx.end - vx.start, vy.end - vy.start];
  const rgba = new Uint8Array(vw * vh * 4);
  copyRect(img, vx.start, vy.start, vw, vh, g.inputPad?.mode ?? "zero", rgba);
  const net = prepareNetwork(engine, g);
  const plan = planExecution(g, vh, vw);
  const lease = engine.pool.lease(plan.arenaBytes);
  try {
    const x = engine.f32(lease.ptr + plan.input.offset, vw * vh * 3);
    for (let i = 0; i < vw * vh; i++) for (let k = 0; k < 3; k++) x[i * 3 + k] = rgba[i * 4 + k] / 255;
    runPlanWasm(engine.kernels, net.handle, plan, lease.ptr);
    const s = g.scale, off = (E - g.shrink) * s, W = img.width * s, H = img.height * s, ow = plan.output.shape.w;
    const y = engine.f32(lease.ptr + plan.output.offset, plan.output.shape.h * ow * 3);
    const out = new Float32Array(W * H * 3);
    for (let r = 0; r < H; r++) out.set(y.subarray(((r + off) * ow + off) * 3, ((r + off) * ow + off + W) * 3), r * W * 3);
    return out;
  } finally {
    engine.pool.release(lease);
    engine.pool.release(net.weightsLease);
  }
}
