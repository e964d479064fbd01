// The short fuzz pass (test/fuzz.ts): mutated PNG, JPEG, .srnet, .rsr, checkpoint files, community
// network files (.pth zip and legacy, .safetensors, ncnn .bin and .param, waifu2x JSON, ONNX), GIF, APNG, WebP
// and Matroska frame streams either decode or throw a typed SrganError, each quickly and without a
// memory blow-up. The long pass is `node --import tsx scripts/fuzz.ts`.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { fuzz, readerNames } from "../fuzz.js";
import { ModelFormatError } from "../../src/errors.js";
import { crc32 } from "../../src/model/crc32.js";
import { decodeCheckpoint, encodeCheckpoint } from "../../src/train/checkpoint.js";

const test = suite("fuzz");

test("200 mutated files per reader (images, .srnet, .rsr, checkpoints, .pth, .safetensors, ncnn, waifu2x JSON, ONNX, animations, Matroska): decoded or a typed SrganError, each < 2 s, peak RSS + < 768 MiB", async () => {
  const r = await fuzz({ seed: 1, casesPerReader: 200, maxMsPerCase: 2000, maxRssGrowthMiB: 768 });
  assert.equal(r.failures.slice(0, 5), [], `${r.failures.length} failures`);
  assert.is(r.cases, 200 * readerNames().length);
  assert.ok(r.refused > 100 && r.decoded > 10, `a mix of outcomes: ${r.decoded} decoded, ${r.refused} refused`);
});

test("found by the long pass: a checkpoint weight entry of null; a damaged version field reads as damage", () => {
  const n = 2;
  const good = encodeCheckpoint({
    step: 1, rngState: 1, paramCount: n, elapsedMs: 1, options: {}, history: [],
    graph: { name: "t", scale: 2, input: "x", output: "y", nodes: [], weights: [{ name: "w", shape: [2], offset: 0, length: n }] },
    params: new Float32Array(n), m: new Float32Array(n), v: new Float32Array(n),
  });
  const withCrc = (b: Uint8Array) => { new DataView(b.buffer).setUint32(b.length - 4, crc32(b.subarray(0, b.length - 4)), true); return b; };
  const json = new TextDecoder().decode(good.subarray(16, 16 + new DataView(good.buffer).getUint32(12, true)));
  const nulled = good.slice();
  nulled.set(new TextEncoder().encode(json.replace(/\{"name":"w","shape":\[2\],"offset":0,"length":2\}/, (m) => "null".padEnd(m.length))), 16);
  assert.throws(() => decodeCheckpoint(withCrc(nulled)), (e: Error) => e instanceof ModelFormatError && /weight entry that is not an object/.test(e.message));
  const flipped = good.slice();
  flipped[8] ^= 0xff;
  assert.throws(() => decodeCheckpoint(flipped), (e: Error) => e instanceof ModelFormatError && /checksum mismatch.*corrupt/.test(e.message) && !/version/.test(e.message));
});

test.run();
