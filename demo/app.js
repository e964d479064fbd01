// SPDX-License-Identifier: MIT
// The demo page's logic, written against the package's public browser API only (no bundler: it loads
// the built dist/ as is, which is also how the end-to-end test checks the shipped files; its npm
// dependencies come through the import map in index.html). One job at a time: choosing another picture
// cancels the running one, and a result is always shown beside its own input.
import { BUILTIN_NAMES, DEFAULT_MODEL, createUpscaler, readImage, toBlob, toCanvas } from "../dist/index.browser.js";

const $ = (id) => document.getElementById(id);
const ui = {
  env: $("env"), drop: $("drop"), file: $("file"), sample: $("sample"), model: $("model"), netfile: $("netfile"),
  threads: $("threads"), threadsNote: $("threads-note"), backend: $("backend"), run: $("run"), cancel: $("cancel"),
  net: $("net"), netProgress: $("net-progress"), progress: $("progress"), status: $("status"),
  compare: $("compare"), frame: $("frame"), before: $("before"), after: $("after"), marker: $("marker"), slider: $("slider"),
  cropX: $("crop-x"), cropY: $("crop-y"), zoomRef: $("zoom-ref"), zoomNet: $("zoom-net"),
  zoomRefLabel: $("zoom-ref-label"), zoomNetLabel: $("zoom-net-label"), download: $("download"),
};
const FILE = "file:"; // the <option> value of a network loaded from a file
const CROP = 64;      // side of the zoomed crop in output pixels
const ZOOM = 4;       // each output pixel is shown as ZOOM×ZOOM screen pixels (less where the screen is narrower)
// Our own picture, rendered by scripts/make-example-image.mjs (the README's example).
const SAMPLE = { url: new URL("../examples/lighthouse.png", import.meta.url), name: "lighthouse.png" };
// The built-in networks that are files (docs/platforms.md, "Entries and files"). The page downloads them
// itself, when they are first needed, to show the progress; the resamplers need no file.
const NETWORK_FILES = { natural: "natural-x4.srnet", "natural-fast": "natural-fast-x4.srnet", "natural-real": "natural-real-x4.srnet" };

const cores = navigator.hardwareConcurrency || 1;
ui.threads.max = String(cores);
ui.threads.value = String(Math.min(4, cores));
ui.env.textContent = crossOriginIsolated
  ? `Cross-origin isolated: up to ${cores} worker thread${cores === 1 ? "" : "s"} on one shared memory.`
  : "Not cross-origin isolated, so the upscaler runs one worker thread with its own memory. Serve with COOP/COEP (node demo/serve.mjs) for more threads.";
ui.env.classList.toggle("warn", !crossOriginIsolated);
for (const name of BUILTIN_NAMES) ui.model.add(new Option(name === DEFAULT_MODEL ? `${name} (default)` : name, name, false, name === DEFAULT_MODEL));
ui.model.add(new Option("network file…", FILE));

let source;       // { image, name } of the chosen picture
let netFile;      // { name, size, model } of a loaded network file: its bytes, or an ncnn network's { param, bin }
let chosenModel = ui.model.value; // the network before "network file…" was chosen, for when its dialog is dismissed
let prepared;     // { key, promise, note } of the upscaler for the current settings (note: its line in #net)
let reference;    // { key, up } of the bicubic (or nearest) upscaler the zoom compares against
let job;          // { controller, ended } of the running upscale: one at a time
let result;       // { out, ref, name } shown now
let downloadUrl;

function settings() {
  const name = ui.model.value;
  return {
    key: `${name}/${name === FILE ? `${netFile?.name}:${netFile?.size}` : ""}/${threads()}/${ui.backend.value}`,
    label: name === FILE ? netFile?.name ?? "no file" : name,
    name,
    options: { model: name === FILE ? netFile?.model : name, threads: threads(), backend: ui.backend.value },
  };
}

/**
 * The upscaler for the current settings, made when first needed (a picture is chosen, or Upscale is
 * pressed) and kept while they stay the same. A built-in network file is downloaded here, with its progress.
 */
