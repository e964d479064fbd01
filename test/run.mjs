// Runs every test/**/*.test.ts with uvu (TypeScript through tsx) against the built dist/, then prints
// one summary line "N passed, N failed, N skipped". Pass a regex to run a subset:
//   node test/run.mjs conv2d
import { spawnSync } from "node:child_process";

const pattern = process.argv[2] ? `${process.argv[2]}.*\\.test\\.ts$` : "\\.test\\.ts$";
const res = spawnSync(process.execPath, ["--import", "tsx", "node_modules/uvu/bin.js", "test", pattern], {
  encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 256 << 20,
});
process.stdout.write(res.stdout ?? "");
const num = (label) => Number((res.stdout ?? "").match(new RegExp(`${label}:\\s+(\\d+)`))?.[1] ?? 0);
const total = num("Total"), passed = num("Passed"), skipped = num("Skipped");
const failed = res.status === 0 ? total - passed - skipped : Math.max(1, total - passed - skipped);
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(res.status === 0 && total > 0 ? 0 : 1);
