// SPDX-License-Identifier: MIT
// Resize on the GPU with src/ops/resize.ts's exact semantics (MATLAB imresize: half-pixel centres,
// mirror edges, antialiased shrink, normalised taps, height first; `cubic` with clamped edges). The tap tables come from the same
// resizePhases() the reference and the wasm kernel use, so every output reads the same input pixels
// with the same weights; only the arithmetic is float32 instead of the reference's float64.
// Two passes, as the reference: height into an [outH, w] scratch texture, then width.
import { UnsupportedError } from "../../../errors.js";
import type { GraphNode, Shape } from "../../../model/types.js";
import { resizePhases, resizeRatio, type ResizeMethod } from "../../../ops/resize-taps.js";
import { FRAGMENT_HEADER } from "../context.js";
import { acquireTensor, FRAG_XY, layersOf, type GpuTensor, type ProgramFactory } from "./common.js";

// Bounds of the tables: up ≤ 16 phases; taps ≤ 4·16 (bicubic shrinking by 16). Checked below.
const MAX_PHASES = 16;
const MAX_WEIGHTS = 64;

function passShader(axis: 0 | 1, up: number, down: number, taps: number, clamp: boolean): string {
  return `${FRAGMENT_HEADER}
uniform sampler2DArray u_in;
uniform int u_layer;
uniform ivec2 u_inSize;
uniform int u_first[${MAX_PHASES}];
uniform float u_wt[${MAX_WEIGHTS}];
const int UP = ${up};
const int DOWN = ${down};
const int TAPS = ${taps};
out vec4 o;
// MATLAB's symmetric extension into [0, n), or clamping (method cubic). GLSL's % is undefined for
// negative operands, so the floor division is done in float (exact: |i| is far below 2^24).
int edge(int i, int n) {
  ${clamp ? "return clamp(i, 0, n - 1);" : ""}
  int p = 2 * n;
  int m = i - p * int(floor(float(i) / float(p)));
  return m < n ? m : p - 1 - m;
}
void main() {
  ivec2 p = ${FRAG_XY};
  int at = ${axis === 0 ? "p.y" : "p.x"};
  int q = at / UP;
  int r = at - q * UP;
  int f = u_first[r] + q * DOWN;
  int n = ${axis === 0 ? "u_inSize.y" : "u_inSize.x"};
  vec4 s = vec4(0.0);
  for (int j = 0; j < TAPS; j++) {
    int i = edge(f + j, n);
    s += u_wt[r * TAPS + j] * texelFetch(u_in, ivec3(${axis === 0 ? "p.x, i" : "i, p.y"}, u_layer), 0);
  }
  o = s;
}
`;
}

export const resizeProgram: ProgramFactory = (env, node: GraphNode, _weights, _inputs: Shape[]) => {
  const { method } = node.attrs as { method: ResizeMethod };
  const [up, down] = resizeRatio(node.attrs);
  const phases = resizePhases(method, up, down);
  const taps = phases[0].weights.length;
  if (up > MAX_PHASES || up * taps > MAX_WEIGHTS) throw new UnsupportedError(`resize ${method} ${up}/${down} needs ${up * taps} taps, over the WebGL program's ${MAX_WEIGHTS}`);
  const first = new Int32Array(MAX_PHASES);
  const wt = new Float32Array(MAX_WEIGHTS);
  phases.forEach((ph, r) => {
    first[r] = ph.first;
    ph.weights.forEach((w, j) => { wt[r * taps + j] = w; });
  });
  const sources = [passShader(0, up, down, taps, method === "cubic"), passShader(1, up, down, taps, method === "cubic")] as const;
  const { ctx } = env;
  for (const s of sources) ctx.program(s);
  const pass = (axis: 0 | 1, input: GpuTensor, output: GpuTensor) => {
    const u = ctx.use(ctx.program(sources[axis]));
    ctx.bindTexture(0, input.tex.tex);
    u.int("u_in", 0).ivec2("u_inSize", input.w, input.h).ints("u_first", first).floats("u_wt", wt);
    for (let l = 0; l < layersOf(output.c); l++) {
      u.int("u_layer", l);
      ctx.drawToLayer(output.tex.tex, l, output.w, output.h, taps);
    }
  };
  return {
    run([input]: GpuTensor[], output: GpuTensor) {
      const mid = acquireTensor(env, { h: output.h, w: input.w, c: input.c });
      try {
        pass(0, input, mid);
        pass(1, mid, output);
      } finally {
        env.pool.release(mid.tex);
      }
    },
    scratchBytes: (inputs, out) => env.pool.bytesFor(env.floatFormat, inputs[0].w, out.h, layersOf(out.c)),
    dispose() {},
  };
};
