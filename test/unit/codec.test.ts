// Image codec: every PNG colour type / bit depth / tRNS / Adam7 variant from an independent writer
// below, JPEG with each EXIF orientation, size limits checked on the header, and damaged files.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { deflateSync } from "node:zlib";
import { encode as fastPngEncode } from "fast-png";
import jpeg from "jpeg-js";
import { encodePngStreaming, IDAT_BYTES } from "../../src/image/png-stream.js";
import { decodeImage, encodePng, encodeJpeg, encodeImage, formatFromName, detectImageFormat, MAX_IMAGE_PIXELS } from "../../src/image/codec.js";
import { applyOrientation, readExifOrientation } from "../../src/image/exif.js";
import { ImageDecodeError, ImageTooLargeError, SrganError } from "../../src/errors.js";
import { rng, randInt } from "../helpers.js";
import { chunk } from "../bombs.js";

const test = suite("codec");

// ---- a small, independent PNG writer (zlib from node:zlib) ----------------------------------------

interface PngSpec {
  width: number; height: number; colorType: 0 | 2 | 3 | 4 | 6; depth: 1 | 2 | 4 | 8 | 16;
  /** Samples per pixel in the file's own depth, row-major. */
  samples: number[];
  palette?: number[][]; trns?: number[]; interlace?: boolean;
  /** Where to cut the zlib stream into IDAT chunks (default: in half). */
  splitAt?: number[];
}
const CH = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 } as const;


function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

/** Packs the rows of a (sub)image and filters each with a different filter type (row index mod 5). */
function packAndFilter(spec: PngSpec, xs: number[], ys: number[]): number[] {
  const ch = CH[spec.colorType], d = spec.depth;
  const bpp = Math.max(1, (ch * d) / 8);
  const stride = Math.ceil((xs.length * ch * d) / 8);
  const out: number[] = [];
  let prev = new Uint8Array(stride);
  ys.forEach((y, r) => {
    const row = new Uint8Array(stride);
    let bit = 0;
    for (const x of xs) {
      for (let c = 0; c < ch; c++) {
        const v = spec.samples[(y * spec.width + x) * ch + c];
        if (d === 16) { row[bit >> 3] = v >> 8; row[(bit >> 3) + 1] = v & 255; }
        else if (d === 8) row[bit >> 3] = v;
        else row[bit >> 3] |= v << (8 - d - (bit & 7));
        bit += d;
      }
    }
    const f = r % 5;
    out.push(f);
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? row[i - bpp] : 0, b = prev[i], c = i >= bpp ? prev[i - bpp] : 0;
      const p = a + b - c;
      const paeth = Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c) ? a : Math.abs(p - b) <= Math.abs(p - c) ? b : c;
      const pred = [0, a, b, (a + b) >> 1, paeth][f];
      out.push((row[i] - pred) & 255);
    }
    prev = row;
  });
  return out;
}

function writePng(spec: PngSpec): Uint8Array {
  const ihdr = new Uint8Array(13);
  const dv = new DataView(ihdr.buffer);
  dv.setUint32(0, spec.width); dv.setUint32(4, spec.height);
  ihdr.set([spec.depth, spec.colorType, 0, 0, spec.interlace ? 1 : 0], 8);
  const range = (n: number, from = 0, step = 1) => Array.from({ length: Math.max(0, Math.ceil((n - from) / step)) }, (_, i) => from + i * step);
  let raw: number[] = [];
  if (!spec.interlace) raw = packAndFilter(spec, range(spec.width), range(spec.height));
  else {
    for (const [x0, y0, dx, dy] of [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]]) {
      const xs = range(spec.width, x0, dx), ys = range(spec.height, y0, dy);
      if (xs.length && ys.length) raw.push(...packAndFilter(spec, xs, ys));
    }
  }
  const z = deflateSync(Uint8Array.from(raw));
  const parts = [Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk("IHDR", ihdr)];
  if (spec.palette) parts.push(chunk("PLTE", Uint8Array.from(spec.palette.flat())));
  if (spec.trns) {
    const t = spec.colorType === 3 ? Uint8Array.from(spec.trns) : new Uint8Array(spec.trns.length * 2);
    if (spec.colorType !== 3) spec.trns.forEach((v, i) => new DataView(t.buffer).setUint16(2 * i, v));
    parts.push(chunk("tRNS", t));
  }
  // Split the pixel data over several IDAT chunks, as encoders do for large images.
  const cuts = [0, ...(spec.splitAt ?? [z.length >> 1]), z.length];
  for (let i = 0; i + 1 < cuts.length; i++) parts.push(chunk("IDAT", z.subarray(cuts[i], cuts[i + 1])));
  parts.push(chunk("IEND", new Uint8Array(0)));
  return concat(parts);
}

