// SPDX-License-Identifier: MIT
// The demo page's logic, written against the package's public browser API only (no bundler: it loads
// the built dist/ as is, which is also how the end-to-end test checks the shipped files; its npm
// dependencies come through the import map in index.html).
import { BUILTIN_NAMES, DEFAULT_MODEL, createUpscaler, readImage, toBlob, toCanvas } from "../dist/index.browser.js";

const $ = (id) => document.getElementById(id);
const ui = {
  env: $("env"), drop: $("drop"), file: $("file"), model: $("model"), netfile: $("netfile"), threads: $("threads"),
  backend: $("backend"), run: $("run"), cancel: $("cancel"), net: $("net"), progress: $("progress"), status: $("status"),
  compare: $("compare"), frame: $("frame"), before: $("before"), after: $("after"), marker: $("marker"), slider: $("slider"),
  zoomRef: $("zoom-ref"), zoomNet: $("zoom-net"), zoomRefLabel: $("zoom-ref-label"), zoomNetLabel: $("zoom-net-label"),
  download: $("download"),
};
const FILE = "file:"; // the <option> value of a network loaded from a file
const CROP = 64;      // side of the zoomed crop in output pixels
const ZOOM = 4;       // each output pixel is shown as ZOOM×ZOOM screen pixels

const cores = navigator.hardwareConcurrency || 1;
ui.threads.value = String(Math.min(4, cores));
ui.env.textContent = crossOriginIsolated
  ? `Cross-origin isolated: up to ${cores} worker threads on one shared memory.`
  : "Not cross-origin isolated, so the upscaler runs one worker thread with its own memory. Serve with COOP/COEP (node demo/serve.mjs) for more threads.";
ui.env.classList.toggle("warn", !crossOriginIsolated);
for (const name of BUILTIN_NAMES) ui.model.add(new Option(name === DEFAULT_MODEL ? `${name} (default)` : name, name, false, name === DEFAULT_MODEL));
ui.model.add(new Option("network file (.srnet, .rsr)…", FILE));

let source;       // { image, name } of the picked picture
let netFile;      // { name, bytes } of a loaded network file
let prepared;     // { key, promise } of the upscaler for the current settings, loaded as soon as they change
let reference;    // { key, up } of the bicubic (or nearest) upscaler the zoom compares against
let controller;   // aborts the running job
let result;       // { out, ref, refName } shown now
let downloadUrl;

function settings() {
  const name = ui.model.value;
  return {
    key: `${name}/${name === FILE ? `${netFile?.name}:${netFile?.bytes.length}` : ""}/${ui.threads.value}/${ui.backend.value}`,
    label: name === FILE ? netFile?.name ?? "no file" : name,
    options: { model: name === FILE ? netFile?.bytes : name, threads: Number(ui.threads.value), backend: ui.backend.value },
  };
}

/** The upscaler for the current settings. Loading starts when they change, so Upscale goes straight to the tiles. */
function prepare() {
  const { key, label, options } = settings();
  if (prepared?.key === key) return prepared.promise;
  if (options.model === undefined) {
    ui.net.textContent = "Pick a network file (.srnet or .rsr).";
    return Promise.reject(new Error("pick a network file first"));
  }
  const previous = prepared?.promise;
  ui.net.textContent = `Loading ${label}…`;
  ui.net.dataset.state = "loading";
  const promise = (async () => {
    await previous?.then((up) => up.dispose(), () => {}); // one shared memory at a time
    const t0 = performance.now();
    const up = await createUpscaler(options);
    return { up, ms: performance.now() - t0 };
  })();
  prepared = { key, promise: promise.then((p) => p.up) };
  promise.then(({ up, ms }) => {
    if (prepared?.key !== key) return;
    const i = up.info();
    ui.net.textContent = `${label}: ×${i.scale}, ${(i.parameters / 1000).toFixed(0)}k parameters, ready in ${ms.toFixed(0)} ms.`;
    ui.net.dataset.state = "ready";
  }, (e) => {
    if (prepared?.key !== key) return;
    prepared = undefined;
    ui.net.textContent = `Cannot load ${label}: ${e.message}`;
    ui.net.dataset.state = "error";
    clearResult();
  });
  return prepared.promise;
}

async function pick(file) {
  if (!file) return;
  try {
    setStatus(`Reading ${file.name}…`);
    source = { image: await readImage(file), name: file.name };
    clearResult();
    ui.run.disabled = false;
    setStatus(`${file.name}: ${source.image.width}×${source.image.height}. Press Upscale.`);
  } catch (e) {
    source = undefined;
    ui.run.disabled = true;
    clearResult();
    setStatus(`Cannot read ${file.name}: ${e.message}`);
  }
}

