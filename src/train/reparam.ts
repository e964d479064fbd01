// SPDX-License-Identifier: MIT
// Training-time re-parameterisation (RepVGG / ECBSR without batch norm): every k×k Conv2D kernel W is
// trained as the sum of branches
//   W = K + centre(C) + S ∘ E
// K the k×k kernel itself, C a 1×1 conv [cout, cin] on the centre tap, and S ∘ E a 1×1 expansion
// E [m, cin] followed by a k×k conv S [cout, k, k, m] (m = cout). All branches are linear, so their
// sum is one k×k kernel: the branches live only in the parameter vector, the forward and backward
// passes run the folded kernel at no extra cost, and the saved network is the folded one. What the
// branches change is the optimisation: Adam steps each branch parameter on its own (the centre tap
// moves faster), and S ∘ E is a product, so its updates are not those of a plain kernel.
import type { Graph, Weight } from "../model/graph.js";
import type { Engine } from "../runtime/engine.js";
import { MATMUL_ACCUMULATE } from "../backends/wasm/abi.js";
import { Rng } from "./rng.js";

/** One folded kernel's branch weights (names in the graph's weight table). */
export interface Branches { kernel: string; centre: string; expand: string; squeeze: string }

const META_KEY = "reparam";

/** The branch table of a training graph (empty when it has none). */
export function branchesOf(g: Graph): Branches[] {
  return (g.meta?.[META_KEY] as Branches[] | undefined) ?? [];
}

/**
 * `g` with branches added to every k×k (k > 1) Conv2D, initialised so the folded kernels equal g's
 * (C = 0, S = 0, E uniform in ±1/√cin): training starts from exactly g's outputs.
 */
export function addBranches(g: Graph, seed: number): Graph {
  if (branchesOf(g).length > 0) return g;
  const rng = new Rng(seed);
  const weights: Record<string, Weight> = { ...g.weights };
  const table: Branches[] = [];
  for (const node of g.nodes) {
    const kernel = node.weights?.kernel0;
    if (node.op !== "Conv2D" || !kernel || Number(node.attrs.k) <= 1) continue;
    const [cout, k, , cin] = g.weights[kernel].shape;
    const m = cout, bound = 1 / Math.sqrt(cin);
    const b: Branches = { kernel, centre: `${kernel}.rep.centre`, expand: `${kernel}.rep.expand`, squeeze: `${kernel}.rep.squeeze` };
    weights[b.centre] = { shape: [cout, cin], data: new Float32Array(cout * cin) };
    weights[b.expand] = { shape: [m, cin], data: Float32Array.from({ length: m * cin }, () => bound * (2 * rng.next() - 1)) };
    weights[b.squeeze] = { shape: [cout, k, k, m], data: new Float32Array(cout * k * k * m) };
    table.push(b);
  }
  return { ...g, weights, meta: { ...g.meta, [META_KEY]: table } };
}

/** A graph's weights with the branches folded in and removed (what inference runs). */
export function foldGraph(g: Graph): Graph {
  const table = branchesOf(g);
  if (table.length === 0) return g;
  const weights: Record<string, Weight> = { ...g.weights };
  for (const b of table) {
    const w = g.weights[b.kernel];
    const data = new Float32Array(w.data);
    foldOne(data, w.shape, g.weights[b.centre].data, g.weights[b.expand].data, g.weights[b.squeeze].data);
    weights[b.kernel] = { shape: [...w.shape], data };
    delete weights[b.centre];
    delete weights[b.expand];
    delete weights[b.squeeze];
  }
  const { [META_KEY]: _, ...meta } = g.meta ?? {};
  return { ...g, weights, meta };
}

/** kernel += centre(C) + S ∘ E, in place; `shape` is the kernel's [cout, k, k, cin]. */
function foldOne(kernel: Float32Array, shape: number[], c: Float32Array, e: Float32Array, s: Float32Array): void {
  const [cout, k, , cin] = shape, taps = k * k, m = e.length / cin, mid = (taps - 1) / 2;
  for (let o = 0; o < cout; o++) {
    for (let t = 0; t < taps; t++) {
      const row = (o * taps + t) * cin, sRow = (o * taps + t) * m;
      if (t === mid) for (let i = 0; i < cin; i++) kernel[row + i] += c[o * cin + i];
      for (let j = 0; j < m; j++) {
        const sv = s[sRow + j];
        if (sv === 0) continue;
        for (let i = 0; i < cin; i++) kernel[row + i] += sv * e[j * cin + i];
      }
    }
  }
}

/**
 * The part of a ProgramSpec (./program.ts) the folder reads, spelled out so that this file, which
 * program.ts imports, does not import it back.
 */
interface ParamLayout { params: Record<string, { shape: number[]; offset: number; length: number }>; paramCount: number }

/** Fold and chain rule over the flat parameter vector of a program (spec.params layout). */
export class BranchFolder {
  private constructor(private readonly spec: ParamLayout, private readonly table: Branches[]) {}

  /** A folder for the program's graph, or undefined when it has no branches. */
  static of(spec: ParamLayout, g: Graph): BranchFolder | undefined {
    const table = branchesOf(g);
    return table.length > 0 ? new BranchFolder(spec, table) : undefined;
  }

  private view(v: Float32Array, name: string): Float32Array {
    const p = this.spec.params[name];
    return v.subarray(p.offset, p.offset + p.length);
  }

