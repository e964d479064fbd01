// SPDX-License-Identifier: MIT
// Decode time of the community network files (../shared/data/community) by the readers in
// src/model/formats, from bytes already in memory; and two parts of it: the fp16 → fp32 conversion
// (fp16 ncnn files) and the CRC-32 of a zip .pth's entries. Prints tinybench medians; needs ../shared (exits with a message without it).
//
//   node --import tsx bench/formats.bench.ts [--time 1000]
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Bench } from "tinybench";
import { crc32 } from "../src/model/crc32.js";
import { f16ToF32 } from "../src/model/float16.js";
import { decodeNcnn } from "../src/model/formats/ncnn.js";
import { decodePth, pickStateDict } from "../src/model/formats/pytorch.js";
import { decodeWaifu2xJson } from "../src/model/formats/waifu2x-json.js";

const DATA = fileURLToPath(new URL("../../shared/data/community/", import.meta.url));
if (!existsSync(DATA)) {
  console.log(`bench/formats: ${DATA} is missing (the community files live in ../shared); nothing measured`);
  process.exit(0);
}
const i = process.argv.indexOf("--time");
const TIME_MS = i > 0 ? Number(process.argv[i + 1]) : 1000;
const read = (p: string) => new Uint8Array(readFileSync(DATA + p));

const anime = { param: read("ncnn/realesrgan/realesrgan-x4plus-anime.param"), bin: read("ncnn/realesrgan/realesrgan-x4plus-anime.bin") };
const x4 = { param: read("ncnn/realesrgan/realesr-animevideov3-x4.param"), bin: read("ncnn/realesrgan/realesr-animevideov3-x4.bin") };
const aniscale = read("pytorch/2x-AniScale.pth"), yandere = read("pytorch/4x-NMKD-YandereNeo-Superlite.pth");
const json = read("waifu2x-json/scale2.0x_model.json");
const halves = Uint16Array.from({ length: 4_467_779 }, (_, k) => (k * 2654435761) & 0x7bff); // finite halves, as many as the anime .bin holds

const bench = new Bench({ time: TIME_MS, warmup: true, warmupTime: 200, warmupIterations: 2 });
bench
  .add("ncnn realesrgan-x4plus-anime (8.9 MB, fp16)", () => decodeNcnn(anime))
  .add("ncnn realesr-animevideov3-x4 (1.2 MB, fp16)", () => decodeNcnn(x4))
  .add("pth 2x-AniScale (4.8 MB, zip)", () => pickStateDict(decodePth(aniscale)))
  .add("pth 4x-NMKD-YandereNeo-Superlite (6.4 MB, legacy)", () => pickStateDict(decodePth(yandere)))
  .add("waifu2x JSON scale2.0x_model (5.5 MB)", () => decodeWaifu2xJson(json))
  .add("f16ToF32, 4 467 779 halves", () => f16ToF32(halves))
  .add("crc32 over 2x-AniScale's 4.8 MB (the zip reader's CRC checks)", () => crc32(aniscale));
await bench.run();
for (const t of bench.tasks) {
  const r = t.result as { latency?: { p50?: number }; samples?: number[] } | undefined;
  console.log(`${t.name.padEnd(52)} median ${r?.latency?.p50?.toFixed(1) ?? "?"} ms`);
}
