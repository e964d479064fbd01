// SPDX-License-Identifier: MIT
// The ONNX protobuf schema (onnx.proto, as static protobufjs code from the `onnx-proto` package: no code
// generated at run time) and the few facts of it the ONNX reader and writer share.
import onnxProto from "onnx-proto";

export const onnx = onnxProto.onnx;
export type { onnx as OnnxTypes } from "onnx-proto";

/** The operator set our exports declare: Pad, Slice and Resize take their sizes as inputs from 13 on. */
export const EXPORT_OPSET = 13;
/** The IR version that goes with opset 13. */
export const EXPORT_IR_VERSION = 7;

export const DataType = onnx.TensorProto.DataType;
export const AttributeType = onnx.AttributeProto.AttributeType;

/** An int64 field as protobufjs gives it (a number, or a Long for large values) as a number. */
export function toNumber(v: number | { toNumber(): number } | null | undefined): number {
  return v == null ? 0 : typeof v === "number" ? v : v.toNumber();
}
