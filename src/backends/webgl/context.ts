// SPDX-License-Identifier: MIT
// Owns one WebGL2 context: creation, the capability check (float render targets, texture limits,
// software renderers), context-loss/restore listeners, and the little GL state every program shares
// (one empty VAO for the full-screen triangle, one framebuffer, a compiled-program cache).
import { ContextLostError, UnsupportedError } from "../../errors.js";

export interface Capabilities {
  /** Largest texture side (each tile's largest tensor must fit in it). */
  maxTextureSize: number;
  /** Most layers of a 2D-array texture: a tensor has ⌈c/4⌉ layers. */
  maxArrayLayers: number;
  maxTextureUnits: number;
  /** Render targets one draw may write (≥ 4 in WebGL2): the conv writes up to 4 output layers at once. */
  maxDrawBuffers: number;
  /** Bytes of one uniform block (≥ 16384) and the alignment of buffer ranges bound to one. */
  maxUniformBlockSize: number;
  uniformOffsetAlignment: number;
  /** EXT_color_buffer_float: RGBA32F render targets (required for 'float32'). */
  colorBufferFloat: boolean;
  /** RGBA16F render targets (EXT_color_buffer_half_float, or implied by EXT_color_buffer_float). */
  colorBufferHalfFloat: boolean;
  floatLinear: boolean;
  /** Unmasked renderer string where the browser exposes it, else the masked one. */
  renderer: string;
  /** A CPU rasteriser (SwiftShader, llvmpipe…): WebGL works but is no faster than the wasm kernels. */
  software: boolean;
}

export type GlPrecision = "float32" | "float16";

export interface ContextOptions {
  /** A canvas to draw on (its context is created or reused); default: a new OffscreenCanvas or <canvas>. */
  canvas?: HTMLCanvasElement | OffscreenCanvas;
  /** 'float16' stores activations as RGBA16F: half the memory, ~3 decimal digits (opt-in; see docs/webgl.md). */
  precision?: GlPrecision;
  /**
   * Use textures no larger than this, if it is below the device's MAX_TEXTURE_SIZE: headroom on devices
   * that report more than they manage, and a way for tests to force many tiles.
   */
  maxTextureSize?: number;
  /** @internal Texel fetches per draw before draws are cut into row bands (tests force tiny bands). */
  fetchesPerDraw?: number;
  /** Refuse software renderers (the browser's failIfMajorPerformanceCaveat, and a renderer-name check). */
  requireHardware?: boolean;
  onContextLost?: () => void;
  onContextRestored?: () => void;
}

/** Texel fetches per draw call before a draw is cut into bands (~tens of ms on a small mobile GPU). */
const FETCHES_PER_DRAW = 1 << 26;

const SOFTWARE = /swiftshader|llvmpipe|softpipe|software|basic render|microsoft basic/i;

const VERTEX_SHADER = `#version 300 es
// One triangle covering the viewport, from gl_VertexID alone (no attributes, no buffers).
void main() {
  vec2 p = vec2(float((gl_VertexID << 1) & 2), float(gl_VertexID & 2));
  gl_Position = vec4(p * 2.0 - 1.0, 0.0, 1.0);
}`;

/** What every fragment shader starts with: GLSL ES 3.00, highp everywhere (WebGL2 guarantees it). */
export const FRAGMENT_HEADER = `#version 300 es
precision highp float;
precision highp int;
precision highp sampler2D;
precision highp sampler2DArray;
precision highp usampler2DArray;
`;

export interface Program {
  program: WebGLProgram;
  uniforms: Map<string, WebGLUniformLocation | null>;
}

export class GlContext {
  readonly gl: WebGL2RenderingContext;
  readonly canvas: HTMLCanvasElement | OffscreenCanvas;
  readonly caps: Capabilities;
  readonly precision: GlPrecision;
  /** Bumped on every restore: GL objects made under an older generation are gone. */
  generation = 0;
  private lostFlag = false;
  private vao: WebGLVertexArrayObject | null = null;
  /** One framebuffer per number of attachments, so each keeps its own drawBuffers state. */
  private fbos: Array<WebGLFramebuffer | null> = [];
  private vertex: WebGLShader | null = null;
  private readonly programs = new Map<string, Program>();
  private readonly listeners: Array<[string, EventListener]> = [];
  private restoreWaiters: Array<() => void> = [];
  private disposed = false;
  private readonly fetchesPerDraw: number;

