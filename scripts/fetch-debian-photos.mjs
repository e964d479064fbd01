// Fetches the photographs inside Debian's wallpaper packages and prepares them as training images
// (issue 27: more photographs, above all line-rich scenes). Run after `npm run build`, as root on a
// Debian machine with apt-get and exiftool (`apt-get install libimage-exiftool-perl`):
//   node scripts/fetch-debian-photos.mjs [--scratch DIR] [--out DIR] [--old DIR] [--manifest FILE]
// 1. `apt-get download` + `dpkg-deb -x` of PACKAGES into the scratch folder (nothing is installed).
// 2. Every image file of 100 KB or more under usr/share is looked up in training/debian-photos/decisions.tsv,
//    made by looking at each one (rule below); a file not in it is reported and skipped, so a new package
//    version cannot slip unseen pictures in.
// 3. Each photograph is decoded, shrunk (antialiased bicubic, as `srgan downscale`) by the smallest integer
//    factor that brings its longest side to at most MAX_SIDE, and written as PNG (lossless: no second JPEG)
//    to OUT/debian-photos/, or OUT/debian-photos-heldout/ for every HELDOUT_EVERY-th photo by output name.
// 4. manifest.tsv records each photo's package, version, file, licence and copyright (the package's DEP-5
//    copyright file), camera tags and sizes. With --old, OUT/issue27-mix/ (symlinks: the old photos less the
//    last 4 by name, plus the new training photos) and OUT/heldout-old/ (those 4) are made for `srgan train`.
// The rule for "photograph": a picture of a real scene taken by a camera, judged by looking at it, with the
// file's EXIF camera tags (Make/Model) and the package metadata as evidence; renders, drawings, gradients,
// logos, paintings (even photographed ones) and composites with rendered parts are rejected. Never commit
// the images: only decisions.tsv and manifest.tsv belong in the repository.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { decodeImage, downscale, encodePng } from "../dist/index.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const PACKAGES = [
  "gnome-backgrounds", "lomiri-wallpapers", "lomiri-wallpapers-16.04", "lomiri-wallpapers-20.04",
  "mate-backgrounds", "plasma-workspace-wallpapers", "sway-backgrounds", "ukui-wallpapers",
];
const IMAGE = /\.(jpe?g|png|webp)$/i;
const MIN_BYTES = 100_000; // smaller files are icons, thumbnails and tiles
// The old photos are mostly ~1024 px on the long side (downsampled by their source: crisp per pixel);
// wallpapers of 2 560–6 000 px are softer per pixel (lens limits, 4:2:0 chroma, q70–90). Shrinking
// them at least 2× brings their detail per pixel nearer the old set and the eval sets, and still
// leaves hundreds of distinct 192-px HR crops (256 px with 64² LR patches) per photo.
const MAX_SIDE = 2048;
const HELDOUT_EVERY = 5; // the 5th, 10th, … photo by output name is held out (decided before preparing any)
const OLD_HELDOUT = 4; // docs/models.md: the last 4 old photos by name are the held-out set

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith("--") ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));
const scratch = resolve(args.scratch ?? "/work/scratch-debian-photos");
const out = resolve(args.out ?? "/work/data/train");
const manifestPath = resolve(args.manifest ?? join(ROOT, "training/debian-photos/manifest.tsv"));
const decisions = readTsv(join(ROOT, "training/debian-photos/decisions.tsv"));

const sh = (cmd, argv, opts = {}) => execFileSync(cmd, argv, { encoding: "utf8", maxBuffer: 64 << 20, ...opts });

function readTsv(path) {
  const [head, ...rows] = readFileSync(path, "utf8").trimEnd().split("\n").map((l) => l.split("\t"));
  return rows.map((r) => Object.fromEntries(head.map((h, i) => [h, r[i]])));
}

function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : e.isFile() ? [join(dir, e.name)] : []));
}

/** Licence and copyright of `file` (a path under usr/share) from a DEP-5 copyright file: the last stanza whose Files patterns match. */
function licenceOf(copyrightText, file) {
  let found = { license: "", copyright: "" };
  for (const stanza of copyrightText.split(/\n\s*\n/)) {
    const fields = {};
    let key;
    for (const line of stanza.split("\n")) {
      const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
      if (m) { key = m[1]; fields[key] = m[2]; } else if (key && /^\s/.test(line)) fields[key] += "\n" + line.trim();
    }
    if (!fields.Files) continue;
    const patterns = fields.Files.split(/\s+/).filter(Boolean);
    // Patterns are relative to the source tree, which is not the installed path: match them as path suffixes.
    // and when the directories differ too (lomiri's "16.04/x.jpg" is installed as backgrounds/x.jpg) by a literal file name.
    const glob = (p) => new RegExp(`(^|/)${p.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`);
    const hit = patterns.some((p) => glob(p).test(file) || (/^[^*?]+$/.test(p.split("/").pop()) && glob(p.split("/").pop()).test(file)));
    if (hit) found = { license: fields.License.split("\n")[0].trim(), copyright: fields.Copyright.split("\n").map((s) => s.trim()).join("; ") };
  }
  return found;
}

