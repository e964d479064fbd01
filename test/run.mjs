// Runs every test/**/*.test.ts with uvu (TypeScript through tsx, against src/), streaming its output,
// then prints one summary line "N passed, N failed, N skipped". Pass a regex to run a subset:
//   node test/run.mjs conv2d
import { spawn } from "node:child_process";

const pattern = process.argv[2] ? `${process.argv[2]}.*\\.test\\.ts$` : "\\.test\\.ts$";
const child = spawn(process.execPath, ["--import", "tsx", "node_modules/uvu/bin.js", "test", pattern], { stdio: ["ignore", "pipe", "inherit"] });
let out = "";
child.stdout.on("data", (d) => { out += d; process.stdout.write(d); });
const status = await new Promise((resolve) => child.on("close", resolve));
const num = (label) => Number(out.replace(/\x1b\[[0-9;]*m/g, "").match(new RegExp(`${label}:\\s+(\\d+)`))?.[1] ?? 0);
const total = num("Total"), passed = num("Passed"), skipped = num("Skipped");
const failed = status === 0 ? total - passed - skipped : Math.max(1, total - passed - skipped);
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(status === 0 && total > 0 ? 0 : 1);
