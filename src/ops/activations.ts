// SPDX-License-Identifier: MIT
// The one table of activations. Each entry gives the kernel's code (assembly/kernels/activation.ts,
// through the generated bindings), its parameters, the float64 reference and the GLSL, so the wasm
// kernels, the reference ops, the WebGL programs and the gradients all read the same list. Used as an
// op of its own (./activation.ts) and fused into Conv2D and Dense (`attrs.act`).
import { ModelFormatError } from "../errors.js";
import { ACT_LEAKY, ACT_NONE, ACT_PRELU, ACT_RELU, ACT_SIGMOID, ACT_SPLINE } from "../backends/wasm/abi.js";
import type { GraphNode, Weight } from "../model/types.js";

interface ActivationDef {
  /** The kernel's code. */
  code: number;
  /** A weight role with `rows` values per channel (PReLU slopes; Spline rows L, Ce, R), laid out [rows][c]. */
  perChannel?: { role: string; rows: number };
  /** Reads the scalar attrs.alpha (LeakyReLU). */
  alpha?: boolean;
  /** y = f(x) in float64; p(r) is row r of this channel's parameters, a is attrs.alpha. */
  ref(x: number, p: (row: number) => number, a: number): number;
  /** GLSL statements that return f(x) for vec4 x; param(r) is the vec4 of row r, u_alpha the scalar. */
  glsl(param: (row: number) => string): string;
}

export const ACTIVATIONS = {
  none: { code: ACT_NONE, ref: (x) => x, glsl: () => "return x;" },
  relu: { code: ACT_RELU, ref: (x) => (x > 0 ? x : 0), glsl: () => "return max(x, vec4(0.0));" },
  leaky: {
    code: ACT_LEAKY, alpha: true,
    ref: (x, _p, a) => (x > 0 ? x : x * a),
    // mix(…, bvec4) is an exact per-component select, as the kernels' bitselect is.
    glsl: () => "return mix(x * u_alpha, x, greaterThan(x, vec4(0.0)));",
  },
  prelu: {
    code: ACT_PRELU, perChannel: { role: "slope", rows: 1 },
    ref: (x, p) => (x > 0 ? x : x * p(0)),
    glsl: (param) => `return mix(x * ${param(0)}, x, greaterThan(x, vec4(0.0)));`,
  },
  spline: {
    // srgan-rust's 3-parameter spline (alumina), in the factored form of ../shared/docs/srgan-rust-rsr.md.
    code: ACT_SPLINE, perChannel: { role: "spline", rows: 3 },
    ref(x, p) {
      const L = p(0), C = p(1), R = p(2);
      if (x <= -1) return -(2 / 3) * (C - 1.5 * L * x - 0.875 * L - 0.125 * R);
      if (x >= 1) return (2 / 3) * (C + 1.5 * R * x - 0.125 * L - 0.875 * R);
      return -(1 / 3) * (C * x ** 3 - 3 * C * x - 0.5 * (L + R) * x ** 3 + 0.75 * (L - R) * x * x);
    },
    glsl: (param) => `vec4 L = ${param(0)}, C = ${param(1)}, R = ${param(2)};
  vec4 x2 = x * x, x3 = x2 * x;
  vec4 left = (-2.0 / 3.0) * (C - 1.5 * L * x - 0.875 * L - 0.125 * R);
  vec4 right = (2.0 / 3.0) * (C + 1.5 * R * x - 0.125 * L - 0.875 * R);
  vec4 mid = (-1.0 / 3.0) * (C * x3 - 3.0 * C * x - 0.5 * (L + R) * x3 + 0.75 * (L - R) * x2);
  return mix(mix(mid, right, greaterThanEqual(x, vec4(1.0))), left, lessThanEqual(x, vec4(-1.0)));`,
  },
  sigmoid: { code: ACT_SIGMOID, ref: (x) => 1 / (1 + Math.exp(-x)), glsl: () => "return 1.0 / (1.0 + exp(-x));" },
} as const satisfies Record<string, ActivationDef>;

export type ActName = keyof typeof ACTIVATIONS;
export const ACT_NAMES = Object.keys(ACTIVATIONS) as ActName[];

const defOf = (node: GraphNode): ActivationDef => ACTIVATIONS[actName(node)];

