// SPDX-License-Identifier: MIT
// Real Deno (the `deno` devDependency) runs the package with 2 module Web Workers on one shared
// memory, as `npm:srgan-wasm` and `srgan-wasm` from a project's node_modules (the packed tarball,
// installed) and imported by path, and its bytes equal Node's. The only permission it needs is read
// access to the package, and without it the error names the flag.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { assertBuilt, cleanup, installInto, pack, ROOT, tempDir } from "../packaging/pack.js";
import { firstDiff, nodeReference, sampleImage, type Pixels } from "../packaging/fixtures.js";

// The package's bin: the native binary once its install step ran, else its Node launcher.
const DENO = join(ROOT, "node_modules/.bin/deno");
const test = suite("deno");
let dir: string;
const image = sampleImage(57, 38, 11, true);
let expected: Pixels;

const script = (specifier: string) => `
import { createUpscaler } from ${JSON.stringify(specifier)};
const [input, w, h, output, model] = Deno.args;
const up = await createUpscaler({ model, threads: 2 });
let progress = 0;
const out = await up.upscale({ data: new Uint8ClampedArray(await Deno.readFile(input)), width: +w, height: +h }, { onProgress: (p) => { progress = p.fraction; } });
await Deno.writeFile(output, new Uint8Array(out.data.buffer));
console.log(JSON.stringify({ threads: up.info().threads, width: out.width, height: out.height, progress, leases: up.stats().activeLeases }));
await up.dispose();
`;

function deno(cwd: string, args: string[], command = "run") {
  // NO_COLOR keeps Deno's error text greppable; DENO_NO_UPDATE_CHECK keeps it off the network.
  return spawnSync(DENO, [command, ...args], {
    cwd, encoding: "utf8", timeout: 60_000, env: { ...process.env, NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1", DENO_DIR: join(dir, "deno-cache") },
  });
}

function check(cwd: string, args: string[], label: string): void {
  const out = join(dir, `${label}.out`);
  const res = deno(cwd, [...args, join(dir, "in.rgba"), String(image.width), String(image.height), out, "bicubic"]);
  assert.is(res.status, 0, `${label}: deno exited ${res.status}\n${res.stderr}`);
  const info = JSON.parse(res.stdout.trim().split("\n").pop()!);
  assert.equal(info, { threads: 2, width: image.width * 4, height: image.height * 4, progress: 1, leases: 2 }, label);
  assert.is(firstDiff(readFileSync(out), expected.data), -1, `${label}: Deno's bytes differ from Node's`);
}

let proj: string;

test.before(async () => {
  assertBuilt();
  dir = tempDir("deno");
  writeFileSync(join(dir, "in.rgba"), image.data);
  expected = await nodeReference(image, "bicubic");
  proj = join(dir, "project");
  installInto(proj, pack(dir));
});
test.after(() => cleanup(dir));

test("npm:srgan-wasm and bare srgan-wasm from node_modules (the packed tarball), 2 workers, --allow-read on the package: same bytes as Node", () => {
  writeFileSync(join(proj, "npm.ts"), script("npm:srgan-wasm"));
  writeFileSync(join(proj, "bare.ts"), script("srgan-wasm"));
  const read = `--allow-read=${join(proj, "node_modules/srgan-wasm")},${dir}`;
  check(proj, [read, `--allow-write=${dir}`, "npm.ts"], "npm-specifier");
  check(proj, [read, `--allow-write=${dir}`, "bare.ts"], "bare-specifier");
});

test("by path: the installed package's dist/index.deno.js, and the checkout's from a script inside it: same bytes as Node", () => {
  writeFileSync(join(proj, "by-path.ts"), script("./node_modules/srgan-wasm/dist/index.deno.js"));
  check(proj, [`--allow-read=${join(proj, "node_modules/srgan-wasm")},${dir}`, `--allow-write=${dir}`, "by-path.ts"], "by-path-installed");
  // Deno resolves the package's own npm imports through the package.json above the main module, so a
  // script importing the checkout by path lives in the checkout (briefly, in a dot folder).
  const inside = mkdtempSync(join(ROOT, "test/deno/.run-"));
  try {
    writeFileSync(join(inside, "by-path.ts"), script("../../../dist/index.deno.js"));
    check(inside, [`--allow-read=${join(ROOT, "dist")},${join(ROOT, "wasm")},${dir}`, `--allow-write=${dir}`, "by-path.ts"], "by-path-checkout");
  } finally {
    rmSync(inside, { recursive: true, force: true });
  }
});

test("a network from another project by path (a .safetensors SRVGGNetCompact ×3): same bytes as Node", async () => {
  const model = join(ROOT, "test/fixtures/community/synthetic/srvgg-x3.safetensors");
  const want = await nodeReference(image, model);
  writeFileSync(join(proj, "npm.ts"), script("npm:srgan-wasm"));
  const out = join(dir, "safetensors.out");
  const res = deno(proj, [`--allow-read=${join(proj, "node_modules/srgan-wasm")},${dir},${model}`, `--allow-write=${dir}`, "npm.ts", join(dir, "in.rgba"), String(image.width), String(image.height), out, model]);
  assert.is(res.status, 0, `deno exited ${res.status}\n${res.stderr}`);
  const info = JSON.parse(res.stdout.trim().split("\n").pop()!);
  assert.equal([info.width, info.height, info.leases], [image.width * 3, image.height * 3, 2]);
  assert.is(firstDiff(readFileSync(out), want.data), -1, "Deno's bytes differ from Node's");
});

test("without read access to the package the failure names the missing flag", () => {
  const input = join(dir, "in.rgba");
  const res = deno(proj, [`--allow-read=${input}`, "npm.ts", input, String(image.width), String(image.height), join(dir, "x.out"), "bicubic"]);
  assert.is.not(res.status, 0);
  // Only the build the engine can run is read (relaxed in Deno 2), so that is the file it names.
  assert.match(res.stderr, /kernels\.(relaxed|simd)\.wasm/);
  assert.match(res.stderr, /--allow-read/);
});

test("deno check: a consumer of the bare and npm: specifiers sees the whole API, browser converters included", () => {
  writeFileSync(join(proj, "typed.ts"), `
import { createUpscaler, readImage, toBlob, configureAssets, type UpscalerOptions } from "srgan-wasm";
import * as viaNpm from "npm:srgan-wasm";
configureAssets({ modelBaseUrl: "file:///models/" });
const options: UpscalerOptions = { model: "bicubic", threads: 2 };
const up = await createUpscaler(options);
const blob: Blob = await toBlob(await up.upscale(await readImage(new Blob([]))));
const same: typeof readImage = viaNpm.readImage;
// @ts-expect-error: unknown options are rejected
await createUpscaler({ nope: true });
void blob; void same;
`);
  const res = deno(proj, ["typed.ts"], "check");
  assert.is(res.status, 0, `deno check failed:\n${res.stdout}${res.stderr}`);
});

test.run();
