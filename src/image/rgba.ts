// SPDX-License-Identifier: MIT
// The pixel types every layer passes around (RGBA8 images, RGB8 training pictures) and the one check
// of an RGBA8 image that the API, the encoders and the backends share. A leaf: it imports only errors.
import { checkImageSides, invalidInput } from "../errors.js";

/** RGBA8 pixels, row-major; compatible with ImageData. */
export interface RgbaImage {
  data: Uint8ClampedArray | Uint8Array;
  width: number;
  height: number;
}

/** RGB8 pixels, row-major, 3 bytes per pixel. */
export interface Rgb8Image {
  data: Uint8Array;
  width: number;
  height: number;
}

/** Largest side of an image we decode, encode or upscale. */
export const MAX_IMAGE_SIDE = 65535;

/**
 * Throws TypeError for a value that is not { data, width, height } with RGBA bytes, and
 * ERR_INVALID_INPUT for sides outside [1, MAX_IMAGE_SIDE] or a data length that does not match them.
 * `what` prefixes the messages (e.g. "encodePng: ").
 */
export function checkRgbaImage(image: RgbaImage, what = ""): void {
  if (!image || typeof image !== "object") throw new TypeError(`${what}image must be { data, width, height }`);
  const { data, width, height } = image;
  if (!(data instanceof Uint8Array || data instanceof Uint8ClampedArray)) throw new TypeError(`${what}image.data must be a Uint8Array or Uint8ClampedArray of RGBA bytes`);
  checkImageSides(what, width, height, MAX_IMAGE_SIDE);
  if (data.length !== width * height * 4) throw invalidInput(`${what}image.data has ${data.length} bytes; ${width}×${height} RGBA needs ${width * height * 4}`);
}