/** RGBA8 the spec means, computed the plain way. */
function expectedRgba(spec: PngSpec): Uint8ClampedArray {
  const ch = CH[spec.colorType], max = 2 ** spec.depth - 1;
  const to8 = (v: number) => Math.round((v * 255) / max);
  const n = spec.width * spec.height;
  const out = new Uint8ClampedArray(n * 4);
  for (let i = 0; i < n; i++) {
    const s = spec.samples.slice(i * ch, i * ch + ch);
    let px: number[];
    if (spec.colorType === 3) { const e = spec.palette![s[0]]; px = [e[0], e[1], e[2], spec.trns?.[s[0]] ?? 255]; }
    else if (ch <= 2) px = [to8(s[0]), to8(s[0]), to8(s[0]), ch === 2 ? to8(s[1]) : spec.trns && s[0] === spec.trns[0] ? 0 : 255];
    else px = [to8(s[0]), to8(s[1]), to8(s[2]), ch === 4 ? to8(s[3]) : spec.trns && s.every((v, k) => v === spec.trns![k]) ? 0 : 255];
    out.set(px, i * 4);
  }
  return out;
}

function randomSpec(seed: number, colorType: PngSpec["colorType"], depth: PngSpec["depth"], w: number, h: number, interlace: boolean, withTrns: boolean): PngSpec {
  const rand = rng(seed);
  const ch = CH[colorType];
  const colours = colorType === 3 ? Math.min(2 ** depth, 5 + (seed % 7)) : 0;
  const max = colorType === 3 ? colours - 1 : 2 ** depth - 1;
  const samples = Array.from({ length: w * h * ch }, () => randInt(rand, 0, max));
  const spec: PngSpec = { width: w, height: h, colorType, depth, samples, interlace };
  if (colorType === 3) spec.palette = Array.from({ length: colours }, () => [randInt(rand, 0, 255), randInt(rand, 0, 255), randInt(rand, 0, 255)]);
  if (withTrns) {
    // Fewer alpha entries than palette colours: the rest must stay opaque.
    if (colorType === 3) spec.trns = Array.from({ length: colours - 1 }, (_, i) => (i * 97) % 256);
    else spec.trns = samples.slice(0, ch); // the first pixel's colour is the transparent key
  }
  return spec;
}

function assertPixels(actual: { data: ArrayLike<number>; width: number; height: number }, expected: ArrayLike<number>, w: number, h: number, label: string) {
  assert.is(actual.width, w, `${label}: width`);
  assert.is(actual.height, h, `${label}: height`);
  assert.ok(actual.data instanceof Uint8ClampedArray, `${label}: data is Uint8ClampedArray`);
  assert.is(actual.data.length, expected.length, `${label}: length`);
  for (let i = 0; i < expected.length; i++) {
    if (actual.data[i] !== expected[i]) assert.unreachable(`${label}: byte ${i} (pixel ${(i >> 2) % w},${Math.floor(i / 4 / w)} channel ${i & 3}) is ${actual.data[i]}, expected ${expected[i]}`);
  }
}

