// α·TUNED + (1−α)·BASE, weight by weight (src/train/blend.ts): how natural-real was made from its JPEG
// fine-tune and natural. Run after `npm run build`:
//   node scripts/blend-networks.mjs tuned.srnet base.srnet 0.9 blended.srnet
import { readFileSync, writeFileSync } from "node:fs";
import { decodeNetwork, encodeNetwork } from "../dist/model/formats/srnet.js";
import { blendNetworks } from "../dist/train/blend.js";

const [tuned, base, alpha, output] = process.argv.slice(2);
if (!tuned || !base || !alpha || !output) {
  console.error("usage: node scripts/blend-networks.mjs TUNED.srnet BASE.srnet ALPHA OUT.srnet");
  process.exit(2);
}
const read = (path) => decodeNetwork(new Uint8Array(readFileSync(path)));
const graph = blendNetworks(read(tuned), read(base), Number(alpha));
writeFileSync(output, encodeNetwork(graph));
console.log(`${alpha}·${tuned} + (1 − ${alpha})·${base} → ${output} (f32)`);