function prepare() {
  const { key, label, name, options } = settings();
  if (prepared?.key === key) return prepared.promise;
  if (options.model === undefined) {
    setNet("Choose a network file: .srnet, .rsr, .pth, .safetensors, waifu2x .json, or an ncnn network's .param and .bin together.", "error");
    return Promise.reject(new Error("choose a network file first"));
  }
  const previous = prepared?.promise;
  const promise = (async () => {
    await previous?.then((up) => up.dispose(), () => {}); // one shared memory at a time
    const t0 = performance.now();
    const model = NETWORK_FILES[name] ? await download(name, key) : options.model;
    setPreparedNote(key, `Preparing ${label}…`, "loading");
    const up = await createUpscaler({ ...options, model });
    return { up, ms: performance.now() - t0 };
  })();
  prepared = { key, promise: promise.then((p) => p.up) };
  setPreparedNote(key, `Loading ${label}…`, "loading");
  promise.then(({ up, ms }) => {
    const i = up.info();
    setPreparedNote(key, `${label}: ×${i.scale}, ${(i.parameters / 1000).toFixed(0)}k parameters, ready in ${ms.toFixed(0)} ms.`, "ready");
  }, (e) => {
    if (prepared?.key !== key) return;
    prepared = undefined;
    setNet(`Cannot load ${label}: ${e.message}`, "error");
    clearResult();
  });
  return prepared.promise;
}

/** A built-in network's bytes, with the download shown under the settings while it lasts. */
async function download(name, key) {
  const kb = (b) => `${Math.round(b / 1024)} KB`;
  const res = await fetch(new URL(`../models/${NETWORK_FILES[name]}`, import.meta.url));
  if (!res.ok || !res.body) throw new Error(`the network file could not be downloaded (HTTP ${res.status})`);
  const total = Number(res.headers.get("content-length")) || 0;
  const chunks = [];
  let got = 0;
  const show = () => {
    if (prepared?.key !== key) return;
    setPreparedNote(key, `Downloading ${name}: ${kb(got)}${total ? ` of ${kb(total)}` : ""}…`, "loading");
    ui.netProgress.hidden = false;
    if (total) { ui.netProgress.max = total; ui.netProgress.value = got; } else ui.netProgress.removeAttribute("value");
  };
  show();
  try {
    for (const reader = res.body.getReader(); ;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      got += value.length;
      show();
    }
  } finally {
    ui.netProgress.hidden = true;
  }
  const bytes = new Uint8Array(got);
  let at = 0;
  for (const c of chunks) { bytes.set(c, at); at += c.length; }
  return bytes;
}

/** Reads a picture (cancelling the running job first: its result would no longer match what is shown). */
async function pick(file, name = file?.name) {
  if (!file) return;
  await cancelJob();
  try {
    setStatus(`Reading ${name}…`);
    const image = await readImage(file);
    source = { image, name };
    clearResult();
    setBusy(false);
    setStatus(`${name}: ${image.width}×${image.height}. Press Upscale.`);
    prepare().catch(() => {}); // the network is needed now; the outcome shows in #net
  } catch (e) {
    source = undefined;
    clearResult();
    setBusy(false);
    setStatus(`Cannot read ${name}: ${e.message}`, true);
  }
}

async function pickSample() {
  await cancelJob();
  setStatus("Loading the sample picture…");
  try {
    const res = await fetch(SAMPLE.url);
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    await pick(await res.blob(), SAMPLE.name);
  } catch (e) {
    setStatus(`Cannot load the sample picture: ${e.message}`, true);
  }
}

/** One network file, or an ncnn network's two files (.param and .bin, picked together). */
async function pickNetwork(files) {
  if (!files?.length) return;
  const bytes = async (f) => new Uint8Array(await f.arrayBuffer());
  const param = files.find((f) => /\.param$/i.test(f.name)), bin = files.find((f) => /\.bin$/i.test(f.name));
  const name = files.map((f) => f.name).join(" + ");
  if (param || bin) {
    if (!(param && bin)) { setNet(`An ncnn network is two files: choose its .param and its .bin together (got ${name}).`, "error"); return; }
    netFile = { name, size: param.size + bin.size, model: { param: await bytes(param), bin: await bytes(bin) } };
  } else netFile = { name, size: files[0].size, model: await bytes(files[0]) };
  ui.model.querySelector(`option[value="${FILE}"]`).textContent = `file: ${name}`;
  ui.model.value = chosenModel = FILE;
  prepare().catch(() => {}); // a file of one's own is checked at once; the outcome shows in #net
}

