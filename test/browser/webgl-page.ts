// SPDX-License-Identifier: MIT
// The in-page half of test/browser/webgl.test.ts, bundled by esbuild and loaded in headless Chromium:
// runs the op-case corpus (test/ops/cases.ts) with the WebGL runner against the TypeScript reference
// ops, the built-in networks against the wasm Upscaler too, and reports errors as numbers for the
// Node side to assert on. Also drives context loss and dispose through an instrumented context.
import { createWebglRunner } from "../../src/backends/webgl/index.js";
import type { Graph, ValidatedGraph } from "../../src/model/graph.js";
import { builtinGraph } from "../../src/model/builtin.js";
import { decodeNetwork } from "../../src/model/formats/srnet.js";
import { createUpscaler } from "../../src/api/upscaler.js";
import { loadNetwork, type ModelSource } from "../../src/api/load-network.js";
import { configureAssets } from "../../src/platform/assets.js";
import { rng } from "../random.js";
import { Builder, caseInput, compare, opCase, reference, uniform } from "../ops/cases.js";
import { leastRedVisible, redDisc } from "../alpha-disc.js";

configureAssets({ wasmBaseUrl: `${location.origin}/wasm/` });

/**
 * Runs one image through the WebGL runner and the wasm Upscaler (given `model`): the largest RGBA8 byte
 * difference, and the WebGL float output against the reference ops.
 */
async function againstWasm(graph: Graph | ValidatedGraph, model: ModelSource, image: { data: Uint8ClampedArray; width: number; height: number }, tileSize: number) {
  const { width: w, height: h } = image;
  const wasm = await createUpscaler({ model, threads: 0 });
  const runner = await createWebglRunner(graph, { tileSize });
  try {
    const a = await wasm.upscale(image);
    const b = await runner.upscale(image);
    const x = new Float32Array(w * h * 3);
    for (let i = 0; i < w * h; i++) for (let c = 0; c < 3; c++) x[i * 3 + c] = image.data[i * 4 + c] * (1 / 255);
    const f = await runner.forward(x, h, w);
    const want = reference(runner.graph, x, h, w);
    return { bytes: maxByteDiff(b.data, a.data), float: compare(f.data, want.data), size: [b.width, b.height], tileSize: runner.stats().tileSize };
  } finally {
    runner.dispose();
    await wasm.dispose();
  }
}

function randomRgba(r: () => number, w: number, h: number, opaque: boolean) {
  const data = new Uint8ClampedArray(w * h * 4);
  for (let i = 0; i < data.length; i++) data[i] = opaque && i % 4 === 3 ? 255 : Math.floor(r() * 256);
  return { data, width: w, height: h };
}

function maxByteDiff(a: Uint8ClampedArray, b: Uint8ClampedArray) {
  let max = 0, count = 0;
  for (let i = 0; i < a.length; i++) { const d = Math.abs(a[i] - b[i]); if (d > max) max = d; if (d) count++; }
  return { max, count, n: a.length, lengthsMatch: a.length === b.length };
}

/** A context whose texture calls are counted, independently of the pool's own accounting. */
function instrumentedCanvas() {
  const canvas = new OffscreenCanvas(1, 1);
  const gl = canvas.getContext("webgl2")!;
  const live = new Set<WebGLTexture>();
  let maxSide = 0;
  const create = gl.createTexture.bind(gl), del = gl.deleteTexture.bind(gl), storage = gl.texStorage3D.bind(gl);
  gl.createTexture = () => { const t = create(); if (t) live.add(t); return t; };
  gl.deleteTexture = (t: WebGLTexture | null) => { if (t) live.delete(t); del(t); };
  gl.texStorage3D = (target: number, levels: number, fmt: number, w: number, h: number, d: number) => { maxSide = Math.max(maxSide, w, h); storage(target, levels, fmt, w, h, d); };
  return { canvas, gl, liveTextures: () => live.size, maxSide: () => maxSide };
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!cond()) throw new Error("timed out waiting for a context event");
}

const ms = (t0: number) => Math.round(performance.now() - t0);

