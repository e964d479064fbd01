// Turns a trained network (`srgan train --out`, or `srgan convert CKPT`) into a built-in under models/:
// the built-in's name, a one-line description, weights as float16 (docs/models.md shows f16 keeps
// PSNR to the third decimal). Run after `npm run build`:
//   node scripts/ship-network.mjs trained.srnet models/natural-x2.srnet natural "…description…"
import { readFileSync, writeFileSync } from "node:fs";
import { decodeNetwork, encodeNetwork } from "../dist/model/formats/srnet.js";

const [input, output, name, description] = process.argv.slice(2);
if (!input || !output || !name || !description) {
  console.error("usage: node scripts/ship-network.mjs IN.srnet OUT.srnet NAME DESCRIPTION");
  process.exit(2);
}
const graph = decodeNetwork(new Uint8Array(readFileSync(input)));
writeFileSync(output, encodeNetwork({ ...graph, name, meta: { ...graph.meta, description } }, { dtype: "f16" }));
console.log(`${input} → ${output}: ${name} ×${graph.scale}, ${graph.parameterCount} parameters, f16`);
