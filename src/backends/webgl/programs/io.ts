// SPDX-License-Identifier: MIT
// Pixels in and out of the GPU. RGBA8 tiles are uploaded as integer texels straight from the caller's
// image (UNPACK_ROW_LENGTH/SKIP select the tile, no CPU copy) and converted exactly as the wasm kernel
// rgba8_to_f32 does (byte × f32(1/255)); results are quantised as f32_to_rgba8 does
// (⌊clamp(255·v + 0.5, 0, 255)⌋) and read back with PACK_ROW_LENGTH straight into the output image.
// Float tensors (tests, forward()) go up and down as HWC Float32Arrays.
import type { GlContext } from "../context.js";
import { FRAGMENT_HEADER } from "../context.js";
import type { TexturePool } from "../texture-pool.js";
import { FRAG_XY, layersOf, type GlEnv, type GpuTensor } from "./common.js";

const UNPACK_SOURCE = `${FRAGMENT_HEADER}
uniform highp usampler2DArray u_src;
uniform int u_alpha;
out vec4 o;
void main() {
  uvec4 v = texelFetch(u_src, ivec3(${FRAG_XY}, 0), 0);
  const float INV = 1.0 / 255.0;
  o = u_alpha == 1 ? vec4(float(v.a) * INV, 0.0, 0.0, 0.0) : vec4(vec3(v.rgb) * INV, 0.0);
}
`;

// Byte values land in an RGBA8 (unorm) target as b/255, which the conversion maps back to b exactly.
const PACK_SOURCE = `${FRAGMENT_HEADER}
uniform sampler2DArray u_rgb;
uniform sampler2DArray u_a;
uniform int u_hasAlpha;
uniform ivec2 u_offset;
uniform ivec2 u_alphaOffset;
out vec4 o;
vec4 toByte(vec4 v) { return clamp(floor(v * 255.0 + 0.5), 0.0, 255.0); }
void main() {
  vec4 v = vec4(texelFetch(u_rgb, ivec3(${FRAG_XY} + u_offset, 0), 0).rgb, 1.0);
  if (u_hasAlpha == 1) v.a = texelFetch(u_a, ivec3(${FRAG_XY} + u_alphaOffset, 0), 0).r;
  o = toByte(v) / 255.0;
}
`;

export class PixelIo {
  constructor(private readonly env: GlEnv) {
    env.ctx.program(UNPACK_SOURCE);
    env.ctx.program(PACK_SOURCE);
  }

  private get ctx(): GlContext { return this.env.ctx; }
  private get pool(): TexturePool { return this.env.pool; }

