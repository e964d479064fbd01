// Runs every test/**/*.test.ts with uvu (TypeScript through tsx, against src/), streaming its output,
// then prints one summary line "N passed, N failed, N skipped". Pass a regex to run a subset:
//   node test/run.mjs conv2d
// --fresh-wasm first rebuilds what is generated from assembly/ (wasm/ and its bindings) if assembly/ is
// newer: what `npm run test:unit` does in place of the whole build, since src/ runs through tsx as it is.
import { execFileSync, spawn } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

const args = process.argv.slice(2);
if (args[0] === "--fresh-wasm") {
  args.shift();
  if (wasmStale()) {
    const { scripts } = JSON.parse(readFileSync("package.json", "utf8"));
    for (const step of ["build:wasm", "gen:bindings"].filter((s) => scripts[s])) {
      console.log(`wasm/ is older than assembly/: npm run ${step}`);
      execFileSync("npm", ["run", "--silent", step], { stdio: "inherit" });
    }
  }
}
// Tests run on the sources: "srgan-wasm" and "srgan-wasm-server", which packages/server and the CLI
// import by name, resolve to src/ and packages/server/src/ under this export condition (package.json),
// not to their builds. Tests that start Node themselves pass it too (TSX in test/helpers.ts).
const SOURCE_CONDITION = ["--conditions=srgan-source"];
const pattern = args[0] ? `${args[0]}.*\\.test\\.ts$` : "\\.test\\.ts$";
const child = spawn(process.execPath, [...SOURCE_CONDITION, "--import", "tsx", "node_modules/uvu/bin.js", "test", pattern], { stdio: ["ignore", "pipe", "inherit"] });
let out = "";
child.stdout.on("data", (d) => { out += d; process.stdout.write(d); });
const status = await new Promise((resolve) => child.on("close", resolve));
const num = (label) => Number(out.replace(/\x1b\[[0-9;]*m/g, "").match(new RegExp(`${label}:\\s+(\\d+)`))?.[1] ?? 0);
const total = num("Total"), passed = num("Passed"), skipped = num("Skipped");
// uvu's Total leaves the skipped tests out.
const failed = status === 0 ? total - passed : Math.max(1, total - passed);
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(status === 0 && total + skipped > 0 ? 0 : 1);

/** True when a kernel binary is missing or older than a file it is built from. */
function wasmStale() {
  const mtime = (p) => { try { return statSync(p).mtimeMs; } catch { return NaN; } };
  const built = Math.min(...["wasm/kernels.simd.wasm", "wasm/kernels.relaxed.wasm"].map(mtime));
  const sources = ["asconfig.json", "scripts/build-wasm.mjs", ...readdirSync("assembly", { recursive: true }).map((f) => join("assembly", f))];
  return !(built >= Math.max(...sources.map(mtime)));
}
