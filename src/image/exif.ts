// SPDX-License-Identifier: MIT
// EXIF orientation: reading tag 0x0112 from a JPEG APP1 "Exif" payload, and turning stored pixels
// upright. Broken metadata never fails a decode: the pixels are still good, so we fall back to 1.

/** Orientation 1–8 from an APP1 payload (starting at "Exif\0\0"); 1 when absent or unreadable. */
export function readExifOrientation(app1: Uint8Array): number {
  // "Exif\0\0", then a TIFF header: byte order "II"/"MM", the number 42, the offset of IFD0.
  if (app1.length < 14 || String.fromCharCode(...app1.subarray(0, 6)) !== "Exif\0\0") return 1;
  const tiff = app1.subarray(6);
  const dv = new DataView(tiff.buffer, tiff.byteOffset, tiff.byteLength);
  const order = String.fromCharCode(tiff[0], tiff[1]);
  if (order !== "II" && order !== "MM") return 1;
  const le = order === "II";
  if (dv.getUint16(2, le) !== 42) return 1;
  const ifd0 = dv.getUint32(4, le);
  if (ifd0 < 8 || ifd0 + 2 > tiff.length) return 1;
  const count = dv.getUint16(ifd0, le);
  for (let i = 0; i < count; i++) {
    const entry = ifd0 + 2 + 12 * i;
    if (entry + 12 > tiff.length) return 1;
    if (dv.getUint16(entry, le) !== 0x0112) continue;
    const type = dv.getUint16(entry + 2, le), n = dv.getUint32(entry + 4, le);
    // SHORT (3), one value, stored left-justified in the 4-byte value field.
    if (type !== 3 || n < 1) return 1;
    const value = dv.getUint16(entry + 8, le);
    return value >= 1 && value <= 8 ? value : 1;
  }
  return 1;
}

interface Pixels { data: Uint8ClampedArray; width: number; height: number }

/**
 * Returns the image as it should be displayed for `orientation` (the EXIF meaning: where the stored
 * first row and column belong). 5–8 swap width and height. 1 (or anything unknown) returns the input.
 */
export function applyOrientation(img: Pixels, orientation: number): Pixels {
  if (!(orientation >= 2 && orientation <= 8)) return img;
  const { width: w, height: h, data } = img;
  const swap = orientation >= 5;
  const ow = swap ? h : w, oh = swap ? w : h;
  const aligned = data.byteOffset % 4 === 0 ? data : data.slice();
  const src = new Uint32Array(aligned.buffer, aligned.byteOffset, w * h);
  const outData = new Uint8ClampedArray(ow * oh * 4);
  const dst = new Uint32Array(outData.buffer);
  // For each displayed pixel (x, y): the stored pixel (sx, sy) it shows, as sx = ax·x + bx·y + cx, etc.
  const [ax, bx, cx, ay, by, cy] = ({
    2: [-1, 0, w - 1, 0, 1, 0],      // mirrored left–right
    3: [-1, 0, w - 1, 0, -1, h - 1], // rotated 180°
    4: [1, 0, 0, 0, -1, h - 1],      // mirrored top–bottom
    5: [0, 1, 0, 1, 0, 0],           // transposed
    6: [0, 1, 0, -1, 0, h - 1],      // needs 90° clockwise
    7: [0, -1, w - 1, -1, 0, h - 1], // transversed
    8: [0, -1, w - 1, 1, 0, 0],      // needs 90° counter-clockwise
  } as Record<number, number[]>)[orientation];
  let o = 0;
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) dst[o++] = src[(ay * x + by * y + cy) * w + ax * x + bx * y + cx];
  }
  return { data: outData, width: ow, height: oh };
}