async function upscale() {
  if (!source || job) return;
  const input = source; // the job's own input, whatever is chosen while it runs
  const controller = new AbortController();
  let ended;
  job = { controller, ended: new Promise((resolve) => (ended = resolve)) };
  clearResult();
  setBusy(true);
  const { signal } = controller;
  try {
    // A cancel while the network downloads ends the job now (the download goes on for the next one).
    const up = await Promise.race([prepare(), new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason), { once: true }))]);
    const { width, height } = input.image;
    const gpu = ui.backend.value === "webgl";
    const n = threads();
    setStatus(`Upscaling ${width}×${height} with ${up.info().model}${gpu ? " on the GPU (WebGL2)" : ui.backend.value === "auto" ? "" : ` on ${n} thread${n === 1 ? "" : "s"}`}…`);
    up.resetPeak();
    const t0 = performance.now();
    const out = await up.upscale(input.image, {
      signal,
      onProgress: (p) => {
        ui.progress.value = p.fraction;
        // A job of one tile (small pictures, whole-image networks) reports its layers instead.
        setStatus(p.tilesTotal === 1 && p.tilesDone === 0 ? `${Math.round(p.fraction * 100)} % done` : `${p.tilesDone} of ${p.tilesTotal} tiles done`);
      },
    });
    const ms = performance.now() - t0;
    const info = up.info(); // the backend that ran
    const memory = memoryText(up.stats());
    const ref = await compareWith(info, input.image);
    const blob = await toBlob(out, { type: "image/png" });
    if (signal.aborted) throw signal.reason; // cancelled while the result was being prepared
    show(out, ref, info.model, input);
    downloadUrl = URL.createObjectURL(blob);
    ui.download.href = downloadUrl;
    ui.download.download = `${input.name.replace(/\.[^.]*$/, "")}-${info.model}-x${info.scale}.png`;
    ui.download.hidden = false;
    Object.assign(ui.status.dataset, { threads: String(info.threads), variant: info.wasmVariant, backend: info.backend, ms: ms.toFixed(1) });
    const where = info.backend === "webgl"
      ? "the GPU (WebGL2)"
      : `${info.threads} thread${info.threads === 1 ? "" : "s"} (wasm, ${info.wasmVariant === "relaxed" ? "relaxed SIMD" : "SIMD"})`;
    setStatus(`Done: ${out.width}×${out.height} with ${info.model} in ${ms.toFixed(0)} ms on ${where}; ${memory}.`);
  } catch (e) {
    clearResult();
    if (signal.aborted) setStatus("Cancelled.");
    else setStatus(`Failed: ${e.message}`, true);
  } finally {
    job = undefined;
    setBusy(false);
    ended();
  }
}

