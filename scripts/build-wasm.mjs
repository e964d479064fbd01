// Builds both kernel variants from asconfig.json: plain SIMD (runs everywhere with SIMD + threads) and
// relaxed SIMD (fused multiply-add; picked at run time where the engine validates it).
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";

mkdirSync("wasm", { recursive: true });
for (const target of ["simd", "relaxed"]) {
  execFileSync(process.execPath, ["node_modules/assemblyscript/bin/asc.js", "--config", "asconfig.json", "--target", target], { stdio: "inherit" });
}