  /**
   * Uploads rect (x, y, w, h) of an RGBA8 image and returns the network's RGB input tensor [h, w, 3]
   * and, when `alpha`, the alpha plane [h, w, 1].
   */
  uploadRgba(image: { data: Uint8Array | Uint8ClampedArray; width: number }, x: number, y: number, w: number, h: number, alpha: boolean): { rgb: GpuTensor; alpha: GpuTensor | null } {
    const { gl } = this.ctx;
    const src = this.pool.acquire("rgba8ui", w, h, 1);
    try {
      gl.bindTexture(gl.TEXTURE_2D_ARRAY, src.tex);
      gl.pixelStorei(gl.UNPACK_ALIGNMENT, 1);
      gl.pixelStorei(gl.UNPACK_ROW_LENGTH, image.width);
      // For 3D uploads skipped rows must lie inside one "image" of UNPACK_IMAGE_HEIGHT rows (0 would mean h).
      gl.pixelStorei(gl.UNPACK_IMAGE_HEIGHT, image.data.length / 4 / image.width);
      gl.pixelStorei(gl.UNPACK_SKIP_PIXELS, x);
      gl.pixelStorei(gl.UNPACK_SKIP_ROWS, y);
      const bytes = new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.byteLength);
      gl.texSubImage3D(gl.TEXTURE_2D_ARRAY, 0, 0, 0, 0, w, h, 1, gl.RGBA_INTEGER, gl.UNSIGNED_BYTE, bytes);
      resetUnpack(gl);
      const rgb: GpuTensor = { tex: this.pool.acquire(this.env.floatFormat, w, h, 1), h, w, c: 3 };
      const a: GpuTensor | null = alpha ? { tex: this.pool.acquire(this.env.floatFormat, w, h, 1), h, w, c: 1 } : null;
      const u = this.ctx.use(this.ctx.program(UNPACK_SOURCE));
      this.ctx.bindTexture(0, src.tex);
      u.int("u_src", 0).int("u_alpha", 0);
      this.ctx.drawToLayer(rgb.tex.tex, 0, w, h);
      if (a) {
        u.int("u_alpha", 1);
        this.ctx.drawToLayer(a.tex.tex, 0, w, h);
      }
      return { rgb, alpha: a };
    } finally {
      this.pool.release(src);
    }
  }

  /**
   * Quantises rect (x, y, w, h) of the RGB output (and the same-sized rect at alphaAt of the alpha
   * output) to RGBA8 and reads it into `out` (an image `outWidth` pixels wide) at pixel (dx, dy).
   */
  readRgba(rgb: GpuTensor, alpha: GpuTensor | null, x: number, y: number, w: number, h: number,
    out: Uint8ClampedArray, outWidth: number, dx: number, dy: number, alphaAt: [number, number] = [x, y]): void {
    const { gl } = this.ctx;
    const dst = this.pool.acquire("rgba8", w, h, 1);
    try {
      const u = this.ctx.use(this.ctx.program(PACK_SOURCE));
      this.ctx.bindTexture(0, rgb.tex.tex);
      this.ctx.bindTexture(1, (alpha ?? rgb).tex.tex);
      u.int("u_rgb", 0).int("u_a", 1).int("u_hasAlpha", alpha ? 1 : 0).ivec2("u_offset", x, y).ivec2("u_alphaOffset", alphaAt[0], alphaAt[1]);
      this.ctx.drawToLayer(dst.tex, 0, w, h);
      this.ctx.bindForRead(dst.tex, 0);
      gl.pixelStorei(gl.PACK_ALIGNMENT, 1);
      gl.pixelStorei(gl.PACK_ROW_LENGTH, outWidth);
      const view = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
      gl.readPixels(0, 0, w, h, gl.RGBA, gl.UNSIGNED_BYTE, view, (dy * outWidth + dx) * 4);
      gl.pixelStorei(gl.PACK_ROW_LENGTH, 0);
    } finally {
      this.pool.release(dst);
    }
  }

  /** Uploads rect (x, y, w, h) of an HWC float tensor (full width `width`, c channels). */
  uploadFloat(data: Float32Array, width: number, c: number, x: number, y: number, w: number, h: number): GpuTensor {
    const { gl } = this.ctx;
    const L = layersOf(c);
    const t: GpuTensor = { tex: this.pool.acquire(this.env.floatFormat, w, h, L), h, w, c };
    const buf = new Float32Array(w * h * 4 * L);
    for (let l = 0; l < L; l++)
      for (let row = 0; row < h; row++)
        for (let col = 0; col < w; col++) {
          const s = ((y + row) * width + x + col) * c, d = ((l * h + row) * w + col) * 4;
          for (let j = 0; j < 4 && 4 * l + j < c; j++) buf[d + j] = data[s + 4 * l + j];
        }
    gl.bindTexture(gl.TEXTURE_2D_ARRAY, t.tex.tex);
    gl.pixelStorei(gl.UNPACK_ALIGNMENT, 4);
    gl.texSubImage3D(gl.TEXTURE_2D_ARRAY, 0, 0, 0, 0, w, h, L, gl.RGBA, gl.FLOAT, buf);
    return t;
  }

  /** Reads rect (x, y, w, h) of a tensor into an HWC float array `width` pixels wide at (dx, dy). */
  readFloat(t: GpuTensor, x: number, y: number, w: number, h: number, out: Float32Array, width: number, dx: number, dy: number): void {
    const { gl } = this.ctx;
    const buf = new Float32Array(w * h * 4);
    gl.pixelStorei(gl.PACK_ALIGNMENT, 4);
    for (let l = 0; l < layersOf(t.c); l++) {
      this.ctx.bindForRead(t.tex.tex, l);
      gl.readPixels(x, y, w, h, gl.RGBA, gl.FLOAT, buf);
      for (let row = 0; row < h; row++)
        for (let col = 0; col < w; col++) {
          const s = (row * w + col) * 4, d = ((dy + row) * width + dx + col) * t.c;
          for (let j = 0; j < 4 && 4 * l + j < t.c; j++) out[d + 4 * l + j] = buf[s + j];
        }
    }
  }
}

function resetUnpack(gl: WebGL2RenderingContext): void {
  gl.pixelStorei(gl.UNPACK_ROW_LENGTH, 0);
  gl.pixelStorei(gl.UNPACK_SKIP_PIXELS, 0);
  gl.pixelStorei(gl.UNPACK_SKIP_ROWS, 0);
  gl.pixelStorei(gl.UNPACK_IMAGE_HEIGHT, 0);
}