async function pickNetwork(file) {
  if (!file) return;
  netFile = { name: file.name, bytes: new Uint8Array(await file.arrayBuffer()) };
  ui.model.querySelector(`option[value="${FILE}"]`).textContent = `file: ${file.name}`;
  ui.model.value = FILE;
  prepare().catch(() => {}); // the outcome shows in #net
}

async function upscale() {
  if (!source) return;
  const ac = (controller = new AbortController());
  clearResult();
  setBusy(true);
  ui.progress.value = 0;
  try {
    const up = await prepare();
    if (ac.signal.aborted) throw ac.signal.reason;
    const { width, height } = source.image;
    let info = up.info();
    setStatus(`Upscaling ${width}×${height} with ${info.model} on ${info.threads} thread${info.threads === 1 ? "" : "s"}…`);
    up.resetPeak();
    const t0 = performance.now();
    const out = await up.upscale(source.image, {
      signal: ac.signal,
      onProgress: (p) => {
        ui.progress.value = p.fraction;
        // Whole-image networks (srgan-rust's) are one tile and report their layers instead.
        setStatus(p.tilesTotal === 1 && p.tilesDone === 0
          ? `${Math.round(p.fraction * 100)} % of the whole-image pass done`
          : `${p.tilesDone} of ${p.tilesTotal} tiles done`);
      },
    });
    const ms = performance.now() - t0;
    info = up.info(); // the backend that ran
    const memory = memoryText(up.stats());
    const ref = await compareWith(info, source.image);
    const blob = await toBlob(out, { type: "image/png" });
    if (ac.signal.aborted) throw ac.signal.reason; // cancelled while the result was being prepared
    show(out, ref, info.model);
    downloadUrl = URL.createObjectURL(blob);
    ui.download.href = downloadUrl;
    ui.download.download = `${source.name.replace(/\.[^.]*$/, "")}-${info.model}-x${info.scale}.png`;
    ui.download.hidden = false;
    Object.assign(ui.status.dataset, { threads: String(info.threads), variant: info.wasmVariant, backend: info.backend, ms: ms.toFixed(1) });
    const threads = `${info.threads} thread${info.threads === 1 ? "" : "s"}`;
    const engine = info.backend === "webgl" ? "WebGL2" : `wasm, ${info.wasmVariant === "relaxed" ? "relaxed SIMD" : "SIMD"}`;
    setStatus(`Done: ${out.width}×${out.height} with ${info.model} in ${ms.toFixed(0)} ms on ${threads} (${engine}); ${memory}.`);
  } catch (e) {
    clearResult();
    setStatus(ac.signal.aborted ? "Cancelled." : `Failed: ${e.message}`);
  } finally {
    setBusy(false);
  }
}

function memoryText(stats) {
  const mib = (b) => `${(b / 2 ** 20).toFixed(1)} MiB`;
  const gpu = stats.webgl ? `, GPU textures peak ${mib(stats.webgl.peakBytes)}` : "";
  return `memory peak ${mib(stats.peakBytes)} of a ${mib(stats.capacityBytes)} pool${gpu}`;
}

/** The same picture through bicubic (nearest when the network is bicubic), for the zoomed comparison. */
async function compareWith(info, image) {
  const model = info.model === "bicubic" ? "nearest" : "bicubic";
  const key = `${model}/${info.scale}`;
  if (reference?.key !== key) {
    await reference?.up.dispose();
    reference = undefined;
    // Cheap enough on this thread; a small pool, since tiles shrink to fit it.
    reference = { key, up: await createUpscaler({ model, scale: info.scale, threads: 0, memoryLimit: 64 * 2 ** 20 }) };
  }
  return { name: model, out: await reference.up.upscale(image) };
}

function show(out, ref, name) {
  result = { out, ref, name };
  toCanvas(out, ui.after);
  toCanvas(source.image, ui.before);
  // Small results are shown enlarged (without smoothing, see style.css) so the difference is visible.
  ui.after.style.width = `${Math.max(out.width, Math.min(640, out.width * 4))}px`;
  ui.compare.hidden = false;
  updateSlider();
  const size = Math.min(CROP, out.width, out.height);
  const { x, y } = busiestCrop(out, ref.out, size);
  zoomAt(x, y, size);
}