  constructor(options: ContextOptions = {}) {
    this.precision = options.precision ?? "float32";
    this.fetchesPerDraw = options.fetchesPerDraw ?? FETCHES_PER_DRAW;
    const canvas = options.canvas ?? newCanvas();
    this.canvas = canvas;
    const attrs: WebGLContextAttributes = {
      alpha: false, antialias: false, depth: false, stencil: false, premultipliedAlpha: false,
      preserveDrawingBuffer: false, powerPreference: "high-performance",
      failIfMajorPerformanceCaveat: options.requireHardware === true,
    };
    const gl = (canvas as HTMLCanvasElement).getContext("webgl2", attrs) as WebGL2RenderingContext | null;
    if (!gl) {
      throw new UnsupportedError(options.requireHardware
        ? "WebGL2 with a hardware GPU is not available here (the browser offers none, or only a software renderer). Use backend: 'wasm'."
        : "WebGL2 is not available in this browser or context. Use backend: 'wasm'.");
    }
    if (gl.isContextLost()) throw new ContextLostError("the WebGL2 context was lost before it could be used", true);
    this.gl = gl;
    this.caps = readCapabilities(gl);
    if (options.maxTextureSize !== undefined) {
      if (!Number.isInteger(options.maxTextureSize) || options.maxTextureSize < 16) throw new RangeError(`options.maxTextureSize must be an integer ≥ 16, got ${String(options.maxTextureSize)}`);
      this.caps.maxTextureSize = Math.min(this.caps.maxTextureSize, options.maxTextureSize);
    }
    if (options.requireHardware && this.caps.software) {
      throw new UnsupportedError(`WebGL2 runs on a software renderer here (${this.caps.renderer}), which is slower than the wasm kernels. Use backend: 'wasm'.`);
    }
    if (this.precision === "float32" && !this.caps.colorBufferFloat) {
      throw new UnsupportedError("this GPU cannot render to 32-bit float textures (EXT_color_buffer_float is missing), which the WebGL backend needs for full precision. " +
        "Use backend: 'wasm'" + (this.caps.colorBufferHalfFloat ? ", or opt in to precision: 'float16' (about 3 significant digits; see docs/webgl.md)." : "."));
    }
    if (this.precision === "float16" && !this.caps.colorBufferHalfFloat) {
      throw new UnsupportedError("this GPU cannot render to float textures at all (neither EXT_color_buffer_float nor EXT_color_buffer_half_float). Use backend: 'wasm'.");
    }
    // preventDefault on 'lost' is what allows the browser to restore the context later.
    this.listen("webglcontextlost", (e) => {
      e.preventDefault();
      this.markLost();
      options.onContextLost?.();
    });
    this.listen("webglcontextrestored", () => {
      this.lostFlag = false;
      this.generation++;
      // The old objects died with the old context; forget them, recreate lazily.
      this.programs.clear();
      this.vao = this.vertex = null;
      this.fbos = [];
      enableExtensions(gl);
      const waiters = this.restoreWaiters;
      this.restoreWaiters = [];
      for (const w of waiters) w();
      options.onContextRestored?.();
    });
    enableExtensions(gl);
  }

  /** True once the context is lost (the event, or a synchronous isContextLost() seen first). */
  get lost(): boolean {
    if (!this.lostFlag && this.gl.isContextLost()) this.markLost();
    return this.lostFlag;
  }

  /** Throws ContextLostError when the context is gone: nothing drawn since can be trusted. */
  checkLost(what: string): void {
    if (this.lost) throw new ContextLostError(`the WebGL context was lost ${what}; the results were discarded`, !this.disposed);
  }

  /** Resolves when a lost context is restored (immediately when it is not lost). */
  whenRestored(): Promise<void> {
    if (!this.lost) return Promise.resolve();
    return new Promise((resolve) => this.restoreWaiters.push(resolve));
  }

