// Shared test utilities: a seeded PRNG, random tensors, closeness checks, and ../shared lookup.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as assert from "uvu/assert";

export { rng, randInt } from "./random.js";

export function randomArray(n: number, rand: () => number, lo = -1, hi = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * rand();
  return a;
}


/** Index of the first element with |a−b| > tol·max(1, |b|), or -1 (also -1 only if lengths match). */
export function firstMismatch(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-5): number {
  if (actual.length !== expected.length) return 0;
  for (let i = 0; i < expected.length; i++) {
    if (!(Math.abs(actual[i] - expected[i]) <= tol * Math.max(1, Math.abs(expected[i])))) return i;
  }
  return -1;
}

/** Asserts |a−b| ≤ tol·max(1, |b|) element-wise, reporting the first offender. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-5, label = ""): void {
  assert.is(actual.length, expected.length, `${label} length`);
  const i = firstMismatch(actual, expected, tol);
  if (i >= 0) assert.unreachable(`${label} element ${i}: got ${actual[i]}, expected ${expected[i]} (tol ${tol})`);
}

export function assertBitIdentical(a: ArrayLike<number>, b: ArrayLike<number>, label = ""): void {
  assert.is(a.length, b.length, `${label} length`);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i]) && a[i] !== b[i]) assert.unreachable(`${label} differs at ${i}: ${a[i]} vs ${b[i]}`);
}

/**
 * Node arguments for a child process that runs TypeScript from this checkout: tsx, and the export
 * condition under which "srgan-wasm" and "srgan-wasm-server" resolve to their sources (test/run.mjs).
 */
export const TSX = ["--conditions=srgan-source", "--import", "tsx"];

/** ../shared beside the project (present in this workplace and in CI; absent in a user's clone). */
export const SHARED = fileURLToPath(new URL("../../shared/", import.meta.url));

/**
 * True when ../shared is present. When it is not: in CI (env CI set) that is a failure; elsewhere the
 * caller's tests skip and we print one line saying why.
 */
export function haveShared(what: string): boolean {
  if (existsSync(SHARED)) return true;
  if (process.env.CI) throw new Error(`../shared is missing but CI is set: ${what} must run in CI`);
  console.log(`skip: ${what} (needs ../shared beside the project; not present in this clone)`);
  return false;
}

/** A small random ×4 network (conv → conv → pixel-shuffle) that needs no Resize: for engine tests. */
export function shuffleNetwork(rand: () => number, width = 12): import("../src/model/graph.js").Graph {
  return {
    name: "test-shuffle", scale: 4, input: "x", output: "y",
    nodes: [
      { op: "Conv2D", inputs: ["x"], output: "a", attrs: { k: 3, cout: width, act: "prelu" }, weights: { kernel0: "k0", bias: "b0", slope: "p0" } },
      { op: "Conv2D", inputs: ["a"], output: "b", attrs: { k: 3, cout: 48 }, weights: { kernel0: "k1", bias: "b1" } },
      { op: "PixelShuffle", inputs: ["b"], output: "y", attrs: { r: 4 }, weights: {} },
    ],
    weights: {
      k0: { shape: [width, 3, 3, 3], data: randomArray(width * 27, rand, -0.4, 0.4) },
      b0: { shape: [width], data: randomArray(width, rand, -0.1, 0.1) },
      p0: { shape: [width], data: randomArray(width, rand, 0, 0.3) },
      k1: { shape: [48, 3, 3, width], data: randomArray(48 * 9 * width, rand, -0.2, 0.2) },
      b1: { shape: [48], data: randomArray(48, rand, 0.3, 0.6) },
    },
  };
}

/** Random opaque RGBA pixels. */
export function randomImage(rand: () => number, width: number, height: number, opaque = true) {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < data.length; i++) data[i] = opaque && i % 4 === 3 ? 255 : Math.floor(rand() * 256);
  return { data, width, height };
}

/** A small ×4 network with a whole-image statistic (GlobalMean → Dense → dynamic conv bias): untileable. */
export function globalNetwork(rand: () => number): import("../src/model/graph.js").Graph {
  return {
    name: "test-global", scale: 4, input: "x", output: "y",
    nodes: [
      { op: "Conv2D", inputs: ["x"], output: "a", attrs: { k: 3, cout: 8, act: "relu" }, weights: { kernel0: "k0" } },
      { op: "GlobalMean", inputs: ["a"], output: "m", attrs: {}, weights: {} },
      { op: "Dense", inputs: ["m"], output: "d", attrs: { units: 48, act: "leaky", alpha: 0.1 }, weights: { matrix0: "m0", bias: "c0" } },
      { op: "Conv2D", inputs: ["a", "x", "d"], output: "b", attrs: { k: 3, cout: 48, dynamicBias: true }, weights: { kernel0: "k1", kernel1: "k2" } },
      { op: "PixelShuffle", inputs: ["b"], output: "y", attrs: { r: 4 }, weights: {} },
    ],
    weights: {
      k0: { shape: [8, 3, 3, 3], data: randomArray(216, rand, -0.5, 0.5) },
      m0: { shape: [8, 48], data: randomArray(8 * 48, rand, -0.5, 0.5) },
      c0: { shape: [48], data: randomArray(48, rand, 0.2, 0.5) },
      k1: { shape: [48, 3, 3, 8], data: randomArray(48 * 72, rand, -0.1, 0.1) },
      k2: { shape: [48, 3, 3, 3], data: randomArray(48 * 27, rand, -0.1, 0.1) },
    },
  };
}

/** Awaits `p` and asserts it rejects with a message matching `re`; returns the error for further checks. */
export async function rejects(p: Promise<unknown>, re: RegExp, label = ""): Promise<Error> {
  try {
    await p;
  } catch (e) {
    assert.match((e as Error)?.message ?? String(e), re, label);
    return e as Error;
  }
  return assert.unreachable(`${label}: no error (expected ${re})`) as never;
}