/** The node's activation (attrs.act, default 'none'); unknown names are a ModelFormatError. */
export function actName(node: GraphNode): ActName {
  const act = (node.attrs.act ?? "none") as string;
  if (!Object.hasOwn(ACTIVATIONS, act)) throw new ModelFormatError(`unknown activation '${act}' (known: ${ACT_NAMES.join(", ")})`);
  return act as ActName;
}

export const actCode = (node: GraphNode): number => defOf(node).code;

/** Checks an activation spec (attrs.act, attrs.alpha, its per-channel weight) against c channels. */
export function checkActivation(node: GraphNode, c: number, weights: Record<string, Weight>): void {
  const def = defOf(node);
  if (def.alpha && typeof node.attrs.alpha !== "number") throw new ModelFormatError(`${actName(node)} activation needs a numeric attrs.alpha`);
  if (def.perChannel) {
    const { role, rows } = def.perChannel;
    const s = weights[node.weights[role]];
    if (!s || s.data.length !== rows * c) throw new ModelFormatError(`${actName(node)} needs a '${role}' weight of ${rows > 1 ? `${rows}×` : ""}${c} values`);
  }
}

/** The node's per-channel activation weights from the graph's weight table ([rows][c]), or undefined. */
function perChannelData(node: GraphNode, weights: Record<string, Weight>): Float32Array | undefined {
  const role = defOf(node).perChannel?.role;
  return role ? weights[node.weights[role]]?.data : undefined;
}

/** Channels the activation's weights are for (0 when it has none): an Activation node knows c only from them. */
export function actChannels(node: GraphNode, weights: Record<string, Weight>): number {
  const p = defOf(node).perChannel;
  return p ? (perChannelData(node, weights)?.length ?? 0) / p.rows : 0;
}

/** Kernel parameters: attrs.alpha as one float, or the per-channel rows as [rows][c padded to 4]. */
export function packActivation(node: GraphNode, c: number, weights: Record<string, Weight>): Record<string, Float32Array> {
  const def = defOf(node);
  if (def.alpha) return { actParams: Float32Array.of(node.attrs.alpha as number) };
  if (!def.perChannel) return {};
  const src = perChannelData(node, weights)!;
  const cp = (c + 3) & ~3;
  const p = new Float32Array(def.perChannel.rows * cp);
  for (let r = 0; r < def.perChannel.rows; r++) p.set(src.subarray(r * c, (r + 1) * c), r * cp);
  return { actParams: p };
}

/** Reference activation of one value of channel ch (of c); `weights` maps roles to unpacked data. */
export function activateRef(x: number, node: GraphNode, ch: number, c: number, weights: Record<string, Float32Array>): number {
  const def = defOf(node);
  const p = def.perChannel ? weights[def.perChannel.role] : undefined;
  return def.ref(x, (row) => p![row * c + ch], (node.attrs.alpha as number | undefined) ?? 0);
}

// ---- WebGL: a tensor on the GPU holds 4 channels per texel layer (src/backends/webgl/programs/common.ts) ----

/** Parameter texels per layer of 4 channels: one per per-channel row. */
export const actTexelsPerLayer = (act: ActName): number => (ACTIVATIONS[act] as ActivationDef).perChannel?.rows ?? 0;

/** The node's activation and its parameter texels, layer-major: texel l·rows + r holds row r of channels 4l..4l+3. */
export function activationTexels(node: GraphNode, weights: Record<string, Weight>, c: number): { act: ActName; texels: Float32Array } {
  const act = actName(node);
  const rows = actTexelsPerLayer(act);
  const src = perChannelData(node, weights);
  const t = new Float32Array(Math.ceil(c / 4) * rows * 4);
  if (src) for (let ch = 0; ch < c; ch++) for (let r = 0; r < rows; r++) t[((ch >> 2) * rows + r) * 4 + (ch & 3)] = src[r * c + ch];
  return { act, texels: t };
}

/** GLSL `vec4 act(vec4 x, int l)` for output layer l; param(r) is the GLSL expression of that layer's row r (it may use l). */
export function activationGlsl(act: ActName, param: (row: number) => string): string {
  return `uniform float u_alpha;\nvec4 act(vec4 x, int l) {\n  ${(ACTIVATIONS[act] as ActivationDef).glsl(param)}\n}\n`;
}