const api = {
  /** The red disc of issue 25 through a built-in on the WebGL backend: the least red visible output pixel. */
  async alphaDisc(model: string, scale: number) {
    configureAssets({ wasmBaseUrl: `${location.origin}/wasm/`, modelBaseUrl: `${location.origin}/models/` });
    const up = await createUpscaler({ model, scale, backend: "webgl", threads: 0 });
    try {
      const out = await up.upscale(redDisc());
      return { ...leastRedVisible(out), backend: up.info().backend, size: [out.width, out.height] };
    } finally {
      await up.dispose();
    }
  },

  capabilities() {
    const c = new OffscreenCanvas(1, 1);
    const gl = c.getContext("webgl2");
    if (!gl) return null;
    const dbg = gl.getExtension("WEBGL_debug_renderer_info");
    const out = {
      renderer: dbg ? String(gl.getParameter(dbg.UNMASKED_RENDERER_WEBGL)) : "",
      maxTextureSize: gl.getParameter(gl.MAX_TEXTURE_SIZE) as number,
      colorBufferFloat: !!gl.getExtension("EXT_color_buffer_float"),
      crossOriginIsolated,
    };
    gl.getExtension("WEBGL_lose_context")?.loseContext();
    return out;
  },

  /** What backend: 'auto' relies on: a software renderer is refused when hardware is required. */
  async requireHardware() {
    try {
      (await createWebglRunner(builtinGraph("bicubic")!, { requireHardware: true })).dispose();
      return "created";
    } catch (e) {
      return `${(e as Error).name}: ${(e as Error).message}`;
    }
  },

  /**
   * One corpus case at each of its sizes: WebGL float output vs the reference, as a whole image with
   * conv weights in textures, and in 8-pixel tiles with them in uniform buffers (where they fit).
   */
  async opCase(name: string) {
    const c = opCase(name);
    const runner = await createWebglRunner(c.graph, { tileSize: 8 });
    const textured = await createWebglRunner(c.graph, { convWeights: "texture" });
    try {
      const out = [];
      for (const [h, w] of c.sizes) {
        const x = caseInput(c, h, w);
        const want = reference(c.graph, x, h, w).data;
        const whole = await textured.forward(x, h, w, { tileSize: 4096 });
        const tiled = await runner.forward(x, h, w, c.tiles ? {} : { tileSize: 4096 });
        out.push({ h, w, whole: compare(whole.data, want), tiled: compare(tiled.data, want) });
      }
      return out;
    } finally {
      runner.dispose();
      textured.dispose();
    }
  },

  /** A built-in network: RGBA8 output vs the wasm Upscaler (threads: 0), float output vs the reference. */
  async builtin(name: string, opaque: boolean, tileSize: number) {
    const r = rng(name.length * 101 + (opaque ? 1 : 2));
    const w = 23, h = 19;
    const image = randomRgba(r, w, h, opaque);
    return againstWasm(builtinGraph(name)!, name, image, tileSize);
  },

  /**
   * The shipped `natural` network (models/natural-x4.srnet, fetched from the test server): RGBA8 output
   * vs the wasm Upscaler given the same bytes, float output vs the reference ops, on a 37×29 image.
   */
  async natural(tileSize: number) {
    const res = await fetch("/models/natural-x4.srnet");
    if (!res.ok) throw new Error(`GET /models/natural-x4.srnet: HTTP ${res.status}`);
    const bytes = new Uint8Array(await res.arrayBuffer());
    const graph = decodeNetwork(bytes);
    const r = rng(29);
    const w = 37, h = 29;
    const image = randomRgba(r, w, h, false);
    return { name: graph.name, nodes: graph.nodes.length, ...(await againstWasm(graph, bytes, image, tileSize)) };
  },

  /**
   * Networks from other projects (test/fixtures/community/synthetic over HTTP: a .pth RRDBNet with a
   * pixel-unshuffled input and its reflected border grid, a .safetensors SRVGGNetCompact): WebGL tiles =
   * wasm ±1 in u8, float = reference.
   */
  async imported(file: string, tileSize: number) {
    const res = await fetch(`/fixtures/${file}`);
    if (!res.ok) throw new Error(`GET /fixtures/${file}: HTTP ${res.status}`);
    const bytes = new Uint8Array(await res.arrayBuffer());
    const graph = await loadNetwork(bytes);
    // Even sides: forward() runs the graph on the tensor as given (no border), as the reference does.
    return againstWasm(graph, bytes, randomRgba(rng(31), 38, 26, false), tileSize);
  },

  /** A network that sees the image extended (the corpus's unpadded U-Net, edge border, align 2): WebGL tiles = wasm ±1 in u8. */
  async bordered(tileSize: number) {
    const graph = opCase("unpadded U-Net stage (valid convs, SpaceToDepth, PixelShuffle, Crop, Concat)").graph;
    const image = randomRgba(rng(41), 37, 29, false);
    const wasm = await createUpscaler({ model: graph, threads: 0 });
    const runner = await createWebglRunner(graph, { tileSize });
    try {
      const [a, b] = [await wasm.upscale(image), await runner.upscale(image)];
      return { bytes: maxByteDiff(b.data, a.data), size: [b.width, b.height] };
    } finally {
      runner.dispose();
      await wasm.dispose();
    }
  },

  /** Tiles must respect MAX_TEXTURE_SIZE: clamp it to 64 and compare with the unclamped result. */
  async textureLimit() {
    const r = rng(7);
    const image = randomRgba(r, 41, 29, false);
    const ref = await createWebglRunner(builtinGraph("bicubic")!, {});
    const inst = instrumentedCanvas();
    const small = await createWebglRunner(builtinGraph("bicubic")!, { canvas: inst.canvas, maxTextureSize: 64 });
    try {
      const a = await ref.upscale(image);
      const b = await small.upscale(image);
      // A whole-image network cannot be tiled: over the limit it must say so, not fail inside GL.
      let globalError = "";
      const gg = opCase("global: mean, dense, vector activation, broadcast add, multi-input conv, dynamic bias").graph;
      const glob = await createWebglRunner(gg, { canvas: new OffscreenCanvas(1, 1), maxTextureSize: 64 });
      try { await glob.upscale(randomRgba(r, 40, 20, true)); } catch (e) { globalError = `${(e as Error).name}: ${(e as Error).message}`; } finally { glob.dispose(); }
      return { bytes: maxByteDiff(b.data, a.data), tileSize: small.stats().tileSize, maxSide: inst.maxSide(), globalError };
    } finally {
      ref.dispose();
      small.dispose();
    }
  },

  /** Context loss: before a job, in the middle of one, and recovery after restore. */
  async contextLoss() {
    const r = rng(11);
    const image = randomRgba(r, 30, 22, false);
    const inst = instrumentedCanvas();
    const ext = inst.gl.getExtension("WEBGL_lose_context")!;
    const events: string[] = [];
    const runner = await createWebglRunner(builtinGraph("bicubic")!, {
      canvas: inst.canvas, tileSize: 8,
      onContextLost: () => events.push("lost"), onContextRestored: () => events.push("restored"),
    });
    const err = (e: unknown) => ({ name: (e as Error).name, code: (e as { code?: string }).code, restorable: (e as { restorable?: boolean }).restorable, message: (e as Error).message });
    try {
      const before = await runner.upscale(image);
      const statsBefore = runner.stats();
      // 1. Lost between jobs.
      ext.loseContext();
      let between: unknown = null;
      try { await runner.upscale(image); } catch (e) { between = err(e); }
      const statsLost = runner.stats();
      // The browser allows restoreContext() only once the 'lost' event has been dispatched (and handled).
      await until(() => events.length === 1);
      ext.restoreContext();
      await runner.whenRestored();
      const after = await runner.upscale(image);
      // 2. Lost in the middle of a job (after the first tile).
      let middle: unknown = null;
      let tilesSeen = 0;
      try {
        await runner.upscale(image, { onProgress: (p) => { tilesSeen = p.tilesDone; if (p.tilesDone === 1) ext.loseContext(); } });
      } catch (e) { middle = err(e); }
      await until(() => events.length === 3);
      ext.restoreContext();
      await runner.whenRestored();
      const again = await runner.upscale(image);
      return {
        between, middle, tilesSeen, events,
        statsBefore: { currentBytes: statsBefore.currentBytes, textures: statsBefore.textures },
        statsLost: { currentBytes: statsLost.currentBytes, textures: statsLost.textures, contextLost: statsLost.contextLost },
        restores: runner.stats().restores,
        afterRestore: maxByteDiff(after.data, before.data), again: maxByteDiff(again.data, before.data),
      };
    } finally {
      runner.dispose();
    }
  },

  /** Pool reuse, trimming and release on dispose, checked against counted GL calls. */
  async dispose() {
    const r = rng(5);
    const inst = instrumentedCanvas();
    const g = opCase("global: mean, dense, vector activation, broadcast add, multi-input conv, dynamic bias").graph;
    const runner = await createWebglRunner(opCase("pixel-shuffle tf r=2 and torch r=3").graph, { canvas: inst.canvas, tileSize: 8 });
    await runner.upscale(randomRgba(r, 40, 30, false));
    const big = runner.stats();
    await runner.upscale(randomRgba(r, 6, 5, true));
    const small = runner.stats();
    const liveBeforeDispose = inst.liveTextures();
    runner.dispose();
    const after = runner.stats();
    let afterDisposeError = "";
    try { await runner.upscale(randomRgba(r, 4, 4, true)); } catch (e) { afterDisposeError = (e as { code?: string }).code ?? String(e); }
    // A whole-image network too (its scratch textures and weights).
    const inst2 = instrumentedCanvas();
    const g2 = await createWebglRunner(g, { canvas: inst2.canvas });
    await g2.upscale(randomRgba(r, 17, 13, false));
    g2.dispose();
    return {
      big: { currentBytes: big.currentBytes, peakBytes: big.peakBytes, reuses: big.reuses, textures: big.textures, weightBytes: big.weightBytes, inUseBytes: big.inUseBytes },
      small: { currentBytes: small.currentBytes, trimmed: small.trimmed, inUseBytes: small.inUseBytes },
      liveBeforeDispose, liveAfterDispose: inst.liveTextures(), statsAfter: { currentBytes: after.currentBytes, textures: after.textures, inUseBytes: after.inUseBytes },
      afterDisposeError, globalLiveAfterDispose: inst2.liveTextures(), globalStats: g2.stats().currentBytes,
    };
  },

  /** Heavy draws cut into row bands (forced tiny here) give bit-identical results. */
  async banded() {
    const g = srganLike(rng(4));
    const h = 7, w = 6;
    const x = uniform(rng(8), h * w * 3, 0, 1);
    const one = await createWebglRunner(g, {});
    const banded = await createWebglRunner(g, { fetchesPerDraw: 1 << 12 });
    try {
      const a = await one.forward(x, h, w), b = await banded.forward(x, h, w);
      let diff = 0;
      for (let i = 0; i < a.data.length; i++) if (!Object.is(a.data[i], b.data[i])) diff++;
      return { diff, n: a.data.length, ref: compare(a.data, reference(g, x, h, w).data) };
    } finally {
      one.dispose();
      banded.dispose();
    }
  },

  /** Opt-in half precision: same result within half-float error. */
  async float16() {
    const r = rng(13);
    const g = opCase("conv k=3").graph;
    const h = 15, w = 14;
    const x = uniform(r, h * w * 3, 0, 1);
    const runner = await createWebglRunner(g, { precision: "float16" });
    try {
      const f = await runner.forward(x, h, w);
      return { float: compare(f.data, reference(g, x, h, w).data), weightBytes: runner.stats().weightBytes };
    } finally {
      runner.dispose();
    }
  },

  /** Timings (SwiftShader: CPU numbers) for docs/webgl.md; not asserted. */
  async bench(name: string, size: number, reps: number) {
    const r = rng(1);
    const image = randomRgba(r, size, size, true);
    const graph = name === "srgan-like" ? srganLike(rng(4)) : builtinGraph(name)!;
    const out: Record<string, number> = {};
    const wasm = await createUpscaler({ model: graph, threads: 0 });
    await wasm.upscale(image);
    let t0 = performance.now();
    for (let i = 0; i < reps; i++) await wasm.upscale(image);
    out.wasm1 = ms(t0) / reps;
    await wasm.dispose();
    const runner = await createWebglRunner(graph, { tileSize: 256 });
    await runner.upscale(image);
    t0 = performance.now();
    for (let i = 0; i < reps; i++) await runner.upscale(image);
    out.webgl = ms(t0) / reps;
    out.peakMiB = runner.stats().peakBytes / 2 ** 20;
    runner.dispose();
    return out;
  },
};

/** A small SRGAN-shaped ×4 network (conv-prelu, residual convs, two ×2 shuffles) for timings. */
function srganLike(r: () => number): ValidatedGraph {
  const b = new Builder(r);
  const f = 32;
  const head = b.conv(["x"], [3], 9, f, { act: "prelu", bias: "static" });
  let t = head;
  for (let i = 0; i < 2; i++) {
    const c1 = b.conv([t], [f], 3, f, { act: "prelu", bias: "static" });
    const c2 = b.conv([c1], [f], 3, f, { bias: "static" });
    t = b.op("Add", [c2, t]);
  }
  const u1 = b.op("PixelShuffle", [b.conv([t], [f], 3, 4 * f, { bias: "static" })], { r: 2 });
  const u2 = b.op("PixelShuffle", [b.conv([b.act(u1, f, "prelu")], [f], 3, 4 * f, { bias: "static" })], { r: 2 });
  return b.graph("srgan-like", 4, b.conv([b.act(u2, f, "prelu")], [f], 9, 3, { bias: "static" }));
}

(globalThis as unknown as { webglTest: typeof api }).webglTest = api;
(globalThis as unknown as { webglTestReady: boolean }).webglTestReady = true;
