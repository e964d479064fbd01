// The test-side ncnn writer: a text .param from layer lines, and a .bin from weight blobs, each written
// as ncnn's tools write them (tagged blobs: a 4-byte storage tag, fp16 padded to 4 bytes).
import { f32ToF16 } from "../src/model/float16.js";
import { concat } from "./pth-writer.js";

export interface LayerLine { type: string; name: string; inputs: string[]; outputs: string[]; params?: string }

/** A .param: magic, counts (the blob count derived unless given), one line per layer. */
export function ncnnParam(layers: LayerLine[], blobCount?: number): string {
  const blobs = new Set(layers.flatMap((l) => [...l.inputs, ...l.outputs]));
  const lines = layers.map((l) => [l.type.padEnd(24), l.name.padEnd(24), l.inputs.length, l.outputs.length, ...l.inputs, ...l.outputs, l.params ?? ""].join(" ").trimEnd());
  return `7767517\n${layers.length} ${blobCount ?? blobs.size}\n${lines.join("\n")}\n`;
}

/** How a blob is stored: tagged fp32 or fp16 (ModelBin type 0), untagged fp32 (type 1), or a raw tag. */
export type BlobStorage = "fp32" | "fp16" | "untagged" | { tag: number };

/** One blob's bytes. */
export function ncnnBlob(values: ArrayLike<number>, storage: BlobStorage): Uint8Array {
  const f32 = new Uint8Array(Float32Array.from(values).buffer);
  const tag = (t: number) => new Uint8Array(Uint32Array.of(t).buffer);
  if (storage === "untagged") return f32;
  if (storage === "fp32") return concat([tag(0), f32]);
  if (storage === "fp16") {
    const half = new Uint8Array((values.length * 2 + 3) & ~3);
    half.set(new Uint8Array(f32ToF16(Float32Array.from(values)).buffer));
    return concat([tag(0x01306b47), half]);
  }
  return concat([tag(storage.tag), f32]);
}
