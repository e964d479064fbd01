// SPDX-License-Identifier: MIT
// The bundler recipes of docs/platforms.md, followed as written: each recipe's files are written into an
// empty folder and its commands run there one by one, as a user would type them. Two steps are stood in
// for, since tests run offline: `npm install srgan-wasm` installs the packed tarball, and
// `npm install --save-dev <tool>` links the tool this repository installed. A command that starts a
// server (`npx vite`, `npx vite preview`) runs until the app it serves was checked. The app, in
// Chromium: pick a picture, see it upscaled ×4 by the default network on 2 threads, with Node's pixels,
// on a cross-origin isolated page. Vite's dev server, build and preview; esbuild's minified bundle
// under a strict Content-Security-Policy, free of Node code and eval.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { haveChromium, launch, startServer, type Browser } from "../browser/chromium.js";
import { writePng } from "../browser/demo-driver.js";
import { assertBuilt, cleanup, installInto, pack, ROOT, tempDir } from "./pack.js";
import { firstDiff, nodeReference, sampleImage, type Pixels } from "./fixtures.js";
import { readRecipe, type Recipe } from "./doc-recipes.js";

const test = suite("docs/platforms.md recipes");
const enabled = haveChromium("the bundler recipes of docs/platforms.md");
const DOC = readFileSync(join(ROOT, "docs/platforms.md"), "utf8");
/** Commands that start a server and print its address. */
const SERVERS = /^npx vite( preview)?$/;
const image = sampleImage(67, 45, 3);
let dir: string, tarball: string, pngPath: string, expected: Pixels, browser: Browser;

test.before(async () => {
  if (!enabled) return;
  assertBuilt();
  dir = tempDir("recipes");
  tarball = pack(dir);
  pngPath = writePng(dir, "picture.png", image);
  expected = await nodeReference(image, "natural");
  browser = await launch();
});
test.after(async () => {
  await browser?.close();
  cleanup(dir);
});

/** `npm install --save-dev <tool>`, offline: the tool as this repository installed it, with its bins. */
function linkDevTool(proj: string, name: string): void {
  const pkg = join(ROOT, "node_modules", name);
  mkdirSync(join(proj, "node_modules/.bin"), { recursive: true });
  symlinkSync(pkg, join(proj, "node_modules", name), "dir");
  const { bin } = JSON.parse(readFileSync(join(pkg, "package.json"), "utf8")) as { bin?: string | Record<string, string> };
  const bins = typeof bin === "string" ? { [name]: bin } : bin ?? {};
  for (const [cmd, file] of Object.entries(bins)) symlinkSync(relative(join(proj, "node_modules/.bin"), join(proj, "node_modules", name, file)), join(proj, "node_modules/.bin", cmd));
}

/** Starts a server command; resolves to the address it prints, and a stop() that ends its process group. */
function serve(command: string, cwd: string): Promise<{ url: string; stop(): void }> {
  const child: ChildProcess = spawn("bash", ["-c", command], { cwd, detached: true, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
  const stop = () => { try { process.kill(-child.pid!, "SIGTERM"); } catch { /* already gone */ } };
  let out = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { stop(); reject(new Error(`${command} printed no address within 60 s:\n${out}`)); }, 60_000);
    const read = (d: Buffer) => {
      out += d;
      const url = /https?:\/\/localhost:\d+\//.exec(out)?.[0];
      if (url) { clearTimeout(timer); resolve({ url, stop }); }
    };
    child.stdout!.on("data", read);
    child.stderr!.on("data", read);
    child.on("exit", (code) => { clearTimeout(timer); reject(new Error(`${command} exited with ${code}:\n${out}`)); });
  });
}

/** Writes the recipe's files into `proj` and runs its commands; `check` is called for each server started. */
async function follow(recipe: Recipe, proj: string, check: (url: string, command: string) => Promise<void>): Promise<void> {
  for (const [path, body] of Object.entries(recipe.files)) {
    mkdirSync(dirname(join(proj, path)), { recursive: true });
    writeFileSync(join(proj, path), body);
  }
  for (const command of recipe.commands) {
    const install = /^npm install (--save-dev )?(\S+)$/.exec(command);
    if (install) {
      if (install[2] === "srgan-wasm") installInto(proj, tarball);
      else linkDevTool(proj, install[2]);
    } else if (SERVERS.test(command)) {
      const server = await serve(command, proj);
      try { await check(server.url, command); } finally { server.stop(); }
    } else {
      try {
        execFileSync("bash", ["-c", command], { cwd: proj, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 120_000 });
      } catch (e) {
        assert.unreachable(`\`${command}\` failed:\n${(e as { stderr?: string }).stderr}`);
      }
    }
  }
}