const VARIANTS: [PngSpec["colorType"], PngSpec["depth"][], boolean][] = [
  [0, [1, 2, 4, 8, 16], true], [2, [8, 16], true], [3, [1, 2, 4, 8], true], [4, [8, 16], false], [6, [8, 16], false],
];
const NAMES = { 0: "grey", 2: "RGB", 3: "palette", 4: "grey+alpha", 6: "RGBA" } as const;

for (const [colorType, depths, canTrns] of VARIANTS) {
  for (const depth of depths) {
    test(`PNG ${NAMES[colorType]} ${depth}-bit: plain, tRNS, Adam7 (odd and tiny sizes)`, () => {
      let seed = colorType * 100 + depth;
      for (const interlace of [false, true]) {
        for (const trns of canTrns ? [false, true] : [false]) {
          for (const [w, h] of [[13, 11], [1, 1], [3, 2], [17, 9]]) {
            const spec = randomSpec(seed++, colorType, depth, w, h, interlace, trns);
            const label = `${NAMES[colorType]}/${depth}${interlace ? "/Adam7" : ""}${trns ? "/tRNS" : ""} ${w}×${h}`;
            assertPixels(decodeImage(writePng(spec)), expectedRgba(spec), w, h, label);
          }
        }
      }
    });
  }
}

test("PNG: IDAT chunks of 0 and 1 bytes (the zlib header split across chunks)", () => {
  for (const [colorType, depth, interlace] of [[0, 2, true], [3, 4, true], [2, 8, false], [6, 16, true]] as const) {
    const spec = randomSpec(50 + depth, colorType, depth, 9, 7, interlace, false);
    spec.splitAt = [0, 1, 1, 3];
    assertPixels(decodeImage(writePng(spec)), expectedRgba(spec), 9, 7, `type ${colorType} ${depth}-bit${interlace ? " Adam7" : ""}`);
  }
});

test("PNG 16-bit rounds to the nearest 8-bit value", () => {
  const values = [0, 1, 128, 129, 255, 256, 257, 32767, 32768, 32896, 65278, 65279, 65534, 65535];
  const spec: PngSpec = { width: values.length, height: 1, colorType: 0, depth: 16, samples: values };
  const img = decodeImage(writePng(spec));
  values.forEach((v, i) => assert.is(img.data[4 * i], Math.round(v / 257), `16-bit ${v}`));
});

test("PNG from fast-png's own encoder (8/16-bit, Adam7) decodes to the same pixels", () => {
  const rand = rng(9);
  for (const [depth, channels] of [[8, 4], [16, 3], [8, 2], [16, 1]] as const) {
    const w = 10, h = 7, n = w * h * channels, max = 2 ** depth - 1;
    const data = depth === 16 ? new Uint16Array(n) : new Uint8Array(n);
    for (let i = 0; i < n; i++) data[i] = randInt(rand, 0, max);
    for (const interlace of ["null", "Adam7"] as const) {
      const bytes = fastPngEncode({ width: w, height: h, data, depth, channels }, { interlace });
      const spec: PngSpec = { width: w, height: h, colorType: ({ 1: 0, 2: 4, 3: 2, 4: 6 } as const)[channels], depth, samples: Array.from(data) };
      assertPixels(decodeImage(bytes), expectedRgba(spec), w, h, `fast-png ${depth}-bit ×${channels} ${interlace}`);
    }
  }
});

test("encodePng: opaque → RGB, translucent → RGBA; both round-trip exactly", () => {
  const rand = rng(5);
  const w = 19, h = 6;
  const data = new Uint8ClampedArray(w * h * 4).map((_, i) => ((i & 3) === 3 ? 255 : randInt(rand, 0, 255)));
  const opaque = encodePng({ data, width: w, height: h });
  assert.is(opaque[25], 2, "colour type RGB");
  assertPixels(decodeImage(opaque), data, w, h, "opaque");
  data[7] = 128;
  const translucent = encodePng({ data, width: w, height: h });
  assert.is(translucent[25], 6, "colour type RGBA");
  assertPixels(decodeImage(translucent), data, w, h, "translucent");
});

