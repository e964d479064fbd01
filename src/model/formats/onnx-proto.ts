// SPDX-License-Identifier: MIT
// ONNX's protobuf schema as @bufbuild/protobuf code (./onnx_pb.ts, generated from onnx.proto by
// scripts/gen-onnx-proto.mjs: no code generated at run time, no eval), and the few facts of it the ONNX
// reader and writer share. int64 fields are bigint, as protobuf-es gives them.
import { create, fromBinary, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { ModelProtoSchema, TensorProto_DataType as DataType } from "./onnx_pb.js";

export { DataType };
export {
  AttributeProto_AttributeType as AttributeType, TensorProto_DataLocation as DataLocation, type AttributeProto, type ModelProto, type TensorProto, type ValueInfoProto,
} from "./onnx_pb.js";

/** The operator set our exports declare: Pad, Slice and Resize take their sizes as inputs from 13 on. */
export const EXPORT_OPSET = 13;
/** The IR version that goes with opset 13. */
export const EXPORT_IR_VERSION = 7;

/** A ModelProto as `create` takes it: plain objects, oneofs as `{ case, value }`. */
export type ModelInit = MessageInitShape<typeof ModelProtoSchema>;
export type GraphInit = NonNullable<ModelInit["graph"]>;
export type NodeInit = NonNullable<GraphInit["node"]>[number];
export type TensorInit = NonNullable<GraphInit["initializer"]>[number];
export type AttributeInit = NonNullable<NodeInit["attribute"]>[number];
export type ValueInfoInit = NonNullable<GraphInit["input"]>[number];

/** Reads a ModelProto; malformed protobuf throws an Error. */
export const decodeModel = (bytes: Uint8Array) => fromBinary(ModelProtoSchema, bytes);
export const encodeModel = (init: ModelInit): Uint8Array => toBinary(ModelProtoSchema, create(ModelProtoSchema, init));

/** A float32 tensor's ValueInfo: each dimension a number or a symbolic name. */
export function tensorValueInfo(name: string, dims: readonly (number | string)[]): ValueInfoInit {
  const dim = dims.map((d) => ({ value: typeof d === "number" ? { case: "dimValue" as const, value: BigInt(d) } : { case: "dimParam" as const, value: d } }));
  return { name, type: { value: { case: "tensorType", value: { elemType: DataType.FLOAT, shape: { dim } } } } };
}
