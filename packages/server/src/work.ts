// SPDX-License-Identifier: MIT
// What one upscale job is, wherever it runs (in the serving process, or in `srgan worker` taking it
// from Redis): its input as plain data, and decode → upscale → encode on a shared upscaler. Knows
// nothing about HTTP or queues.
import { createUpscaler, decodeImage, encodeImage, type ImageFormat, type RgbaImage, type Upscaler, type UpscalerOptions } from "srgan-wasm";
import { encodePngStreaming } from "srgan-wasm/internal";

/** A job as it is queued: everything needed to run it, and nothing that cannot be serialised. */
export interface JobInput {
  image: Uint8Array;
  model: string;
  scale: number | undefined;
  /** The input's format (from its header): with model 'auto' it picks the network. */
  source: ImageFormat;
  /** The output's format. */
  format: ImageFormat;
  quality: number | undefined;
  /** The decoder's bound (the server already refused bigger images from their header). */
  maxPixels: number;
}

export interface JobResult {
  bytes: Buffer;
  format: ImageFormat;
  /** The network that ran (with 'auto': the one it picked). */
  model: string;
}

/** Runs one job: the same bytes `srgan upscale` writes for this input and options. */
export async function runJob(upscalers: Upscalers, input: JobInput, signal: AbortSignal, onProgress: (fraction: number) => void): Promise<JobResult> {
  const up = await upscalers.get(input.model, input.scale);
  const img = decodeImage(input.image, { maxPixels: input.maxPixels });
  const out = await up.upscale(img, { signal, format: input.source, onProgress: (p) => onProgress(p.fraction) });
  // Read before the next await: jobs on one upscaler run one at a time, and info() names the last one's network.
  const model = up.info().model;
  return { bytes: await encode(out, input.format, input.quality), format: input.format, model };
}

async function encode(img: RgbaImage, format: ImageFormat, quality: number | undefined): Promise<Buffer> {
  if (format === "jpeg") return Buffer.from(encodeImage(img, "jpeg", { quality }));
  const parts: Uint8Array[] = [];
  for await (const part of encodePngStreaming(img)) parts.push(part);
  return Buffer.concat(parts);
}

/** One upscaler per network, made when a job first names it and kept until dispose. */
export class Upscalers {
  private readonly byRequest = new Map<string, Promise<Upscaler>>();
  private readonly byNetwork = new Map<string, Upscaler>();

  constructor(private readonly options: UpscalerOptions) {}

  get(model: string, scale: number | undefined): Promise<Upscaler> {
    const key = `${model}|${scale ?? ""}`;
    let p = this.byRequest.get(key);
    if (!p) {
      p = this.create(model, scale);
      this.byRequest.set(key, p);
      p.catch(() => this.byRequest.delete(key)); // a failed creation (bad scale, say) is not remembered
    }
    return p;
  }

  /** `?model=natural` and `?model=natural&scale=4` are one network: keep the first upscaler made for it. */
  private async create(model: string, scale: number | undefined): Promise<Upscaler> {
    const up = await createUpscaler({ ...this.options, model, scale });
    const key = `${model}|${up.scale}`;
    const existing = this.byNetwork.get(key);
    if (existing) {
      await up.dispose();
      return existing;
    }
    this.byNetwork.set(key, up);
    return up;
  }

  ready() {
    return [...this.byNetwork.values()].map((up) => ({ up, stats: up.stats() }));
  }

  async dispose(): Promise<void> {
    await Promise.allSettled(this.byRequest.values());
    await Promise.all([...this.byNetwork.values()].map((up) => up.dispose()));
  }
}