test("encodePngStreaming: the same bytes however fast they are consumed, and the same pixels", async () => {
  const rand = rng(6);
  const w = 1200, h = 1000; // several 1 MiB deflate blocks; mostly noise so the output does not shrink to nothing
  const data = new Uint8ClampedArray(w * h * 4).map((_, i) => ((i & 3) === 3 ? 255 : (i >> 14) % 4 ? randInt(rand, 0, 255) : (i >> 6) & 255));
  const img = { data, width: w, height: h };
  const collect = async (pause: boolean) => {
    const parts: Uint8Array[] = [];
    for await (const part of encodePngStreaming(img)) {
      parts.push(part.slice());
      if (pause) await new Promise((r) => setTimeout(r, 30)); // a slow disk: deflate runs ahead meanwhile
    }
    return Buffer.concat(parts);
  };
  const fast = await collect(false), slow = await collect(true);
  assert.ok(fast.equals(slow), "timing changed the bytes");
  const idat: number[] = [];
  for (let at = 8; at < fast.length; at += 12 + fast.readUInt32BE(at)) if (fast.toString("latin1", at + 4, at + 8) === "IDAT") idat.push(fast.readUInt32BE(at));
  assert.ok(idat.length >= 3, `${idat.length} IDAT chunks`);
  assert.ok(idat.slice(0, -1).every((n) => n === IDAT_BYTES) && idat.at(-1)! <= IDAT_BYTES, `IDAT sizes ${idat}: where zlib happened to break must not show`);
  assertPixels(decodeImage(fast), data, w, h, "streamed");
});

// ---- JPEG and EXIF --------------------------------------------------------------------------------

/** APP1 "Exif" segment with IFD0 holding a Make string and then Orientation, in either byte order. */
function exifApp1(orientation: number, le: boolean): Uint8Array {
  const tiff = new Uint8Array(8 + 2 + 2 * 12 + 4 + 8);
  const dv = new DataView(tiff.buffer);
  tiff.set(le ? [0x49, 0x49] : [0x4d, 0x4d]);
  dv.setUint16(2, 42, le); dv.setUint32(4, 8, le);
  dv.setUint16(8, 2, le);
  // 0x010F Make, ASCII, 6 bytes at offset 38 (after the IFD), so the parser must skip an entry.
  dv.setUint16(10, 0x010f, le); dv.setUint16(12, 2, le); dv.setUint32(14, 6, le); dv.setUint32(18, 38, le);
  dv.setUint16(22, 0x0112, le); dv.setUint16(24, 3, le); dv.setUint32(26, 1, le); dv.setUint16(30, orientation, le);
  tiff.set(Buffer.from("srgan\0", "latin1"), 38);
  const payload = concat([Buffer.from("Exif\0\0", "latin1"), tiff]);
  const seg = new Uint8Array(4 + payload.length);
  seg.set([0xff, 0xe1, (payload.length + 2) >> 8, (payload.length + 2) & 255]);
  seg.set(payload, 4);
  return seg;
}

const withApp1 = (jpg: Uint8Array, seg: Uint8Array) => concat([jpg.subarray(0, 2), seg, jpg.subarray(2)]);

// Stored 32×16, four flat 16×8 quadrants (whole 8×8 blocks, so JPEG keeps the colours).
const QUAD = { TL: [230, 20, 20], TR: [20, 200, 20], BL: [20, 20, 230], BR: [240, 240, 240] } as const;
type Corner = keyof typeof QUAD;
function quadrantImage(w = 32, h = 16) {
  const data = new Uint8ClampedArray(w * h * 4);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const q = QUAD[`${y < h / 2 ? "T" : "B"}${x < w / 2 ? "L" : "R"}` as Corner];
    data.set([...q, 255], (y * w + x) * 4);
  }
  return { data, width: w, height: h };
}

