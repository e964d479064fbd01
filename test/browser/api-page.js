// SPDX-License-Identifier: MIT
// The browser half of api.test.ts: plain functions on window.checks that exercise the shipped
// dist/index.browser.js and return plain data for Node to compare (kept out of the .test.ts so that no
// transpiler helper leaks into code that playwright serialises).
import * as srgan from "/dist/index.browser.js";

const same = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);
const counters = (up) => { const s = up.stats(); return { activeLeases: s.activeLeases, currentBytes: s.currentBytes }; };
const errorOf = async (fn) => { try { await fn(); return null; } catch (e) { return { name: e.name, code: e.code, message: e.message, cause: e.cause?.message }; } };

window.checks = {
  /** Every input kind gives the same pixels as the Blob it came from. */
  async readers(pngBytes) {
    const blob = new Blob([new Uint8Array(pngBytes)], { type: "image/png" });
    const ref = await srgan.readImage(blob);
    const { width, height } = ref;
    const url = URL.createObjectURL(blob);
    const img = new Image();
    img.src = url; // not loaded yet: readImage waits for it
    const bitmap = await createImageBitmap(blob, { premultiplyAlpha: "none", colorSpaceConversion: "none" });
    const canvas = document.createElement("canvas");
    canvas.width = width;
    canvas.height = height;
    canvas.getContext("2d").putImageData(new ImageData(ref.data.slice(), width, height), 0, 0);
    const offscreen = new OffscreenCanvas(width, height);
    offscreen.getContext("2d").drawImage(bitmap, 0, 0);
    const frame = new VideoFrame(bitmap, { timestamp: 0 });
    const imageData = new ImageData(ref.data.slice(), width, height);
    const results = {};
    for (const [name, source] of Object.entries({ imageData, bitmap, img, canvas, offscreen, frame })) {
      const px = await srgan.readImage(source);
      results[name] = px.width === width && px.height === height && same(px.data, ref.data);
    }
    frame.close();
    URL.revokeObjectURL(url);
    return {
      width, height, pixels: Array.from(ref.data), results,
      badBlob: await errorOf(() => srgan.readImage(new Blob([new Uint8Array([1, 2, 3])], { type: "image/png" }))),
      badSource: await errorOf(() => srgan.readImage({})),
      aborted: await errorOf(() => srgan.readImage(blob, { signal: AbortSignal.abort(new Error("stop")) })),
    };
  },

  /** ImageData without a copy, a canvas that reads back the same pixels, PNG and JPEG Blobs, a typed error for the rest. */
  async writers(rgba, width, height) {
    const image = { data: new Uint8ClampedArray(rgba), width, height };
    const imageData = srgan.toImageData(image);
    const canvas = srgan.toCanvas(image);
    const back = canvas.getContext("2d").getImageData(0, 0, width, height).data;
    const offscreen = srgan.toCanvas(image, new OffscreenCanvas(1, 1));
    const png = await srgan.toBlob(image);
    const jpeg = await srgan.toBlob(image, { type: "image/jpeg", quality: 0.9 });
    return {
      imageData: imageData instanceof ImageData && imageData.data === image.data,
      canvas: canvas instanceof HTMLCanvasElement && canvas.width === width && same(back, image.data),
      offscreen: offscreen instanceof OffscreenCanvas && offscreen.width === width && same(offscreen.getContext("2d").getImageData(0, 0, width, height).data, image.data),
      png: Array.from(new Uint8Array(await png.arrayBuffer())), pngType: png.type,
      jpegType: jpeg.type, jpegBytes: jpeg.size,
      unsupported: await errorOf(() => srgan.toBlob(image, { type: "image/x-unknown" })),
      badQuality: await errorOf(() => srgan.toBlob(image, { quality: 2 })),
    };
  },

  /** Worker threads: result, per-tile progress, a worker dying mid-job, abort, and the counters after each. */
  async threads(rgba, width, height, threads) {
    const image = { data: new Uint8ClampedArray(rgba), width, height };
    const up = await srgan.createUpscaler({ model: "bicubic", threads, tileSize: 16 });
    const base = counters(up);
    const fractions = [];
    const out = await up.upscale(image, { onProgress: (p) => fractions.push(p.fraction) });
    const afterRun = counters(up);

    // A crash as the pool sees one: an error event on a worker that is running a tile.
    const pool = up.runner;
    let crashed = 0;
    const again = await up.upscale(image, {
      onProgress: () => {
        const busy = crashed ? undefined : pool.slots.find((s) => s.pending);
        if (busy) { crashed++; busy.worker.dispatchEvent(new ErrorEvent("error", { message: "simulated crash" })); }
      },
    });
    const afterCrash = counters(up);

    const ac = new AbortController();
    let seen = 0;
    const abort = await errorOf(() => up.upscale(image, { signal: ac.signal, onProgress: () => { if (++seen === 2) ac.abort(new Error("user cancelled")); } }));
    const afterAbort = counters(up);
    const last = await up.upscale(image); // on the workers that replaced the aborted ones
    const info = up.info();
    await up.dispose();
    return {
      info, fractions, out: Array.from(out.data), width: out.width, height: out.height,
      abort, crashed, againSame: same(again.data, out.data), lastSame: same(last.data, out.data),
      base, afterRun, afterAbort, afterCrash, disposed: counters(up),
    };
  },

  /**
   * For a page without cross-origin isolation: threads: 2 gives one worker with its own memory. While its
   * one big tile runs, a 5 ms timer on this page keeps ticking (the longest gap is returned).
   */
  async privateWorker(images) {
    const RealWorker = window.Worker;
    let workers = 0;
    window.Worker = class extends RealWorker { constructor(...args) { super(...args); workers++; } };
    const warnings = [];
    try {
      const up = await srgan.createUpscaler({ threads: 2, tileSize: 256, onWarning: (w) => warnings.push(w.code) });
      const outs = [];
      let maxGap = 0, ms = 0;
      for (const [i, { rgba, width, height }] of images.entries()) {
        const image = { data: new Uint8ClampedArray(rgba), width, height };
        let last = performance.now();
        const timer = setInterval(() => { const t = performance.now(); maxGap = Math.max(maxGap, t - last); last = t; }, 5);
        const t0 = performance.now();
        const out = await up.upscale(image);
        if (i === 0) ms = performance.now() - t0;
        clearInterval(timer);
        outs.push(Array.from(out.data));
      }
      const info = up.info(), stats = counters(up);
      await up.dispose();
      return { threads: info.threads, workers, warnings, maxGap, ms, outs, stats };
    } finally {
      window.Worker = RealWorker;
    }
  },

  /**
   * backend 'webgl' with threads: 2 runs WebGL in one worker ("srgan-wasm-webgl") and starts no wasm worker
   * until a job falls back to wasm (here: the worker's context is lost between jobs). Counts the Workers
   * by name, and every WebGL2 context the page itself creates (none: the GPU work is the worker's).
   */
  async webglWorkers(rgba, width, height) {
    const image = { data: new Uint8ClampedArray(rgba), width, height };
    const counted = countWorkersAndContexts();
    try {
      const up = await srgan.createUpscaler({ model: "bicubic", backend: "webgl", threads: 2 });
      const created = { threads: up.info().threads, ...counted.workers() };
      const gpu = await up.upscale(image);
      const onGpu = { backend: up.info().backend, threads: up.info().threads, ...counted.workers() };
      const runner = up.routes[0].gpu; // the page's stand-in for the worker's runner
      runner.loseContext();
      for (let i = 0; i < 500 && !runner.lost; i++) await new Promise((r) => setTimeout(r, 10));
      const wasm = await up.upscale(image);
      const onWasm = { backend: up.info().backend, threads: up.info().threads, ...counted.workers() };
      await up.dispose();
      return { created, onGpu, onWasm, pageContexts: counted.contexts(), gpu: Array.from(gpu.data), wasm: Array.from(wasm.data) };
    } finally {
      counted.restore();
    }
  },

  /**
   * Where no worker can have WebGL2 (here: its script cannot load, and a page without OffscreenCanvas),
   * WebGL runs on the page's thread after one ERR_WEBGL_NO_WORKER warning, with the same bytes.
   */
  async webglWithoutWorker(rgba, width, height) {
    const image = { data: new Uint8ClampedArray(rgba), width, height };
    const runs = [];
    for (const way of ["missing worker script", "no OffscreenCanvas"]) {
      const counted = countWorkersAndContexts();
      const saved = window.OffscreenCanvas;
      if (way === "missing worker script") srgan.configureAssets({ workerUrl: "/no-such-worker.js" });
      else delete window.OffscreenCanvas;
      const warnings = [];
      try {
        const up = await srgan.createUpscaler({ model: "bicubic", backend: "webgl", threads: 0, onWarning: (w) => warnings.push(w) });
        const out = await up.upscale(image);
        runs.push({ way, backend: up.info().backend, warnings, pageContexts: counted.contexts(), data: Array.from(out.data) });
        await up.dispose();
      } finally {
        srgan.configureAssets({});
        window.OffscreenCanvas = saved;
        counted.restore();
      }
    }
    return runs;
  },
};

/** Counts Workers by their name and the WebGL2 contexts this page creates, until restore(). */
function countWorkersAndContexts() {
  const RealWorker = window.Worker;
  let tile = 0, webgl = 0, contexts = 0;
  window.Worker = class extends RealWorker {
    constructor(url, options) { super(url, options); if (options?.name === "srgan-wasm-webgl") webgl++; else tile++; }
  };
  const originals = [HTMLCanvasElement, OffscreenCanvas].map((C) => [C, C.prototype.getContext]);
  for (const [C, get] of originals) {
    C.prototype.getContext = function (type, ...rest) {
      const ctx = get.call(this, type, ...rest);
      if (type === "webgl2" && ctx) contexts++;
      return ctx;
    };
  }
  return {
    workers: () => ({ workers: tile, webglWorkers: webgl }),
    contexts: () => contexts,
    restore() {
      window.Worker = RealWorker;
      for (const [C, get] of originals) C.prototype.getContext = get;
    },
  };
}
document.documentElement.dataset.ready = "true";