mkdirSync(join(scratch, "debs"), { recursive: true });
const versions = {};
for (const pkg of PACKAGES) {
  const have = readdirSync(join(scratch, "debs")).find((f) => f.startsWith(`${pkg}_`));
  if (!have) sh("apt-get", ["download", pkg], { cwd: join(scratch, "debs"), stdio: ["ignore", "ignore", "inherit"] });
  const deb = join(scratch, "debs", readdirSync(join(scratch, "debs")).find((f) => f.startsWith(`${pkg}_`)));
  versions[pkg] = sh("dpkg-deb", ["-f", deb, "Version"]).trim();
  const dir = join(scratch, "x", pkg);
  if (!existsSync(dir)) { mkdirSync(dir, { recursive: true }); sh("dpkg-deb", ["-x", deb, dir]); }
}

// Inventory, checked against the decisions.
const inventory = PACKAGES.flatMap((pkg) => walk(join(scratch, "x", pkg, "usr/share"))
  .filter((f) => IMAGE.test(f) && statSync(f).size >= MIN_BYTES)
  .map((f) => ({ pkg, file: relative(join(scratch, "x", pkg, "usr/share"), f), path: f })));
const decided = new Map(decisions.map((d) => [`${d.package}/${d.file}`, d]));
const undecided = inventory.filter((i) => !decided.has(`${i.pkg}/${i.file}`));
for (const u of undecided) console.warn(`not in decisions.tsv (look at it, then add a row): ${u.pkg} ${u.file}`);
const photos = inventory.filter((i) => decided.get(`${i.pkg}/${i.file}`)?.decision === "photo")
  .map((i) => ({ ...i, name: `debian_${i.pkg.replace(/-(backgrounds|wallpapers|workspace-wallpapers)/, "")}_${i.file.replace(/^(backgrounds|wallpapers)\/(mate\/)?/, "").replace(/\/contents\/images\//, "_").replace(/\.[a-z]+$/i, "").replace(/[^A-Za-z0-9._-]+/g, "_")}.png` }))
  .sort((a, b) => (a.name < b.name ? -1 : 1));
console.log(`${inventory.length} image files, ${photos.length} photographs, ${undecided.length} undecided`);

const trainDir = join(out, "debian-photos"), heldDir = join(out, "debian-photos-heldout");
for (const d of [trainDir, heldDir]) { rmSync(d, { recursive: true, force: true }); mkdirSync(d, { recursive: true }); }
const rows = [];
for (const [i, p] of photos.entries()) {
  const split = (i + 1) % HELDOUT_EVERY === 0 ? "heldout" : "train";
  const bytes = new Uint8Array(readFileSync(p.path));
  const img = decodeImage(bytes);
  const factor = Math.ceil(Math.max(img.width, img.height) / MAX_SIDE);
  const small = factor > 1 ? await downscale(img, factor, "bicubic") : img;
  const png = encodePng(small);
  writeFileSync(join(split === "train" ? trainDir : heldDir, p.name), png);
  const tags = sh("exiftool", ["-q", "-T", "-Make", "-Model", p.path]).trim().split("\t").map((t) => (t === "-" ? "" : t));
  const { license, copyright } = licenceOf(readFileSync(join(scratch, "x", p.pkg, "usr/share/doc", p.pkg, "copyright"), "utf8"), p.file);
  rows.push([p.name, split, p.pkg, versions[p.pkg], `/usr/share/${p.file}`, license, copyright, bytes.length, `${img.width}x${img.height}`,
    factor, `${small.width}x${small.height}`, png.length, tags.filter(Boolean).join(" "), createHash("sha256").update(bytes).digest("hex").slice(0, 16),
    decided.get(`${p.pkg}/${p.file}`)["why / scene"]]);
  console.log(`${split.padEnd(7)} ${p.name}  ${img.width}×${img.height} /${factor} → ${small.width}×${small.height}  ${license}`);
}
writeFileSync(manifestPath, [["name", "split", "package", "version", "file", "license", "copyright", "bytes", "size", "shrink", "prepared", "png_bytes", "camera", "sha256_16", "scene"],
  ...rows].map((r) => r.join("\t")).join("\n") + "\n");
console.log(`manifest: ${manifestPath}`);

if (args.old) {
  // One folder to train on and one of the old held-out photos, as symlinks (srgan train reads one folder).
  const old = readdirSync(resolve(args.old)).filter((f) => /\.(png|jpe?g)$/i.test(f)).sort();
  const mix = join(out, "issue27-mix"), oldHeld = join(out, "heldout-old");
  for (const d of [mix, oldHeld]) { rmSync(d, { recursive: true, force: true }); mkdirSync(d); }
  old.slice(0, -OLD_HELDOUT).forEach((f) => symlinkSync(join(resolve(args.old), f), join(mix, f)));
  old.slice(-OLD_HELDOUT).forEach((f) => symlinkSync(join(resolve(args.old), f), join(oldHeld, f)));
  readdirSync(trainDir).forEach((f) => symlinkSync(join(trainDir, f), join(mix, f)));
  console.log(`${mix}: ${readdirSync(mix).length} images; ${oldHeld}: ${OLD_HELDOUT}; held out of the new: ${readdirSync(heldDir).length} in ${heldDir}`);
}
