// SPDX-License-Identifier: MIT
// The README's checkable claims (issue 25 found some false): it names every error code the package
// throws, its Networks table's parameters and multiply-adds are the built-ins' own (as `srgan info`
// prints them), and it claims no install-script or dependency the package does not have.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { loadNetwork } from "../../src/api/load-network.js";
import { convMacsPerPixel } from "../../src/model/graph.js";

const test = suite("README");
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const readme = readFileSync(`${ROOT}README.md`, "utf8");
const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, "utf8"));

test("every ErrorCode in src/errors.ts is named in the README (or, for srgan serve's, in docs/serve.md)", () => {
  const union = /export type ErrorCode =([\s\S]*?);/.exec(readFileSync(`${ROOT}src/errors.ts`, "utf8"))![1];
  const codes = [...union.matchAll(/"(ERR_[A-Z_]+)"/g)].map((m) => m[1]);
  assert.ok(codes.length >= 20, `${codes.length} codes`);
  const serve = readFileSync(`${ROOT}docs/serve.md`, "utf8");
  const missing = codes.filter((c) => !readme.includes(`\`${c}\``) && !serve.includes(`\`${c}\``));
  assert.equal(missing, [], `not in the README: ${missing.join(", ")}`);
  const errorsParagraph = /\*\*Errors\*\*[\s\S]*?\n\n/.exec(readme)![0];
  for (const c of ["ERR_SCALE", "ERR_IMAGE_ENCODE", "ERR_MISSING_PACKAGE"]) assert.ok(errorsParagraph.includes(c), `${c} in the Errors paragraph`);
});

test("the Networks table's parameters and multiply-adds are the built-ins' own", async () => {
  const rows: [string, number, RegExp][] = [["natural", 4, /^\| `natural` \(.*?\) \| ×4 \|/m], ["natural-real", 4, /^\| `natural-real` .*?\| ×4 \|/m], ["natural-fast", 4, /^\| `natural-fast` \| ×4 \|/m], ["natural", 2, /^\| `natural` \| ×2 \|/m]];
  for (const [name, scale, row] of rows) {
    const line = readme.split("\n").find((l) => row.test(l));
    assert.ok(line, `no row for ${name} ×${scale}`);
    const [parameters, macs] = line.split("|").slice(3, 5).map((c) => Number(c.replace(/\s/g, "")));
    const g = await loadNetwork(name, { scale });
    assert.equal([parameters, macs], [g.parameterCount, convMacsPerPixel(g)], `${name} ×${scale}`);
  }
});

test("install claims match package.json: the approved install scripts, and no server package among the library's dependencies", () => {
  const approved = Object.entries(pkg.allowScripts).filter(([, v]) => v === true).map(([k]) => k).sort();
  const claim = /The only install scripts[^.]*\./.exec(readme)?.[0] ?? "";
  for (const name of approved) assert.ok(claim.includes(`\`${name}\``), `the README's install-script sentence names ${name}: ${claim}`);
  for (const dep of ["fastify", "bullmq", "ioredis"]) assert.not.ok(dep in pkg.dependencies, `${dep} is a dependency of the library again`);
});

test.run();
