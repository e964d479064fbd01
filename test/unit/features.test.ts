// src/platform/features.ts under Node: what it reports, and paths turned into file: URLs with
// pathToFileURL (a '#', '%' or space in a network's path is part of the name, not URL syntax).
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { hardwareThreads, hasNodeApis, isDeno, isNode, pathToFileUrl } from "../../src/platform/features.js";
import { loadNetwork } from "../../src/api/load-network.js";
import { encodeNetwork } from "../../src/model/formats/srnet.js";
import { builtinGraph } from "../../src/model/builtin.js";

const test = suite("platform features");
const dir = mkdtempSync(join(tmpdir(), "srgan-features-"));

test("Node is Node, with Node's APIs, and not Deno", () => {
  assert.ok(isNode());
  assert.ok(hasNodeApis());
  assert.not.ok(isDeno());
  assert.is(hardwareThreads(), Math.max(1, Math.min(64, availableParallelism())));
});

test("a relative path becomes the file: URL of the path resolved against the working directory", () => {
  const path = join(relative(process.cwd(), dir), "a #b %41.srnet");
  const url = pathToFileUrl(path)!;
  assert.is(url.protocol, "file:");
  assert.is(url.hash, "");
  assert.is(fileURLToPath(url), resolve(path));
});

test("loadNetwork reads a network whose path has '#', '%' and spaces", async () => {
  const path = join(relative(process.cwd(), dir), "net #1 %41.srnet");
  writeFileSync(path, encodeNetwork(builtinGraph("bicubic", 2)!));
  const graph = await loadNetwork(path);
  assert.is(graph.scale, 2);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
