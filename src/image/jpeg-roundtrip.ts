// SPDX-License-Identifier: MIT
// An image as a user's JPEG would give it to us: encoded by our own encoder at `quality`, decoded
// again. The JPEG evaluation protocol (`srgan eval --jpeg Q`) and the `real` training degradation both
// use this one function, so training and measurement see the same codec.
import type { RgbaImage } from "./rgba.js";
import { decodeImage, encodeJpeg } from "./codec.js";

export function jpegRoundTrip(img: RgbaImage, quality: number): RgbaImage {
  const { data, width, height } = decodeImage(encodeJpeg(img, quality));
  return { data, width, height };
}