// Where each stored corner is displayed, straight from the EXIF definition of orientations 1–8
// (which side the stored first row and first column belong on).
const SHOWN_AT: Record<number, Record<Corner, Corner>> = {
  1: { TL: "TL", TR: "TR", BL: "BL", BR: "BR" },
  2: { TL: "TR", TR: "TL", BL: "BR", BR: "BL" },
  3: { TL: "BR", TR: "BL", BL: "TR", BR: "TL" },
  4: { TL: "BL", TR: "BR", BL: "TL", BR: "TR" },
  5: { TL: "TL", TR: "BL", BL: "TR", BR: "BR" },
  6: { TL: "TR", TR: "BR", BL: "TL", BR: "BL" },
  7: { TL: "BR", TR: "TR", BL: "BL", BR: "TL" },
  8: { TL: "BL", TR: "TL", BL: "BR", BR: "TR" },
};

function cornerColour(img: { data: ArrayLike<number>; width: number; height: number }, c: Corner): number[] {
  const x = c[1] === "L" ? 2 : img.width - 3, y = c[0] === "T" ? 2 : img.height - 3;
  const i = (y * img.width + x) * 4;
  return [img.data[i], img.data[i + 1], img.data[i + 2]];
}

const near = (a: number[], b: readonly number[], tol = 12) => a.every((v, i) => Math.abs(v - b[i]) <= tol);

for (const le of [true, false]) {
  test(`JPEG: EXIF orientations 1–8 are applied (${le ? "little" : "big"}-endian TIFF)`, () => {
    const stored = quadrantImage();
    const jpg = encodeJpeg(stored, 95);
    for (let o = 1; o <= 8; o++) {
      const img = decodeImage(withApp1(jpg, exifApp1(o, le)));
      const [w, h] = o >= 5 ? [16, 32] : [32, 16];
      assert.is(img.width, w, `orientation ${o}: width`);
      assert.is(img.height, h, `orientation ${o}: height`);
      for (const [from, to] of Object.entries(SHOWN_AT[o]) as [Corner, Corner][]) {
        const got = cornerColour(img, to);
        assert.ok(near(got, QUAD[from]), `orientation ${o}: stored ${from} should show at ${to}, found [${got}] instead of [${QUAD[from]}]`);
      }
    }
  });
}

test("JPEG: no EXIF, invalid orientation value, or broken EXIF → stored orientation, still decodes", () => {
  const stored = quadrantImage();
  const jpg = encodeJpeg(stored, 95);
  const broken = exifApp1(6, true);
  new DataView(broken.buffer).setUint32(4 + 6 + 4, 9999, true); // IFD0 offset past the end
  for (const [label, bytes] of [["none", jpg], ["value 9", withApp1(jpg, exifApp1(9, true))], ["bad IFD offset", withApp1(jpg, broken)]] as const) {
    const img = decodeImage(bytes);
    assert.is(img.width, 32, label);
    for (const c of ["TL", "TR", "BL", "BR"] as Corner[]) assert.ok(near(cornerColour(img, c), QUAD[c]), `${label}: ${c}`);
  }
  assert.is(readExifOrientation(new Uint8Array(3)), 1);
  assert.is(readExifOrientation(exifApp1(8, false).subarray(4)), 8);
});

test("applyOrientation is exact and each orientation is undone by its inverse", () => {
  const rand = rng(11);
  const w = 5, h = 3;
  const data = new Uint8ClampedArray(w * h * 4).map(() => randInt(rand, 0, 255));
  const inverse: Record<number, number> = { 1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 8, 7: 7, 8: 6 };
  for (let o = 1; o <= 8; o++) {
    const shown = applyOrientation({ data, width: w, height: h }, o);
    const back = applyOrientation(shown, inverse[o]);
    assertPixels(back, data, w, h, `orientation ${o} then ${inverse[o]}`);
  }
  // 6 is a quarter turn clockwise: the stored bottom-left pixel ends up top-left.
  const six = applyOrientation({ data, width: w, height: h }, 6);
  assert.equal(Array.from(six.data.subarray(0, 4)), Array.from(data.subarray((h - 1) * w * 4, (h - 1) * w * 4 + 4)));
});

