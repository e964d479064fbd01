// SPDX-License-Identifier: MIT
// The browser image converters are exported from every entry (so TypeScript sees one API under every
// export condition); outside a browser they must fail with a typed error that names the Node way.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import * as root from "../../src/index.js";
import * as browser from "../../src/index.browser.js";
import * as deno from "../../src/index.deno.js";

const test = suite("browser converters outside a browser");
const pixels = { data: new Uint8ClampedArray(4 * 4), width: 2, height: 2 };

test("every entry exports the same names, the browser converters included", () => {
  const names = Object.keys(root).sort();
  for (const n of ["readImage", "toImageData", "toCanvas", "toBlob", "configureAssets"]) assert.ok(names.includes(n), n);
  assert.equal(Object.keys(browser).sort(), names);
  assert.equal(Object.keys(deno).sort(), names);
});

test("in Node: typed errors that name decodeImage/encodeImage", async () => {
  const decode = await root.readImage(new Blob([new Uint8Array(8)], { type: "image/png" })).catch((e) => e);
  assert.instance(decode, root.ImageDecodeError);
  assert.is(decode.code, "ERR_IMAGE_DECODE");
  assert.match(decode.message, /decodeImage\(\)/);
  for (const f of [() => root.toCanvas(pixels), () => root.toImageData(pixels)]) {
    const e = (() => { try { f(); } catch (err) { return err as root.SrganError; } })();
    assert.is(e?.code, "ERR_IMAGE_ENCODE");
    assert.match(e!.message, /encodeImage\(\)/);
  }
  const blob = await root.toBlob(pixels).catch((e) => e);
  assert.is(blob.code, "ERR_IMAGE_ENCODE");
});

test("a Blob the browser cannot decode: one sentence, and advice that fits its type", async () => {
  // The message Chromium's createImageBitmap rejects with, final period included.
  const g = globalThis as { createImageBitmap?: unknown };
  const saved = g.createImageBitmap;
  g.createImageBitmap = async () => { throw new DOMException("The source image could not be decoded.", "InvalidStateError"); };
  try {
    const jpeg = await root.readImage(new Blob([new Uint8Array(10)], { type: "image/jpeg" })).catch((e) => e);
    assert.instance(jpeg, root.ImageDecodeError);
    assert.is(jpeg.message, "this browser cannot decode the Blob (type 'image/jpeg', 10 bytes): The source image could not be decoded; the file is damaged, or it is not the JPEG its type says");
    const heic = await root.readImage(new Blob([new Uint8Array(3)], { type: "image/heic" })).catch((e) => e);
    assert.match(heic.message, /could not be decoded; save it as PNG or JPEG, which every browser decodes$/);
    for (const e of [jpeg, heic]) assert.not.match(e.message, /\.\./);
  } finally {
    g.createImageBitmap = saved;
  }
});

test.run();
