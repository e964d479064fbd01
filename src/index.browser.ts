// SPDX-License-Identifier: MIT
// Browser entry (the "browser" export condition, and "srgan-wasm/browser" for TypeScript): the whole
// public API plus converters between browser images and pixels, and the asset escape hatch.
export * from "./index.js";
export { readImage, toImageData, toCanvas, toBlob, type BrowserImageSource, type ToBlobOptions } from "./api/browser-io.js";