/** The recipe's app in Chromium: pick the picture, read the canvas it appends and the line it writes. */
async function checkApp(url: string, label: string): Promise<void> {
  const page = await browser.context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("response", (r) => { if (r.status() >= 400 && !r.url().endsWith("/favicon.ico")) errors.push(`HTTP ${r.status()} ${r.url()}`); });
  try {
    await page.goto(url);
    assert.ok(await page.evaluate(() => crossOriginIsolated), `${label}: the page is not cross-origin isolated`);
    await page.setInputFiles("input", pngPath);
    await page.waitForSelector("canvas", { timeout: 60_000 }).catch(() => assert.unreachable(`${label}: no result; ${errors.join("; ")}`));
    assert.is(await page.textContent("output"), "268×180, 2 threads", label);
    const pixels = await page.evaluate(() => {
      const c = document.querySelector("canvas")!;
      return Array.from(c.getContext("2d")!.getImageData(0, 0, c.width, c.height).data);
    });
    assert.is(firstDiff(pixels, expected.data), -1, `${label}: the pixels differ from Node's`);
    assert.equal(errors, [], label);
  } finally {
    await page.close();
  }
}

const maybe = enabled ? test : test.skip;

maybe("Vite, as written: the dev server, the build and vite preview each run the app on 2 threads with Node's pixels", async () => {
  const proj = join(dir, "vite");
  const served: string[] = [];
  await follow(readRecipe(DOC, "Vite (tested: dev server, build, preview)"), proj, async (url, command) => {
    await checkApp(url, command);
    served.push(command);
  });
  assert.equal(served, ["npx vite", "npx vite preview"]);
  const emitted = readdirSync(join(proj, "dist/assets")).join(" ");
  for (const re of [/kernels\.simd[^ ]*\.wasm/, /kernels\.relaxed[^ ]*\.wasm/, /natural-x4[^ ]*\.srnet/, /web-entry[^ ]*\.js/]) {
    assert.match(emitted, re, `vite build emitted ${re} (got ${emitted})`);
  }
});

maybe("esbuild, as written: the minified bundle with its copied files runs the app on 2 threads under a strict CSP with Node's pixels; no Node code or eval inside", async () => {
  const proj = join(dir, "esbuild");
  const recipe = readRecipe(DOC, "esbuild (tested)");
  await follow(recipe, proj, async () => assert.unreachable("the esbuild recipe starts no server"));
  const www = join(proj, "www");
  const scripts = (folder: string) => readdirSync(join(proj, folder)).filter((f) => f.endsWith(".js"));
  const code = scripts("www").map((f) => readFileSync(join(www, f), "utf8")).join("\n");
  for (const banned of ["piscina", "worker_threads", "new Function", "createObjectURL"]) assert.not.ok(code.includes(banned), `the bundle contains ${banned}`);
  // What --minify saves: the same command without it, for docs/platforms.md.
  const bundle = recipe.commands.find((c) => c.startsWith("npx esbuild"))!;
  execFileSync("bash", ["-c", bundle.replace(" --minify", "").replace("--outdir=www", "--outdir=full")], { cwd: proj, stdio: "ignore" });
  const kb = (folder: string, files = scripts(folder)) => Math.round(files.reduce((sum, f) => sum + statSync(join(proj, folder, f)).size, 0) / 1024);
  console.log(`  bundles: main.js ${kb("www", ["main.js"])} KB, worker.js ${kb("www", ["worker.js"])} KB, ${scripts("www").length} .js files ${kb("www")} KB in all; ` +
    `without --minify ${kb("full", ["main.js"])}, ${kb("full", ["worker.js"])} and ${kb("full")} KB`);
  assert.ok(kb("www") < 0.75 * kb("full"), "the bundle is not minified");

  const csp = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; img-src 'self' data:";
  const server = await startServer({ port: 0, root: www, headers: { "content-security-policy": csp } });
  try {
    await checkApp(`${server.url}index.html`, "esbuild bundle");
  } finally {
    await server.close();
  }
});

test.run();
