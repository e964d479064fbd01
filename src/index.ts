// SPDX-License-Identifier: MIT
// Public API of srgan-wasm.
export { createUpscaler, Upscaler, type RgbaImage, type UpscaleOptions, type Progress, type UpscalerInfo } from "./api/upscaler.js";
export type { UpscalerOptions, Backend } from "./api/options.js";
export type { WebglStats } from "./backends/webgl/index.js";
export * from "./errors.js";
export { loadNetwork, type ModelSource, type NcnnFiles } from "./api/load-network.js";
export { encodeNetwork, decodeNetwork } from "./model/formats/srnet.js";
export { validateGraph, type Graph, type GraphNode, type Weight, type Shape } from "./model/graph.js";
export { autoModel, BUILTIN_NAMES, DEFAULT_MODEL } from "./model/builtin.js";
export type { PoolStats } from "./runtime/counters.js";
export { configureAssets, type AssetOptions } from "./platform/assets.js";
// In every entry, so the types are the same under every export condition and resolution mode; it
// touches DOM globals only when called (and then fails with a typed error where there are none).
export { readImage, toImageData, toCanvas, toBlob, type BrowserImageSource, type ToBlobOptions } from "./api/browser-io.js";
export type { SrganWarning } from "./platform/web-threads.js";
export { decodeImage, encodeImage, encodePng, encodeJpeg, detectImageFormat, formatFromName,
  readImageInfo, MAX_IMAGE_SIDE, MAX_IMAGE_PIXELS, DEFAULT_MAX_PIXELS, type DecodedImage, type ImageFormat, type ImageInfo, type DecodeOptions } from "./image/codec.js";
export { cropToMultiple } from "./image/resample.js";
export { downscale, Downscaler } from "./api/downscale.js";
export { psnr, ssim } from "./metrics/quality.js";
export { evaluate, type Evaluation } from "./metrics/evaluate.js";
export { encodeQuantised, quantiseGraph, truncateMantissa, QUANTISE_MODES, type QuantiseMode } from "./model/quantise.js";
export { upscaleFrames, type FrameUpscaler, type FrameProgress, type UpscaleFramesOptions } from "./video/frames.js";
export { fromVideoFrames, toVideoFrame, type VideoFrameLike } from "./video/webcodecs.js";
export type { TimedFrame, AnimationFormat, AnimationInfo } from "./image/frame.js";
export { decodeAnimation, encodeAnimation, detectAnimation, readAnimationInfo, type DecodedAnimation, type AnimationEncodeOptions } from "./image/animation.js";