test("JPEG: baseline decodes to opaque RGBA8", () => {
  const img = quadrantImage(16, 16);
  const out = decodeImage(encodeJpeg(img, 90));
  assert.is(out.width, 16);
  for (let i = 3; i < out.data.length; i += 4) assert.is(out.data[i], 255);
  assert.ok(near(cornerColour(out, "BR"), QUAD.BR));
});

test("encodeJpeg composites translucent pixels over white and checks quality", () => {
  const data = new Uint8ClampedArray(16 * 16 * 4); // transparent black everywhere
  const out = decodeImage(encodeJpeg({ data, width: 16, height: 16 }, 90));
  assert.ok(near(cornerColour(out, "TL"), [255, 255, 255], 3), "transparent → white");
  for (const q of [0, 101, 1.5, NaN]) assert.throws(() => encodeJpeg({ data, width: 16, height: 16 }, q), (e: Error) => e instanceof RangeError && /quality/.test(e.message));
});

test("encodeImage picks the format from the extension or name", () => {
  const img = quadrantImage(8, 8);
  assert.is(detectImageFormat(encodeImage(img, "out/x.PNG")), "png");
  assert.is(detectImageFormat(encodeImage(img, "photo.jpeg")), "jpeg");
  assert.is(detectImageFormat(encodeImage(img, "a.jpg")), "jpeg");
  assert.is(detectImageFormat(encodeImage(img, "png")), "png");
  assert.is(formatFromName("x.bmp"), undefined);
  assert.throws(() => encodeImage(img, "x.webp"), (e: SrganError) => e.code === "ERR_IMAGE_ENCODE" && /\.png/.test(e.message));
  assert.throws(() => encodePng({ data: new Uint8Array(5), width: 2, height: 2 }), (e: SrganError) => e.code === "ERR_INVALID_INPUT");
});

// ---- limits and damaged files ---------------------------------------------------------------------

function pngHeaderOnly(w: number, h: number): Uint8Array {
  const ihdr = new Uint8Array(13);
  new DataView(ihdr.buffer).setUint32(0, w);
  new DataView(ihdr.buffer).setUint32(4, h);
  ihdr.set([8, 6, 0, 0, 0], 8);
  // A real-looking but tiny IDAT: a decoder that trusted the header would allocate w·h·4 bytes.
  return concat([Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk("IHDR", ihdr), chunk("IDAT", deflateSync(new Uint8Array(10))), chunk("IEND", new Uint8Array(0))]);
}

function jpegWithSize(w: number, h: number): Uint8Array {
  const jpg = encodeJpeg(quadrantImage(8, 8), 80);
  const out = jpg.slice();
  for (let i = 2; i < out.length - 9; i++) {
    if (out[i] === 0xff && out[i + 1] === 0xc0) {
      out.set([h >> 8, h & 255, w >> 8, w & 255], i + 5);
      return out;
    }
  }
  throw new Error("no SOF0 in test JPEG");
}

test("absurd sizes are refused from the header, before decoding", () => {
  const cases: [string, Uint8Array][] = [
    ["PNG 70000×10", pngHeaderOnly(70000, 10)],
    ["PNG 20000×20000", pngHeaderOnly(20000, 20000)],
    ["PNG 2^31×1", pngHeaderOnly(2 ** 31, 1)],
    ["JPEG 65535×65535", jpegWithSize(65535, 65535)],
  ];
  for (const [label, bytes] of cases) {
    const t = performance.now();
    assert.throws(() => decodeImage(bytes), (e: Error) => e instanceof ImageTooLargeError && e instanceof ImageDecodeError && (e as SrganError).code === "ERR_IMAGE_TOO_LARGE" && /over the limit/.test(e.message), label);
    assert.ok(performance.now() - t < 200, `${label}: refused quickly`);
  }
  assert.ok(20000 * 20000 > MAX_IMAGE_PIXELS);
  assert.throws(() => decodeImage(encodePng(quadrantImage(8, 8)), { maxPixels: 63 }), (e: SrganError) => e.code === "ERR_IMAGE_TOO_LARGE");
});

