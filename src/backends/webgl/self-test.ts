// SPDX-License-Identifier: MIT
// The check a new WebGL runner makes before it takes jobs: some GPUs and drivers compile every shader
// and still compute wrongly (precision, broken loops), and they must fail at creation, not in a job.
import { UnsupportedError } from "../../errors.js";
import type { Graph, ValidatedGraph } from "../../model/types.js";
import { getOp } from "../../ops/registry.js";
import { GpuNetwork } from "./executor.js";
import type { PixelIo } from "./programs/io.js";
import type { GlEnv } from "./programs/common.js";

/**
 * Runs a small random-ish convolution (PReLU fused, 5 → 6 channels) on the GPU and compares it with the
 * CPU reference; throws UnsupportedError for a GPU that computes it wrongly (rejected before any job).
 */
export function selfTest(env: GlEnv, io: PixelIo): void {
  const g = selfTestGraph();
  const net = new GpuNetwork(env, g);
  const h = 5, w = 6;
  const x = new Float32Array(h * w * 5).map((_, i) => Math.sin(i * 0.7) * 0.9);
  try {
    const t = io.uploadFloat(x, w, 5, 0, 0, w, h);
    const y = net.run(t);
    const got = new Float32Array(h * w * 6);
    try { io.readFloat(y, 0, 0, w, h, got, w, 0, 0); } finally { env.pool.release(y.tex); }
    env.ctx.checkLost("during the self-test");
    const want = new Float32Array(h * w * 6);
    const node = g.nodes[0];
    const weights = Object.fromEntries(Object.entries(node.weights).map(([role, name]) => [role, g.weights[name].data]));
    getOp("Conv2D")!.reference({ node, inputs: [{ data: x, shape: { h, w, c: 5 } }], output: { data: want, shape: { h, w, c: 6 } }, weights, y0: 0, y1: h });
    const tol = env.ctx.precision === "float16" ? 2e-2 : 1e-4;
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) || (Number.isNaN(got[i]) ? Infinity : 0));
    if (!(worst <= tol)) {
      throw new UnsupportedError(`WebGL2 on this GPU (${env.ctx.caps.renderer}) computes a test convolution wrongly (max error ${worst}, allowed ${tol}). Use backend: 'wasm'.`);
    }
  } finally {
    net.dispose();
    env.pool.clearFree();
  }
}

function selfTestGraph(): ValidatedGraph {
  const k = 3, cin = 5, cout = 6;
  const kernel = new Float32Array(cout * k * k * cin).map((_, i) => Math.cos(i * 1.3) * 0.5);
  const bias = Float32Array.from({ length: cout }, (_, i) => 0.1 * i - 0.2);
  const slope = Float32Array.from({ length: cout }, (_, i) => 0.05 * (i + 1));
  const g: Graph = {
    name: "webgl-self-test", scale: 1, channels: cin, input: "x", output: "y",
    nodes: [{ op: "Conv2D", inputs: ["x"], output: "y", attrs: { k, cout, act: "prelu" }, weights: { kernel0: "k", bias: "b", slope: "s" } }],
    weights: { k: { shape: [cout, k, k, cin], data: kernel }, b: { shape: [cout], data: bias }, s: { shape: [cout], data: slope } },
  };
  // Not a valid network (channels 5 → 6), so only the op's own shape rule is checked.
  return { ...g, receptiveRadius: 1, shrink: 0, global: false, parameterCount: kernel.length + 2 * cout };
}
