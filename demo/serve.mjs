// SPDX-License-Identifier: MIT
// A tiny static server for the demo: serves the repository (demo/, dist/, wasm/) on localhost with the
// two headers that make a page cross-origin isolated, without which browsers refuse to share memory
// with workers. `node demo/serve.mjs [--port 8080] [--no-coi]`; --no-coi shows the one-thread fallback.
// The package's npm dependencies are served as ES modules under /demo/vendor/ for the page's import
// map (one of them is CommonJS), bundled on first request with esbuild, as a dev server would.
import { createServer } from "node:http";
import { readFile, stat } from "node:fs/promises";
import { extname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".map": "application/json",
  ".wasm": "application/wasm", // needed for WebAssembly.compileStreaming
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".svg": "image/svg+xml",
  ".ico": "image/x-icon",
};

// What each import-map entry re-exports (jpeg-js, xz-decompress and omggif are CommonJS: default only).
// @jsquash/webp is ES modules already: the import map points into node_modules for it.
const VENDOR = {
  "fast-png": 'export * from "fast-png";',
  "jpeg-js": 'export { default } from "jpeg-js";',
  "xz-decompress": 'export { default } from "xz-decompress";',
  omggif: 'export { default } from "omggif";',
  gifenc: 'export * from "gifenc";',
};
const vendorCache = new Map();

async function vendorModule(name) {
  if (!vendorCache.has(name)) {
    vendorCache.set(name, (async () => {
      const { build } = await import("esbuild"); // a devDependency: only this dev server needs it
      const out = await build({
        stdin: { contents: VENDOR[name], resolveDir: ROOT, sourcefile: `vendor-${name}.js` },
        bundle: true, format: "esm", platform: "browser", write: false, logLevel: "silent",
      });
      return out.outputFiles[0].contents;
    })());
  }
  return vendorCache.get(name);
}

/**
 * Starts the server; resolves to its base URL and a close function.
 * @param {{ port?: number, host?: string, coi?: boolean, root?: string, headers?: Record<string, string> }} [options]
 *   port 0 picks a free one; `headers` are added to every response (e.g. a Content-Security-Policy).
 */
export async function startServer({ port = 8080, host = "127.0.0.1", coi = true, root = ROOT, headers: extra = {} } = {}) {
  const server = createServer(async (req, res) => {
    const headers = { "cache-control": "no-store", "x-content-type-options": "nosniff", ...extra };
    if (coi) {
      headers["cross-origin-opener-policy"] = "same-origin";
      headers["cross-origin-embedder-policy"] = "require-corp";
    }
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    if (path === "/" || path === "/demo") {
      res.writeHead(302, { ...headers, location: "/demo/" });
      res.end();
      return;
    }
    const vendor = /^\/demo\/vendor\/(.+)\.js$/.exec(path)?.[1];
    if (vendor && Object.hasOwn(VENDOR, vendor)) {
      try {
        const body = await vendorModule(vendor);
        res.writeHead(200, { ...headers, "content-type": TYPES[".js"] }).end(body);
      } catch (e) {
        vendorCache.delete(vendor);
        res.writeHead(500, { ...headers, "content-type": "text/plain" }).end(`cannot bundle ${vendor} (npm install first?): ${e.message}`);
      }
      return;
    }
    // Resolve inside the root only: normalize() folds every "..", then the prefix check holds.
    let file = normalize(join(root, path));
    if (file !== root && !file.startsWith(root.endsWith(sep) ? root : root + sep)) {
      res.writeHead(403, headers).end("forbidden");
      return;
    }
    try {
      if ((await stat(file)).isDirectory()) file = join(file, "index.html");
      const body = await readFile(file);
      // A length lets the page show download progress (the demo does, for the network files).
      res.writeHead(200, { ...headers, "content-type": TYPES[extname(file)] ?? "application/octet-stream", "content-length": body.length });
      res.end(req.method === "HEAD" ? undefined : body);
    } catch {
      res.writeHead(404, { ...headers, "content-type": "text/plain" }).end(`not found: ${path}`);
    }
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, resolve);
  });
  const address = server.address();
  const url = `http://${host}:${typeof address === "object" && address ? address.port : port}/`;
  // Browsers keep connections open; close() alone would wait for them (up to minutes) before resolving.
  return { url, close: () => new Promise((resolve) => { server.close(resolve); server.closeAllConnections(); }) };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === normalize(process.argv[1])) {
  const { values } = parseArgs({ options: { port: { type: "string", default: "8080" }, host: { type: "string", default: "127.0.0.1" }, "no-coi": { type: "boolean", default: false } } });
  const { url } = await startServer({ port: Number(values.port), host: values.host, coi: !values["no-coi"] });
  console.log(`demo: ${url}demo/  (${values["no-coi"] ? "NOT cross-origin isolated: one thread" : "cross-origin isolated: threads on"}; run npm run build first)`);
}