  /** The fragment shader's program, compiled once per source and cached until the context is lost. */
  program(source: string): Program {
    let p = this.programs.get(source);
    if (p) return p;
    const gl = this.gl;
    if (!this.vertex) this.vertex = compileShader(gl, gl.VERTEX_SHADER, VERTEX_SHADER);
    const fs = compileShader(gl, gl.FRAGMENT_SHADER, source);
    const program = gl.createProgram()!;
    gl.attachShader(program, this.vertex);
    gl.attachShader(program, fs);
    gl.linkProgram(program);
    gl.deleteShader(fs);
    if (!gl.getProgramParameter(program, gl.LINK_STATUS) && !gl.isContextLost()) {
      const log = gl.getProgramInfoLog(program);
      gl.deleteProgram(program);
      throw new UnsupportedError(`a WebGL program failed to link on this GPU: ${log}`);
    }
    p = { program, uniforms: new Map() };
    this.programs.set(source, p);
    return p;
  }

  /** Binds `p` and returns a setter for its uniforms (locations looked up once). */
  use(p: Program): Uniforms {
    this.gl.useProgram(p.program);
    return new Uniforms(this.gl, p);
  }

  /**
   * Draws the bound program into layer `layer` of `target` (a 2D-array texture) over [0, w)×[0, h).
   * Every output texel is one fragment; gl_FragCoord.xy − 0.5 is its (x, y). `cost` is the texel
   * fetches one fragment makes: heavy draws are cut into row bands, flushed one by one, so no single
   * submission runs long enough for a GPU watchdog (Windows TDR: 2 s) to reset the device, which the
   * page would see as a lost context. The viewport moves, gl_FragCoord stays absolute: shaders are unchanged.
   */
  drawToLayer(target: WebGLTexture, layer: number, w: number, h: number, cost = 1): void {
    this.drawToLayers(target, layer, 1, w, h, cost);
  }

  /** drawToLayer for a program with `count` outputs (location i → layer first + i). */
  drawToLayers(target: WebGLTexture, first: number, count: number, w: number, h: number, cost = 1): void {
    const gl = this.gl;
    gl.bindFramebuffer(gl.FRAMEBUFFER, this.framebuffer(count));
    for (let i = 0; i < count; i++) gl.framebufferTextureLayer(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0 + i, target, 0, first + i);
    if (!this.vao) this.vao = gl.createVertexArray();
    gl.bindVertexArray(this.vao);
    const band = Math.max(1, Math.floor(this.fetchesPerDraw / Math.max(1, w * cost)));
    if (band >= h) {
      gl.viewport(0, 0, w, h);
      gl.drawArrays(gl.TRIANGLES, 0, 3);
      return;
    }
    for (let y = 0; y < h; y += band) {
      gl.viewport(0, y, w, Math.min(band, h - y));
      gl.drawArrays(gl.TRIANGLES, 0, 3);
      gl.flush();
    }
  }

  private framebuffer(count: number): WebGLFramebuffer {
    let f = this.fbos[count];
    if (!f) {
      const gl = this.gl;
      f = gl.createFramebuffer()!;
      gl.bindFramebuffer(gl.FRAMEBUFFER, f);
      gl.drawBuffers(Array.from({ length: count }, (_, i) => gl.COLOR_ATTACHMENT0 + i));
      this.fbos[count] = f;
    }
    return f;
  }

  /** Attaches a layer for reading (readPixels). */
  bindForRead(target: WebGLTexture, layer: number): void {
    const gl = this.gl;
    gl.bindFramebuffer(gl.FRAMEBUFFER, this.framebuffer(1));
    gl.framebufferTextureLayer(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, target, 0, layer);
  }

  /** Binds a texture to unit `unit` (TEXTURE_2D_ARRAY unless `kind` says TEXTURE_2D). */
  bindTexture(unit: number, tex: WebGLTexture, kind: "array" | "2d" = "array"): void {
    const gl = this.gl;
    gl.activeTexture(gl.TEXTURE0 + unit);
    gl.bindTexture(kind === "array" ? gl.TEXTURE_2D_ARRAY : gl.TEXTURE_2D, tex);
  }

