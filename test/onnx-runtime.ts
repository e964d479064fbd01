// onnxruntime-web (WASM, in Node) as the independent runtime our ONNX exports are checked in: one
// helper that runs a model on an NHWC float image and returns NHWC, as our reference ops work.
import * as ort from "onnxruntime-web";

ort.env.wasm.numThreads = 1; // tests run beside others on a small machine; bench/peers.bench.ts measures threads

/** Runs an ONNX model's `input` → `output` on x ([h, w, c] row-major), returning the output as [H, W, C]. */
export async function runOnnx(model: Uint8Array, x: Float32Array, h: number, w: number, c: number): Promise<{ data: Float32Array; h: number; w: number; c: number }> {
  const session = await ort.InferenceSession.create(model);
  try {
    const nchw = new Float32Array(x.length);
    for (let p = 0; p < h * w; p++) for (let k = 0; k < c; k++) nchw[k * h * w + p] = x[p * c + k];
    const { output } = await session.run({ input: new ort.Tensor("float32", nchw, [1, c, h, w]) });
    const [, C, H, W] = output.dims as number[];
    const y = output.data as Float32Array, data = new Float32Array(y.length);
    for (let p = 0; p < H * W; p++) for (let k = 0; k < C; k++) data[p * C + k] = y[k * H * W + p];
    return { data, h: H, w: W, c: C };
  } finally {
    await session.release();
  }
}

/** RGBA8 pixels as the networks see them: RGB 0..1, [h, w, 3]. */
export function rgbOf(img: { data: ArrayLike<number>; width: number; height: number }): Float32Array {
  const n = img.width * img.height, x = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) for (let k = 0; k < 3; k++) x[i * 3 + k] = img.data[i * 4 + k] / 255;
  return x;
}

/** PSNR (dB) of two float RGB images after 8-bit rounding as the upscaler writes it, and the largest float difference. */
export function compare8(a: ArrayLike<number>, b: ArrayLike<number>): { db: number; maxDiff: number } {
  const q = (v: number) => Math.floor(Math.min(255, Math.max(0, 255 * v + 0.5)));
  let se = 0, maxDiff = 0;
  for (let i = 0; i < a.length; i++) { const d = q(a[i]) - q(b[i]); se += d * d; maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i])); }
  return { db: se === 0 ? Infinity : 10 * Math.log10((255 * 255 * a.length) / se), maxDiff };
}
