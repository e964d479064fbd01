// SPDX-License-Identifier: MIT
// Browser entry (the "browser" export condition, and "srgan-wasm/browser"): the public API, which
// includes the browser image converters in every entry. Kept as its own file so that the browser
// condition and existing "srgan-wasm/browser" imports keep working.
export * from "./index.js";
