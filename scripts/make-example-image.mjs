// SPDX-License-Identifier: MIT
// Renders the README's example picture procedurally (our own artwork, no inputs): a striped lighthouse
// on a cliff at dusk, with a sky gradient, sun and glow, clouds, a light beam, sea ripples and a
// sun path, rock strata, grass, railings and birds: smooth areas next to fine detail, which is what
// an upscaler's output should be judged on. Writes examples/lighthouse.png (160×120, 4×4 supersampled).
//   node scripts/make-example-image.mjs [out.png]
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { encode } from "fast-png";

const W = 160, H = 120, SS = 4;
const HORIZON = 72;
const out = process.argv[2] ?? fileURLToPath(new URL("../examples/lighthouse.png", import.meta.url));

// ---- small maths --------------------------------------------------------------------------------

const clamp = (v, lo = 0, hi = 1) => Math.min(hi, Math.max(lo, v));
const mix = (a, b, t) => a.map((v, i) => v + (b[i] - v) * t);
const smooth = (e0, e1, v) => { const t = clamp((v - e0) / (e1 - e0)); return t * t * (3 - 2 * t); };

/** Integer hash → [0, 1): deterministic, so the picture is the same on every machine. */
function hash(x, y) {
  let h = Math.imul(x | 0, 374761393) ^ Math.imul(y | 0, 668265263);
  h = Math.imul(h ^ (h >>> 13), 1274126177);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

/** Smooth value noise, then a few octaves of it. */
function noise(x, y) {
  const xi = Math.floor(x), yi = Math.floor(y), fx = x - xi, fy = y - yi;
  const sx = fx * fx * (3 - 2 * fx), sy = fy * fy * (3 - 2 * fy);
  const a = hash(xi, yi), b = hash(xi + 1, yi), c = hash(xi, yi + 1), d = hash(xi + 1, yi + 1);
  return a + (b - a) * sx + (c - a) * sy + (a - b - c + d) * sx * sy;
}
const fbm = (x, y, octaves = 4) => {
  let v = 0, amp = 0.5, f = 1;
  for (let i = 0; i < octaves; i++, amp *= 0.5, f *= 2.03) v += amp * noise(x * f + i * 17.3, y * f - i * 9.1);
  return v;
};

// ---- the scene ----------------------------------------------------------------------------------

const SUN = { x: 38, y: 60, r: 7 };
const TOWER = { x: 118, base: 58, top: 22, halfBase: 7, halfTop: 5 };
const LAMP = { x: TOWER.x, y: 17 };

/** Height of the cliff's top edge at x (smaller is higher); the cliff spans x ≥ 84. */
function cliffTop(x) {
  if (x < 84) return Infinity;
  const rise = smooth(84, 100, x);
  return 118 - rise * 60 + (fbm(x * 0.15, 3.7, 3) - 0.5) * 8 * rise;
}

function sky(x, y) {
  const t = y / HORIZON;
  let c = t < 0.55 ? mix([18, 32, 74], [92, 74, 128], t / 0.55) : mix([92, 74, 128], [246, 152, 92], (t - 0.55) / 0.45);
  // Faint stars in the darkest part.
  if (y < 24 && hash(Math.floor(x * 1.3), Math.floor(y * 1.3)) > 0.992) c = mix(c, [255, 250, 230], 0.8 * (1 - y / 24));
  // Glow around the sun, then the disc.
  const d = Math.hypot(x - SUN.x, (y - SUN.y) * 1.15);
  c = mix(c, [255, 214, 140], 0.55 * Math.exp(-d / 16));
  if (d < SUN.r) c = mix([255, 244, 200], [255, 200, 120], d / SUN.r);
  // Long, thin clouds: stretched noise, lit from below near the sun.
  const cl = smooth(0.55, 0.75, fbm(x * 0.03, y * 0.18, 5)) * smooth(8, 20, y) * (1 - smooth(56, 68, y));
  const lit = mix([70, 52, 96], [255, 150, 110], clamp(1 - Math.hypot(x - SUN.x, y - SUN.y) / 90));
  c = mix(c, lit, cl * 0.85);
  return c;
}

function sea(x, y) {
  const depth = (y - HORIZON) / (H - HORIZON);
  let c = mix([120, 96, 120], [16, 40, 62], Math.sqrt(depth));
  // Ripples: bands that get wider towards the viewer, bent by noise.
  const k = 1 / (0.05 + depth);
  const ripple = Math.sin(y * k * 0.9 + fbm(x * 0.08, y * 0.3) * 6);
  c = mix(c, [170, 150, 170], smooth(0.75, 1, ripple) * 0.35 * (1 - depth));
  // The sun's path: broken streaks under the sun, fading with distance from its column.
  const spread = 4 + depth * 22;
  const path = Math.exp(-(((x - SUN.x) / spread) ** 2)) * smooth(0.2, 0.9, ripple * 0.5 + noise(x * 0.6, y * 2.1));
  c = mix(c, [255, 210, 150], path * 0.9);
  // Foam along the foot of the cliff.
  const gap = cliffTop(x) - y;
  if (gap < 2.5 + 2 * noise(x * 0.8, y * 0.5) && noise(x * 1.3, y * 1.1) > 0.35) c = mix(c, [228, 234, 240], 0.8);
  return c;
}

function cliff(x, y, top) {
  const d = y - top;
  // Strata: tilted bands plus noise; darker low down, grass on the top few pixels.
  const strata = Math.sin((y + x * 0.35) * 0.9 + fbm(x * 0.1, y * 0.1) * 4);
  let c = mix([74, 60, 58], [112, 92, 80], strata * 0.5 + 0.5);
  c = mix(c, [40, 34, 40], smooth(0, 60, d) * 0.6);
  c = mix(c, [150, 110, 90], 0.25 * (1 - smooth(0, 10, Math.abs(x - 120))) * smooth(0, 40, d)); // warm light from the beam side
  if (d < 3 + 2 * noise(x * 0.9, 1)) c = mix([70, 110, 52], [120, 150, 70], noise(x * 2.3, y * 2.3));
  return c;
}

/** The lighthouse, its keeper's house, and the lamp; undefined where (x, y) is not on them. */
function buildings(x, y) {
  // Keeper's house left of the tower: wall, roof, window.
  if (x >= 99 && x < 112 && y >= 50 && y < cliffTop(x) + 1) {
    if (x >= 103 && x < 106 && y >= 52 && y < 55) return [255, 210, 120];
    return mix([220, 214, 200], [170, 160, 150], (x - 99) / 13);
  }
  if (y >= 42 && y < 50 && Math.abs(x - 105.5) < (y - 42) * 0.95 + 1) return mix([120, 40, 36], [80, 26, 26], (y - 42) / 8);
  // Tower: tapered, red and white bands, shaded round (lighter on the sun side).
  const t = (y - TOWER.top) / (TOWER.base - TOWER.top);
  const half = TOWER.halfTop + (TOWER.halfBase - TOWER.halfTop) * t;
  if (t >= 0 && y < cliffTop(x) + 2 && Math.abs(x - TOWER.x) < half) {
    const band = Math.floor(t * 5) % 2 === 0 ? [232, 226, 218] : [186, 42, 40];
    const u = (x - TOWER.x) / half;
    let c = mix(band, band.map((v) => v * 0.45), smooth(-0.6, 1, u));
    if (Math.abs(x - TOWER.x) < 1 && (Math.abs(y - 34) < 1.5 || Math.abs(y - 46) < 1.5)) c = [40, 40, 52]; // windows
    return c;
  }
  // Gallery: a walkway with a railing of thin balusters.
  if (y >= 20 && y < 22 && Math.abs(x - TOWER.x) < 8) return [36, 34, 40];
  if (y >= 16 && y < 20 && Math.abs(x - TOWER.x) < 8) {
    if (y < 16.8 || (x - TOWER.x + 8) % 2 < 0.6) return [46, 44, 52];
  }
  // Lantern room: glowing glass between dark mullions, then the dome and a finial.
  if (y >= 11 && y < 20 && Math.abs(x - TOWER.x) < 4) {
    if ((x - TOWER.x + 4) % 2.6 < 0.5) return [50, 44, 40];
    return mix([255, 250, 210], [255, 200, 90], Math.abs(x - TOWER.x) / 4);
  }
  if (y >= 6 && y < 11 && Math.hypot((x - TOWER.x) / 4.5, (y - 11) / 5) < 1) return [150, 36, 32];
  if (y >= 3 && y < 6 && Math.abs(x - TOWER.x) < 0.5) return [40, 36, 36];
  return undefined;
}

/** The beam: a soft cone from the lamp to the left, added to whatever is behind it. */
function beam(x, y) {
  const dx = LAMP.x - x;
  if (dx <= 4) return 0;
  const axis = LAMP.y + dx * 0.08; // pointing slightly down towards the sea
  const width = 1.5 + dx * 0.2;
  return 0.5 * Math.exp(-(((y - axis) / width) ** 2)) * Math.exp(-dx / 140) * (0.85 + 0.15 * noise(x * 0.3, y * 0.3));
}

/** Three birds: thin "v" strokes. */
function bird(x, y) {
  for (const [bx, by, s] of [[60, 30, 3.5], [69, 26, 2.8], [53, 23, 2.2]]) {
    const u = x - bx, v = y - by;
    if (Math.abs(u) < s && Math.abs(v + Math.abs(u) * 0.6 - (u * u) / (s * 3)) < 0.45) return true;
  }
  return false;
}

/** Sea stacks at the foot of the cliff, with foam around them. */
function rocks(x, y) {
  for (const [rx, ry, rw, rh] of [[80, 112, 6, 5], [72, 116, 4, 3], [88, 104, 4, 4]]) {
    const e = ((x - rx) / rw) ** 2 + ((y - ry) / rh) ** 2;
    if (e < 1 && y < ry + rh * 0.4) return mix([58, 48, 50], [96, 82, 78], clamp((ry - y) / rh + 0.5) * noise(x * 1.7, y * 1.7));
    if (e < 1.6 && y >= ry && noise(x * 1.1, y * 1.3) > 0.45) return [222, 230, 236];
  }
  return undefined;
}

function shade(x, y) {
  const top = cliffTop(x);
  let c;
  const b = buildings(x, y);
  if (b) c = b;
  else if (y >= top) c = cliff(x, y, top);
  else c = rocks(x, y) ?? (y < HORIZON ? sky(x, y) : sea(x, y));
  if (!b && y < top && y < HORIZON && bird(x, y)) c = [28, 24, 36];
  const glow = beam(x, y) + 0.6 * Math.exp(-Math.hypot(x - LAMP.x, y - LAMP.y) / 5);
  return c.map((v) => v + (255 - v) * glow * 0.9);
}

// ---- render -------------------------------------------------------------------------------------

const data = new Uint8Array(W * H * 3);
for (let py = 0; py < H; py++) {
  for (let px = 0; px < W; px++) {
    const acc = [0, 0, 0];
    for (let sy = 0; sy < SS; sy++) {
      for (let sx = 0; sx < SS; sx++) {
        const c = shade(px + (sx + 0.5) / SS, py + (sy + 0.5) / SS);
        for (let i = 0; i < 3; i++) acc[i] += c[i];
      }
    }
    for (let i = 0; i < 3; i++) data[(py * W + px) * 3 + i] = Math.round(clamp(acc[i] / (SS * SS), 0, 255));
  }
}

const png = encode({ width: W, height: H, data, depth: 8, channels: 3 }, { zlib: { level: 9 } });
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, png);
console.log(`wrote ${out} (${W}×${H}, ${png.length} bytes)`);