function expectDecodeError(bytes: Uint8Array, label: string, pattern?: RegExp) {
  try {
    decodeImage(bytes);
  } catch (e) {
    if (!(e instanceof ImageDecodeError) || e.code !== "ERR_IMAGE_DECODE") return assert.unreachable(`${label}: threw ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
    if (pattern && !pattern.test(e.message)) assert.unreachable(`${label}: message '${e.message}' does not match ${pattern}`);
    return;
  }
  assert.unreachable(`${label}: decoded without an error`);
}

test("truncated PNG and JPEG files give ImageDecodeError at every cut point", () => {
  const rand = rng(21);
  const img = { data: new Uint8ClampedArray(24 * 20 * 4).map((_, i) => ((i & 3) === 3 ? 200 : randInt(rand, 0, 255))), width: 24, height: 20 };
  const png = encodePng(img);
  for (let cut = 0; cut < png.length; cut += 3) expectDecodeError(png.subarray(0, cut), `PNG cut at ${cut}/${png.length}`);
  const interlaced = writePng(randomSpec(4, 0, 2, 21, 19, true, false));
  for (let cut = 8; cut < interlaced.length; cut += 5) expectDecodeError(interlaced.subarray(0, cut), `Adam7 2-bit PNG cut at ${cut}`);
  const jpg = encodeJpeg(img, 85);
  for (let cut = 0; cut < jpg.length - 1; cut += 7) expectDecodeError(jpg.subarray(0, cut), `JPEG cut at ${cut}/${jpg.length}`);
  expectDecodeError(png.subarray(0, 60), "PNG", /truncated/);
});

test("corrupt PNG bytes are caught by the chunk CRCs; other formats and junk are named", () => {
  const png = encodePng(quadrantImage(16, 16));
  for (let at = 8; at < png.length; at += 11) {
    const bad = png.slice();
    bad[at] ^= 0x24;
    expectDecodeError(bad, `PNG byte ${at} flipped`);
  }
  expectDecodeError(new Uint8Array(0), "empty", /empty/);
  expectDecodeError(Buffer.from("GIF89a\x01\x00\x01\x00", "latin1"), "GIF", /GIF.*PNG and JPEG/);
  expectDecodeError(Buffer.from("RIFF\0\0\0\0WEBPVP8 ", "latin1"), "WebP", /WebP/);
  expectDecodeError(Buffer.from("hello world", "latin1"), "text", /not a PNG or JPEG.*68 65 6c 6c/);
  // Pixel data that inflates fine but holds a palette index past the palette.
  const spec = randomSpec(3, 3, 8, 4, 4, false, false);
  spec.samples[5] = spec.palette!.length + 2;
  expectDecodeError(writePng(spec), "palette index", /palette index/);
  // A JPEG variant jpeg-js cannot decode is refused by name.
  const jpg = encodeJpeg(quadrantImage(8, 8), 80);
  const sof = jpg.findIndex((b, i) => b === 0xff && jpg[i + 1] === 0xc0);
  const arith = jpg.slice();
  arith[sof + 1] = 0xc9;
  expectDecodeError(arith, "arithmetic JPEG", /arithmetic coding/);
});

test("jpeg-js output of our encoder is what decodeImage sees (sanity for the fixtures)", () => {
  const img = quadrantImage(16, 8);
  const ours = decodeImage(encodeJpeg(img, 95));
  const theirs = jpeg.decode(encodeJpeg(img, 95), { useTArray: true });
  assert.equal(Array.from(ours.data), Array.from(theirs.data));
});

test.run();
