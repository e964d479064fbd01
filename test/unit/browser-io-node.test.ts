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

test.run();
