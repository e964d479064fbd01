// SPDX-License-Identifier: MIT
// Writes src/backends/wasm/abi.generated.ts from assembly/index.ts, whose export list is the kernel ABI:
// every exported function (name, parameters, types, the comment above it) and integer constant,
// followed to the file it is re-exported from. `npm run build` runs it before tsc; `--check` (CI)
// fails when the committed file is not what this would write.
//   node scripts/gen-bindings.mjs [--check]
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const ENTRY = join(ROOT, "assembly/index.ts");
const OUT = join(ROOT, "src/backends/wasm/abi.generated.ts");

// AssemblyScript's wasm32 value types as JavaScript sees them.
const JS_TYPE = {
  i8: "number", u8: "number", i16: "number", u16: "number", i32: "number", u32: "number",
  isize: "number", usize: "number", f32: "number", f64: "number", bool: "number", i64: "bigint", u64: "bigint",
};

const sources = new Map();
function source(file) {
  if (!sources.has(file)) sources.set(file, ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true));
  return sources.get(file);
}

const fail = (file, node, msg) => {
  const where = node ? `:${source(file).getLineAndCharacterOfPosition(node.getStart()).line + 1}` : "";
  throw new Error(`${relative(ROOT, file)}${where}: ${msg}`);
};
const isExported = (n) => ts.getCombinedModifierFlags(n) & ts.ModifierFlags.Export;

/** The `//` lines directly above a declaration (no blank line between), minus licence lines. */
function comment(file, node) {
  const lines = source(file).text.slice(0, node.getStart()).split("\n");
  lines.pop();
  const out = [];
  while (lines.length && /^\s*\/\//.test(lines.at(-1))) out.unshift(lines.pop().replace(/^\s*\/\/\s?/, ""));
  return out.filter((l) => !l.startsWith("SPDX-License-Identifier"));
}

/** The declaration of exported `name` in `file`: { kind: "function", params, result, doc } or { kind: "const", value }. */
function declaration(file, name) {
  for (const st of source(file).statements) {
    if (ts.isFunctionDeclaration(st) && st.name?.text === name && isExported(st)) {
      const params = st.parameters.map((p) => {
        const t = p.type?.getText();
        if (!Object.hasOwn(JS_TYPE, t ?? "")) fail(file, p, `parameter ${p.name.getText()} of ${name} has type ${t}, not a wasm value type`);
        return { name: p.name.getText(), type: JS_TYPE[t] };
      });
      const r = st.type?.getText() ?? "void";
      if (r !== "void" && !Object.hasOwn(JS_TYPE, r)) fail(file, st, `${name} returns ${r}, not a wasm value type`);
      const doc = comment(file, st);
      if (r !== "void" && r !== "i32") doc.push(`Returns its result as ${r} (not a status).`);
      return { kind: "function", params, result: r, doc: [`${relative(ROOT, file)}${doc.length ? ":" : ""}`, ...doc] };
    }
    if (ts.isVariableStatement(st) && isExported(st) && st.declarationList.flags & ts.NodeFlags.Const) {
      for (const d of st.declarationList.declarations) {
        if (d.name.getText() !== name) continue;
        const value = Number(d.initializer?.getText().replace(/_/g, ""));
        if (!Number.isInteger(value)) fail(file, d, `${name} must be an integer literal to be part of the ABI`);
        return { kind: "const", value };
      }
    }
  }
  fail(file, null, `no exported function or const ${name}`);
}

/** Every export of assembly/index.ts in order: [name, declaration]. */
function abiExports() {
  const out = [];
  for (const st of source(ENTRY).statements) {
    if (ts.isExportDeclaration(st)) {
      if (!st.moduleSpecifier || !st.exportClause || !ts.isNamedExports(st.exportClause)) fail(ENTRY, st, "only `export { a, b } from \"./file\"` re-exports are read");
      const file = join(dirname(ENTRY), `${st.moduleSpecifier.text}.ts`);
      for (const el of st.exportClause.elements) out.push([el.name.text, declaration(file, (el.propertyName ?? el.name).text)]);
    } else if (isExported(st)) {
      const names = ts.isVariableStatement(st) ? st.declarationList.declarations.map((d) => d.name.getText()) : [st.name?.text];
      for (const n of names) out.push([n, declaration(ENTRY, n)]);
    }
  }
  return out;
}

function render(exports) {
  const consts = exports.filter(([, d]) => d.kind === "const");
  const fns = exports.filter(([, d]) => d.kind === "function");
  if (!consts.some(([n]) => n === "ABI_VERSION")) fail(ENTRY, null, "ABI_VERSION is not exported");
  const sig = (d) => d.params.map((p) => `${p.name}: ${p.type}`).join(", ");
  const args = (d) => d.params.map((p) => p.name).join(", ");
  const ret = (d) => (d.result === "void" ? "void" : JS_TYPE[d.result]);
  const doc = (d) => d.doc.length === 1 ? [`  /** ${d.doc[0]} */`] : ["  /**", ...d.doc.map((l) => `   * ${l}`.trimEnd()), "   */"];
  // An i32 result is a status (0 = done); any other result type is the kernel's value. Explicit
  // parameter lists (no rest arguments) keep the wrappers as cheap as the direct call.
  const bind = ([n, d]) => d.result !== "i32" ? [`    ${n}: e.${n},`] : [
    `    ${n}: (${args(d)}) => {`,
    `      const rc = e.${n}(${args(d)});`,
    `      if (rc !== 0) throw new KernelError("${n}", rc, { ${args(d)} });`,
    "      return rc;",
    "    },",
  ];
  return [
    "// SPDX-License-Identifier: MIT",
    "// GENERATED by scripts/gen-bindings.mjs from assembly/index.ts; do not edit (npm run build rewrites it,",
    "// CI checks it is current). The kernel module's exports as TypeScript, and one binding that turns a",
    "// kernel's non-zero status into a KernelError.",
    'import { KernelError } from "../../errors.js";',
    "",
    ...consts.map(([n, d]) => `export const ${n} = ${d.value};`),
    "",
    "/** The kernels of one instance; pointers are byte offsets into the shared memory. */",
    "export interface Kernels {",
    ...fns.flatMap(([n, d]) => [...doc(d), `  ${n}(${sig(d)}): ${ret(d)};`]),
    "}",
    "",
    "/** The instance's kernels, each status-returning one wrapped to throw KernelError on a non-zero status. */",
    "export function bindKernels(exports: WebAssembly.Exports): Kernels {",
    "  const e = exports as unknown as Kernels;",
    "  return {",
    ...fns.flatMap(bind),
    "  };",
    "}",
    "",
  ].join("\n");
}

const text = render(abiExports());
if (process.argv.includes("--check")) {
  let current = "";
  try { current = readFileSync(OUT, "utf8"); } catch { /* missing: stale */ }
  if (current !== text) {
    console.error(`${relative(ROOT, OUT)} is not current with assembly/index.ts: run npm run build (or node scripts/gen-bindings.mjs) and commit it`);
    process.exit(1);
  }
} else {
  let current = "";
  try { current = readFileSync(OUT, "utf8"); } catch { /* first run */ }
  if (current !== text) writeFileSync(OUT, text); // unchanged: keep the mtime, so tsc --watch stays quiet
}
