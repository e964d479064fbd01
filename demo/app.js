// SPDX-License-Identifier: MIT
// The demo page's logic, written against the package's public browser API only (no bundler: it loads
// the built dist/ as is, which is also how the end-to-end test checks the shipped files; its npm
// dependencies come through the import map in index.html).
import { createUpscaler, readImage, toBlob, toCanvas } from "../dist/index.browser.js";

const $ = (id) => document.getElementById(id);
const ui = {
  env: $("env"), drop: $("drop"), file: $("file"), model: $("model"), threads: $("threads"),
  run: $("run"), cancel: $("cancel"), progress: $("progress"), status: $("status"),
  compare: $("compare"), before: $("before"), after: $("after"), slider: $("slider"), download: $("download"),
};

const cores = navigator.hardwareConcurrency || 1;
ui.threads.value = String(Math.min(4, cores));
ui.env.textContent = crossOriginIsolated
  ? `Cross-origin isolated: up to ${cores} worker threads on one shared memory.`
  : "Not cross-origin isolated, so the upscaler runs on this page's thread. Serve with COOP/COEP (node demo/serve.mjs) for threads.";
ui.env.classList.toggle("warn", !crossOriginIsolated);

let source;       // { image, name } of the picked file
let upscaler;     // reused while network and threads stay the same
let upscalerKey = "";
let controller;   // aborts the running job
let downloadUrl;

async function getUpscaler() {
  const key = `${ui.model.value}/${ui.threads.value}`;
  if (upscaler && key === upscalerKey) return upscaler;
  await upscaler?.dispose();
  upscaler = undefined;
  upscaler = await createUpscaler({ model: ui.model.value, threads: Number(ui.threads.value) });
  upscalerKey = key;
  return upscaler;
}

async function pick(file) {
  if (!file) return;
  try {
    setStatus(`Reading ${file.name}…`);
    source = { image: await readImage(file), name: file.name };
    ui.run.disabled = false;
    setStatus(`${file.name}: ${source.image.width}×${source.image.height}. Press Upscale.`);
  } catch (e) {
    source = undefined;
    ui.run.disabled = true;
    setStatus(`Cannot read ${file.name}: ${e.message}`);
  }
}

async function upscale() {
  if (!source) return;
  controller = new AbortController();
  setBusy(true);
  ui.progress.value = 0;
  try {
    setStatus("Preparing the network…");
    const up = await getUpscaler();
    const info = up.info();
    const t0 = performance.now();
    const out = await up.upscale(source.image, {
      signal: controller.signal,
      onProgress: (p) => {
        ui.progress.value = p.fraction;
        setStatus(`Tile ${p.tilesDone} of ${p.tilesTotal}…`);
      },
    });
    const ms = performance.now() - t0;
    show(source.image, out);
    const blob = await toBlob(out, { type: "image/png" });
    if (downloadUrl) URL.revokeObjectURL(downloadUrl);
    downloadUrl = URL.createObjectURL(blob);
    ui.download.href = downloadUrl;
    ui.download.download = `${source.name.replace(/\.[^.]*$/, "")}-${info.model}-x${info.scale}.png`;
    ui.download.hidden = false;
    ui.status.dataset.threads = String(info.threads);
    ui.status.dataset.variant = info.wasmVariant;
    setStatus(`Done: ${out.width}×${out.height} with ${info.model} in ${ms.toFixed(0)} ms on ${info.threads} thread${info.threads === 1 ? "" : "s"} (${info.wasmVariant} SIMD).`);
  } catch (e) {
    setStatus(e.name === "AbortError" ? "Cancelled." : `Failed: ${e.message}`);
  } finally {
    setBusy(false);
  }
}

function show(input, output) {
  toCanvas(output, ui.after);
  toCanvas(input, ui.before);
  // Small results are shown enlarged (without smoothing, see style.css) so the difference is visible.
  ui.after.style.width = `${Math.max(output.width, Math.min(640, output.width * 4))}px`;
  ui.compare.hidden = false;
  updateSlider();
}

function updateSlider() {
  ui.before.style.clipPath = `inset(0 ${100 - Number(ui.slider.value)}% 0 0)`;
}

function setBusy(busy) {
  ui.run.disabled = busy || !source;
  ui.cancel.disabled = !busy;
  ui.model.disabled = ui.threads.disabled = busy;
  ui.status.dataset.state = busy ? "busy" : "idle";
}

function setStatus(text) {
  ui.status.textContent = text;
}

ui.file.addEventListener("change", () => pick(ui.file.files?.[0]));
ui.run.addEventListener("click", upscale);
ui.cancel.addEventListener("click", () => controller?.abort(new Error("cancelled by the user")));
ui.slider.addEventListener("input", updateSlider);
for (const type of ["dragenter", "dragover"]) ui.drop.addEventListener(type, (e) => { e.preventDefault(); ui.drop.classList.add("over"); });
ui.drop.addEventListener("dragleave", () => ui.drop.classList.remove("over"));
ui.drop.addEventListener("drop", (e) => {
  e.preventDefault();
  ui.drop.classList.remove("over");
  pick(e.dataTransfer?.files?.[0]);
});
ui.status.dataset.state = "idle";
document.documentElement.dataset.ready = "true";
