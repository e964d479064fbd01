// SPDX-License-Identifier: MIT
// Fails when the modules under a folder (default src/) import each other in a cycle. Every edge
// counts: static, type-only (`import type`, `export type … from`) and dynamic `import()`, since each
// ties the two files' layers together. Relative imports only (packages cannot import us back).
// Usage: node scripts/check-cycles.mjs [DIR]
import { readdirSync, readFileSync, existsSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";

const root = resolve(process.argv[2] ?? "src");
const files = readdirSync(root, { recursive: true }).map((f) => join(root, f)).filter((f) => /\.m?ts$/.test(f) && !f.endsWith(".d.ts"));

// The TypeScript scanner lists every import, export-from and import() specifier, type-only ones included.
const edges = new Map(files.map((file) => {
  const specs = ts.preProcessFile(readFileSync(file, "utf8"), true, true).importedFiles.map((i) => i.fileName);
  const targets = specs.filter((s) => s.startsWith(".")).map((s) => resolve(dirname(file), s).replace(/\.(m?)js$/, ".$1ts"));
  for (const t of targets) if (!existsSync(t)) throw new Error(`${relative(".", file)} imports ${relative(".", t)}, which does not exist`);
  return [file, [...new Set(targets)]];
}));

// Tarjan's strongly connected components: every component of more than one file (or a file importing
// itself) is a cycle.
let next = 0;
const index = new Map(), low = new Map(), stack = [], onStack = new Set(), cycles = [];
function visit(v) {
  index.set(v, next); low.set(v, next++); stack.push(v); onStack.add(v);
  for (const w of edges.get(v) ?? []) {
    if (!index.has(w)) { visit(w); low.set(v, Math.min(low.get(v), low.get(w))); }
    else if (onStack.has(w)) low.set(v, Math.min(low.get(v), index.get(w)));
  }
  if (low.get(v) !== index.get(v)) return;
  const scc = [];
  for (let w; w !== v;) { w = stack.pop(); onStack.delete(w); scc.push(w); }
  if (scc.length > 1 || edges.get(v).includes(v)) cycles.push(scc);
}
for (const f of files) if (!index.has(f)) visit(f);

for (const scc of cycles) {
  console.error(`import cycle among ${scc.map((f) => relative(".", f)).sort().join(", ")}; for example:`);
  // The shortest loop through the component's first file (breadth-first), to show which import to cut.
  const inScc = new Set(scc);
  const from = new Map([[scc[0], null]]);
  const queue = [scc[0]];
  let last;
  while (last === undefined) {
    const v = queue.shift();
    for (const w of edges.get(v)) {
      if (w === scc[0]) { last = v; break; }
      if (inScc.has(w) && !from.has(w)) { from.set(w, v); queue.push(w); }
    }
  }
  const path = [scc[0]];
  for (let v = last; v !== null; v = from.get(v)) path.unshift(v);
  console.error("  " + path.map((f) => relative(".", f)).join("\n    → "));
}
if (cycles.length > 0) process.exit(1);
console.log(`no import cycles among ${files.length} modules in ${relative(".", root) || "."}`);