/** The crop (on a half-crop grid) where the network and the reference differ most: where the network's work shows. */
function busiestCrop(a, b, size) {
  const { width, height } = a;
  const step = Math.max(1, size >> 1);
  let best = { x: 0, y: 0 }, bestScore = -1;
  for (let y = 0; y + size <= height; y += step) {
    for (let x = 0; x + size <= width; x += step) {
      let score = 0;
      for (let row = y; row < y + size; row += 2) { // every other pixel is plenty to rank crops
        for (let i = (row * width + x) * 4, end = i + size * 4; i < end; i += 8) {
          score += Math.abs(a.data[i] - b.data[i]) + Math.abs(a.data[i + 1] - b.data[i + 1]) + Math.abs(a.data[i + 2] - b.data[i + 2]);
        }
      }
      if (score > bestScore) { bestScore = score; best = { x, y }; }
    }
  }
  return best;
}

function zoomAt(x, y, size) {
  const { out, ref, name } = result;
  x = Math.max(0, Math.min(out.width - size, Math.round(x)));
  y = Math.max(0, Math.min(out.height - size, Math.round(y)));
  for (const [canvas, img] of [[ui.zoomNet, out], [ui.zoomRef, ref.out]]) {
    toCanvas(crop(img, x, y, size), canvas);
    canvas.style.width = `${size * ZOOM}px`; // pixelated (style.css): each pixel an exact ZOOM×ZOOM square
  }
  ui.zoomNetLabel.textContent = name;
  ui.zoomRefLabel.textContent = ref.name;
  Object.assign(ui.zoomNet.dataset, { x: String(x), y: String(y), size: String(size) });
  Object.assign(ui.marker.style, {
    left: `${(100 * x) / out.width}%`, top: `${(100 * y) / out.height}%`,
    width: `${(100 * size) / out.width}%`, height: `${(100 * size) / out.height}%`,
  });
}

function crop(img, x, y, size) {
  const data = new Uint8ClampedArray(size * size * 4);
  for (let row = 0; row < size; row++) {
    const from = ((y + row) * img.width + x) * 4;
    data.set(img.data.subarray(from, from + size * 4), row * size * 4);
  }
  return { data, width: size, height: size };
}

/** Forgets the shown result, so that a failed or cancelled job never leaves the previous one looking current. */
function clearResult() {
  result = undefined;
  ui.compare.hidden = true;
  ui.download.hidden = true;
  ui.progress.value = 0;
  for (const k of ["threads", "variant", "backend", "ms"]) delete ui.status.dataset[k];
  for (const c of [ui.after, ui.before, ui.zoomNet, ui.zoomRef]) c.width = c.height = 0;
  if (downloadUrl) URL.revokeObjectURL(downloadUrl);
  downloadUrl = undefined;
}

function updateSlider() {
  ui.before.style.clipPath = `inset(0 ${100 - Number(ui.slider.value)}% 0 0)`;
}

function setBusy(busy) {
  ui.run.disabled = busy || !source;
  ui.cancel.disabled = !busy;
  ui.model.disabled = ui.threads.disabled = ui.backend.disabled = busy;
  ui.status.dataset.state = busy ? "busy" : "idle";
}

function setStatus(text) {
  ui.status.textContent = text;
}

ui.file.addEventListener("change", () => pick(ui.file.files?.[0]));
ui.netfile.addEventListener("change", () => pickNetwork(ui.netfile.files?.[0]));
ui.model.addEventListener("change", () => {
  if (ui.model.value === FILE && !netFile) ui.netfile.click();
  else prepare().catch(() => {});
});
for (const control of [ui.threads, ui.backend]) control.addEventListener("change", () => prepare().catch(() => {}));
ui.run.addEventListener("click", upscale);
ui.cancel.addEventListener("click", () => controller?.abort(new Error("cancelled by the user")));
ui.slider.addEventListener("input", updateSlider);
ui.frame.addEventListener("click", (e) => {
  if (!result) return;
  const r = ui.frame.getBoundingClientRect();
  const size = Number(ui.zoomNet.dataset.size);
  zoomAt(((e.clientX - r.left) / r.width) * result.out.width - size / 2, ((e.clientY - r.top) / r.height) * result.out.height - size / 2, size);
});
for (const type of ["dragenter", "dragover"]) ui.drop.addEventListener(type, (e) => { e.preventDefault(); ui.drop.classList.add("over"); });
ui.drop.addEventListener("dragleave", () => ui.drop.classList.remove("over"));
ui.drop.addEventListener("drop", (e) => {
  e.preventDefault();
  ui.drop.classList.remove("over");
  pick(e.dataTransfer?.files?.[0]);
});
ui.status.dataset.state = "idle";
prepare().catch(() => {}); // the default network loads while the user picks a picture
document.documentElement.dataset.ready = "true";
