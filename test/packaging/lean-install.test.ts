// SPDX-License-Identifier: MIT
// What a library user installs (issue 25): the packed srgan-wasm alone brings none of the HTTP
// service's packages (they are srgan-wasm-server's, packages/server), npm prints no engine or
// install-script warning, and every installed package admits Node 20.16 and 22 by its `engines`
// (npm warns EBADENGINE only for the Node that runs it; the ranges are checked here for both).
// `srgan serve` then names the package it needs; with srgan-wasm-server installed beside it, it serves.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { encodePng } from "../../src/image/codec.js";
import { assertBuilt, cleanup, installInto, pack, tempDir } from "./pack.js";
import { sampleImage } from "./fixtures.js";

const { satisfies } = createRequire(import.meta.url)("semver") as { satisfies(version: string, range: string): boolean };

const test = suite("lean install");
let dir: string;
let library: string;
let server: string;

test.before(() => {
  assertBuilt();
  dir = tempDir("lean");
  library = pack(dir);
  server = pack(dir, "packages/server");
});
test.after(() => cleanup(dir));

/** Every package under node_modules (scoped and nested too): name → its package.json. */
function installed(root: string): Map<string, { name: string; version: string; engines?: { node?: string } }> {
  const found = new Map();
  const walk = (modules: string) => {
    if (!existsSync(modules)) return;
    for (const entry of readdirSync(modules)) {
      if (entry.startsWith(".")) continue;
      const dirs = entry.startsWith("@") ? readdirSync(join(modules, entry)).map((e) => join(modules, entry, e)) : [join(modules, entry)];
      for (const d of dirs) {
        if (!existsSync(join(d, "package.json"))) continue;
        const pkg = JSON.parse(readFileSync(join(d, "package.json"), "utf8"));
        found.set(`${pkg.name}@${pkg.version}`, pkg);
        walk(join(d, "node_modules"));
      }
    }
  };
  walk(join(root, "node_modules"));
  return found;
}

const SERVER_ONLY = /^(fastify|bullmq|ioredis|msgpackr|msgpackr-extract|light-my-request|cookie|@fastify\/.*|@msgpackr-extract\/.*)@/;

test("the library alone: no server packages, no engine or install-script warning, every engines range admits Node 20.16 and 22", () => {
  const proj = join(dir, "library");
  const log = installInto(proj, library, { asUser: true });
  assert.not.match(log, /EBADENGINE|engine/i, `npm warned about engines:\n${log}`);
  assert.not.match(log, /install.?scripts?|allowScripts/i, `npm warned about install scripts:\n${log}`);
  const packages = installed(proj);
  assert.ok(packages.has("srgan-wasm@0.1.0") && [...packages.keys()].some((p) => p.startsWith("piscina@")), "the library and its own dependencies are there");
  const extra = [...packages.keys()].filter((p) => SERVER_ONLY.test(p));
  assert.equal(extra, [], `installed for the server only: ${extra.join(", ")}`);
  for (const [id, pkg] of packages) {
    const range = pkg.engines?.node;
    if (!range) continue;
    for (const node of ["20.16.0", "22.0.0"]) assert.ok(satisfies(node, range), `${id} declares node ${range}, which excludes Node ${node}`);
  }
  console.log(`  (${packages.size} packages: ${[...packages.keys()].join(", ")})`);
});

test("the library alone: srgan serve and srgan worker say which package they need (exit 1, one line)", () => {
  const bin = join(dir, "library", "node_modules", "srgan-wasm", "dist", "cli", "main.js");
  for (const args of [["serve", "--port", "0"], ["worker", "--redis", "redis://127.0.0.1:9"]]) {
    const r = spawnSync(process.execPath, [bin, ...args], { cwd: join(dir, "library"), encoding: "utf8", timeout: 30_000 });
    assert.is(r.status, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`^srgan: ERR_MISSING_PACKAGE: srgan ${args[0]} needs the package srgan-wasm-server .*npm install srgan-wasm-server`));
    assert.is(r.stderr.trim().split("\n").length, 1, r.stderr);
  }
});

test("with srgan-wasm-server installed beside it: srgan serve upscales over HTTP, names the network, stops on SIGTERM", async () => {
  const proj = join(dir, "server");
  installInto(proj, [library, server]);
  assert.ok(installed(proj).has("srgan-wasm-server@0.1.0"));
  const bin = join(proj, "node_modules", "srgan-wasm", "dist", "cli", "main.js");
  const child = spawn(process.execPath, [bin, "serve", "--port", "0", "--model", "bicubic", "--threads", "1"], { cwd: proj, stdio: ["ignore", "pipe", "pipe"] });
  let out = "", err = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (err += d));
  const exited = new Promise<number | null>((done) => child.on("close", done));
  try {
    let url: string | undefined;
    for (const t0 = Date.now(); !url && Date.now() - t0 < 30_000;) {
      url = /listening on (http:\/\/\S+)/.exec(out)?.[1];
      if (!url) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(url, `no 'listening on' line:\n${out}${err}`);
    const image = sampleImage(12, 9, 3);
    const r = await fetch(`${url}/v1/upscale`, { method: "POST", body: encodePng(image) as Uint8Array<ArrayBuffer> });
    assert.is(r.status, 200);
    assert.is(r.headers.get("content-type"), "image/png");
    assert.is(r.headers.get("srgan-model"), "bicubic");
    assert.ok((await r.arrayBuffer()).byteLength > 100);
  } finally {
    child.kill("SIGTERM");
  }
  assert.is(await exited, 0, err);
  assert.match(err, /srgan serve: stopped/);
});

test.run();