  /** effective = params with every kernel replaced by its folded sum (branch slots copied as they are). */
  fold(params: Float32Array, effective: Float32Array): void {
    effective.set(params);
    for (const b of this.table) {
      foldOne(this.view(effective, b.kernel), this.spec.params[b.kernel].shape, this.view(params, b.centre), this.view(params, b.expand), this.view(params, b.squeeze));
    }
  }

  /**
   * fold() on vectors in the engine's memory (byte pointers), with the matmul kernel: what the training
   * loop runs every step (the TypeScript fold() is its reference).
   */
  foldWasm(engine: Engine, paramsPtr: number, effectivePtr: number): void {
    const P = this.spec.params;
    const at = (ptr: number, name: string) => ptr + 4 * P[name].offset;
    engine.f32(effectivePtr, this.spec.paramCount).set(engine.f32(paramsPtr, this.spec.paramCount));
    for (const b of this.table) {
      const [cout, k, , cin] = P[b.kernel].shape, taps = k * k, m = P[b.expand].length / cin;
      const kernel = engine.f32(at(effectivePtr, b.kernel), P[b.kernel].length), c = engine.f32(at(paramsPtr, b.centre), cout * cin);
      const mid = (taps - 1) / 2;
      for (let o = 0; o < cout; o++) for (let i = 0; i < cin; i++) kernel[(o * taps + mid) * cin + i] += c[o * cin + i];
      // K[(o,t), i] += Σⱼ S[(o,t), j] · E[j, i]
      engine.kernels.matmul_f32(at(paramsPtr, b.squeeze), at(paramsPtr, b.expand), at(effectivePtr, b.kernel), cout * taps, cin, m, MATMUL_ACCUMULATE);
    }
  }

  /** Floats of scratch chainWasm needs (transposed copies of one layer's E and S). */
  scratchFloats(): number {
    return Math.max(0, ...this.table.map((b) => this.spec.params[b.expand].length + this.spec.params[b.squeeze].length));
  }

  /** chain() on vectors in the engine's memory (byte pointers), with the matmul kernel; scratch of scratchFloats() floats. */
  chainWasm(engine: Engine, paramsPtr: number, gradPtr: number, scratchPtr: number): void {
    const P = this.spec.params;
    const at = (ptr: number, name: string) => ptr + 4 * P[name].offset;
    for (const b of this.table) {
      const [cout, k, , cin] = P[b.kernel].shape, taps = k * k, mid = (taps - 1) / 2, M = cout * taps;
      const m = P[b.expand].length / cin;
      const dW = engine.f32(at(gradPtr, b.kernel), M * cin), dC = engine.f32(at(gradPtr, b.centre), cout * cin);
      for (let o = 0; o < cout; o++) dC.set(dW.subarray((o * taps + mid) * cin, (o * taps + mid + 1) * cin), o * cin);
      const eT = engine.f32(scratchPtr, cin * m), sT = engine.f32(scratchPtr + 4 * cin * m, m * M);
      transpose(engine.f32(at(paramsPtr, b.expand), m * cin), m, cin, eT);
      transpose(engine.f32(at(paramsPtr, b.squeeze), M * m), M, m, sT);
      // dS = dW · Eᵀ,  dE = Sᵀ · dW
      engine.kernels.matmul_f32(at(gradPtr, b.kernel), scratchPtr, at(gradPtr, b.squeeze), M, m, cin, 0);
      engine.kernels.matmul_f32(scratchPtr + 4 * cin * m, at(gradPtr, b.kernel), at(gradPtr, b.expand), m, cin, M, 0);
    }
  }

  /**
   * grad holds dL/dW for each folded kernel W (in the kernel's slot; dL/dK is the same); writes the
   * branches' gradients: dC = centre(dW), dS[o,t,j] = Σᵢ dW[o,t,i]·E[j,i], dE[j,i] = Σₒₜ S[o,t,j]·dW[o,t,i].
   */
  chain(params: Float32Array, grad: Float32Array): void {
    for (const b of this.table) {
      const [cout, k, , cin] = this.spec.params[b.kernel].shape, taps = k * k, mid = (taps - 1) / 2;
      const dW = this.view(grad, b.kernel), e = this.view(params, b.expand), s = this.view(params, b.squeeze);
      const dC = this.view(grad, b.centre), dE = this.view(grad, b.expand), dS = this.view(grad, b.squeeze);
      const m = e.length / cin;
      dE.fill(0);
      for (let o = 0; o < cout; o++) {
        for (let i = 0; i < cin; i++) dC[o * cin + i] = dW[(o * taps + mid) * cin + i];
        for (let t = 0; t < taps; t++) {
          const row = (o * taps + t) * cin, sRow = (o * taps + t) * m;
          for (let j = 0; j < m; j++) {
            let acc = 0;
            const eRow = j * cin, sv = s[sRow + j];
            for (let i = 0; i < cin; i++) {
              acc += dW[row + i] * e[eRow + i];
              dE[eRow + i] += sv * dW[row + i];
            }
            dS[sRow + j] = acc;
          }
        }
      }
    }
  }
}

/** out[c, r] = a[r, c] for a rows × cols matrix a (row-major). */
function transpose(a: Float32Array, rows: number, cols: number, out: Float32Array): void {
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c];
}