  /** Deletes programs and helpers and removes the listeners. Textures belong to the pool. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const gl = this.gl;
    if (!gl.isContextLost()) {
      for (const p of this.programs.values()) gl.deleteProgram(p.program);
      if (this.vertex) gl.deleteShader(this.vertex);
      if (this.vao) gl.deleteVertexArray(this.vao);
      for (const f of this.fbos) if (f) gl.deleteFramebuffer(f);
    }
    this.programs.clear();
    for (const [type, fn] of this.listeners) this.canvas.removeEventListener(type, fn);
    this.listeners.length = 0;
    const waiters = this.restoreWaiters;
    this.restoreWaiters = [];
    for (const w of waiters) w();
  }

  get programCount(): number {
    return this.programs.size;
  }

  private markLost(): void {
    this.lostFlag = true;
  }

  private listen(type: string, fn: (e: Event) => void): void {
    this.canvas.addEventListener(type, fn as EventListener);
    this.listeners.push([type, fn as EventListener]);
  }
}

/** Typed uniform setters by name for the bound program. */
export class Uniforms {
  constructor(private readonly gl: WebGL2RenderingContext, private readonly p: Program) {}
  private loc(name: string): WebGLUniformLocation | null {
    let l = this.p.uniforms.get(name);
    if (l === undefined) {
      l = this.gl.getUniformLocation(this.p.program, name);
      this.p.uniforms.set(name, l);
    }
    return l;
  }
  int(name: string, v: number): this { this.gl.uniform1i(this.loc(name), v); return this; }
  ivec2(name: string, x: number, y: number): this { this.gl.uniform2i(this.loc(name), x, y); return this; }
  float(name: string, v: number): this { this.gl.uniform1f(this.loc(name), v); return this; }
  floats(name: string, v: Float32Array): this { this.gl.uniform1fv(this.loc(name), v); return this; }
  ints(name: string, v: Int32Array): this { this.gl.uniform1iv(this.loc(name), v); return this; }
}

function newCanvas(): HTMLCanvasElement | OffscreenCanvas {
  if (typeof OffscreenCanvas !== "undefined") return new OffscreenCanvas(1, 1);
  const doc = (globalThis as { document?: Document }).document;
  if (doc) {
    const c = doc.createElement("canvas");
    c.width = c.height = 1;
    return c;
  }
  throw new UnsupportedError("WebGL2 needs a browser (no OffscreenCanvas or document here). In Node and Deno use backend: 'wasm'.");
}

// Extensions must be enabled (getExtension) before their formats can be rendered to; again after a restore.
function enableExtensions(gl: WebGL2RenderingContext): void {
  gl.getExtension("EXT_color_buffer_float");
  gl.getExtension("EXT_color_buffer_half_float");
  gl.getExtension("OES_texture_float_linear");
}

export function readCapabilities(gl: WebGL2RenderingContext): Capabilities {
  const has = (name: string) => (gl.getSupportedExtensions() ?? []).includes(name);
  const colorBufferFloat = has("EXT_color_buffer_float");
  const dbg = gl.getExtension("WEBGL_debug_renderer_info");
  const renderer = String((dbg ? gl.getParameter(dbg.UNMASKED_RENDERER_WEBGL) : null) ?? gl.getParameter(gl.RENDERER) ?? "unknown");
  return {
    maxTextureSize: gl.getParameter(gl.MAX_TEXTURE_SIZE) as number,
    maxArrayLayers: gl.getParameter(gl.MAX_ARRAY_TEXTURE_LAYERS) as number,
    maxTextureUnits: gl.getParameter(gl.MAX_TEXTURE_IMAGE_UNITS) as number,
    maxDrawBuffers: Math.min(gl.getParameter(gl.MAX_DRAW_BUFFERS) as number, gl.getParameter(gl.MAX_COLOR_ATTACHMENTS) as number),
    maxUniformBlockSize: gl.getParameter(gl.MAX_UNIFORM_BLOCK_SIZE) as number,
    uniformOffsetAlignment: gl.getParameter(gl.UNIFORM_BUFFER_OFFSET_ALIGNMENT) as number,
    colorBufferFloat,
    colorBufferHalfFloat: colorBufferFloat || has("EXT_color_buffer_half_float"),
    floatLinear: has("OES_texture_float_linear"),
    renderer,
    software: SOFTWARE.test(renderer),
  };
}

function compileShader(gl: WebGL2RenderingContext, type: number, source: string): WebGLShader {
  const s = gl.createShader(type)!;
  gl.shaderSource(s, source);
  gl.compileShader(s);
  if (!gl.getShaderParameter(s, gl.COMPILE_STATUS) && !gl.isContextLost()) {
    const log = gl.getShaderInfoLog(s);
    gl.deleteShader(s);
    const numbered = source.split("\n").map((l, i) => `${String(i + 1).padStart(3)} ${l}`).join("\n");
    throw new UnsupportedError(`a WebGL shader failed to compile on this GPU: ${log}\n${numbered}`);
  }
  return s;
}
