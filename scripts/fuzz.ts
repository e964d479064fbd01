// The long fuzz pass over every reader of untrusted bytes (test/fuzz.ts; the test suite runs a short one):
//   node --import tsx scripts/fuzz.ts [CASES_PER_READER=20000] [SEED=1]
// Prints each reader's outcome counts and every failure (its file kept in the OS temp folder); exits 1 if there was one.
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fuzz, readerNames } from "../test/fuzz.js";

const casesPerReader = Number(process.argv[2] ?? 20000), seed = Number(process.argv[3] ?? 1);
let failed = 0;
for (const only of readerNames()) {
  const t0 = performance.now();
  const r = await fuzz({ seed, casesPerReader, maxMsPerCase: 2000, maxRssGrowthMiB: 768, only });
  failed += r.failures.length;
  console.log(`${only}: ${r.cases} cases, ${r.decoded} decoded, ${r.refused} refused with SrganError, ${r.failures.length} failures; ` +
    `slowest ${r.slowestMs.toFixed(0)} ms, peak RSS +${r.peakRssGrowthMiB.toFixed(0)} MiB, ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  for (const f of r.failures.slice(0, 20)) {
    const file = join(tmpdir(), `srgan-fuzz-${only}-${seed}-${f.caseIndex}`);
    writeFileSync(file, f.bytes);
    console.log(`  case ${f.caseIndex} (${f.how}): ${f.problem}; the file: ${file}`);
  }
}
process.exit(failed ? 1 : 0);