/** Stops the running job, if any, and waits until it has let go of the page. */
async function cancelJob() {
  if (!job) return;
  job.controller.abort(new Error("cancelled by the user"));
  await job.ended;
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

function show(out, ref, name, input) {
  result = { out, ref, name };
  toCanvas(out, ui.after);
  toCanvas(input.image, ui.before);
  ui.after.setAttribute("aria-label", `${input.name} upscaled by ${name} to ${out.width}×${out.height}`);
  ui.before.setAttribute("aria-label", `${input.name} as chosen, ${input.image.width}×${input.image.height}, enlarged to the same size`);
  // Small results are shown enlarged (without smoothing, see style.css) so the difference is visible.
  ui.after.style.width = `${Math.max(out.width, Math.min(640, out.width * 4))}px`;
  ui.compare.hidden = false;
  updateSlider();
  const size = Math.min(CROP, out.width, out.height);
  ui.cropX.max = String(out.width - size);
  ui.cropY.max = String(out.height - size);
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
    canvas.style.maxWidth = `${size * ZOOM}px`; // pixelated (style.css): each pixel a ZOOM×ZOOM square where there is room
  }
  ui.zoomNetLabel.textContent = name;
  ui.zoomRefLabel.textContent = ref.name;
  const where = `${size}×${size} pixels from (${x}, ${y})`;
  ui.zoomNet.setAttribute("aria-label", `${where} of the ${name} result, enlarged`);
  ui.zoomRef.setAttribute("aria-label", `${where} of the ${ref.name} resize, enlarged`);
  ui.cropX.value = String(x);
  ui.cropY.value = String(y);
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

/**
 * Enables what may be used now. Keyboard focus never falls to the page: from Upscale, which disables
 * itself, it moves to Cancel, and from Cancel back to Upscale when the job ends.
 */
function setBusy(busy) {
  const focused = document.activeElement;
  const changed = ui.status.dataset.state !== (busy ? "busy" : "idle");
  ui.run.disabled = busy || !source;
  ui.cancel.disabled = !busy;
  ui.model.disabled = ui.backend.disabled = busy;
  // Threads are the wasm backend's: with WebGL they only matter if a job falls back to wasm.
  const gpu = ui.backend.value === "webgl";
  ui.threads.disabled = busy || gpu;
  ui.threadsNote.hidden = !gpu;
  ui.status.dataset.state = busy ? "busy" : "idle";
  if (!changed) return;
  if (busy && focused === ui.run) ui.cancel.focus();
  if (!busy && (focused === ui.cancel || focused === ui.run || focused === document.body)) (ui.run.disabled ? ui.file : ui.run).focus();
}

function setStatus(text, error = false) {
  ui.status.textContent = text;
  ui.status.classList.toggle("error", error);
}

function setNet(text, state) {
  ui.net.textContent = text;
  ui.net.dataset.state = state;
}

/** The line in #net for the upscaler being prepared, kept to show again if its settings come back. */
function setPreparedNote(key, text, state) {
  if (prepared?.key !== key) return;
  prepared.note = { text, state };
  setNet(text, state);
}

/** Threads as asked, within what the machine runs at once (more would only queue on the same cores). */
function threads() {
  const n = Math.round(Number(ui.threads.value));
  return Number.isFinite(n) ? Math.max(0, Math.min(cores, n)) : Math.min(4, cores);
}

/** Settings changed: nothing is downloaded until the network is needed (a picture, or Upscale). */
function settingsChanged() {
  const { key, label } = settings();
  if (prepared?.key === key && prepared.note) setNet(prepared.note.text, prepared.note.state);
  else if (prepared) setNet(`${label}: loads when you press Upscale.`, "idle");
  setBusy(!!job);
}

ui.file.addEventListener("change", () => pick(ui.file.files?.[0]));
ui.sample.addEventListener("click", pickSample);
ui.netfile.addEventListener("change", () => pickNetwork([...(ui.netfile.files ?? [])]));
// The file dialog was dismissed: back to the network chosen before, and no stale request to pick a file.
ui.netfile.addEventListener("cancel", () => {
  if (ui.model.value !== FILE || netFile) return;
  ui.model.value = chosenModel;
  setNet("", "idle");
});
ui.model.addEventListener("change", () => {
  if (ui.model.value === FILE && !netFile) { ui.netfile.click(); return; }
  chosenModel = ui.model.value;
  settingsChanged();
});
ui.threads.addEventListener("change", () => { ui.threads.value = String(threads()); settingsChanged(); });
ui.backend.addEventListener("change", settingsChanged);
ui.run.addEventListener("click", upscale);
ui.cancel.addEventListener("click", () => cancelJob());
ui.slider.addEventListener("input", updateSlider);
for (const slider of [ui.cropX, ui.cropY]) {
  slider.addEventListener("input", () => { if (result) zoomAt(Number(ui.cropX.value), Number(ui.cropY.value), Number(ui.zoomNet.dataset.size)); });
}
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
setBusy(false);
document.documentElement.dataset.ready = "true";
