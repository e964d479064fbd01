// SPDX-License-Identifier: MIT
// The part of ONNX's protobuf schema (onnx.proto, field numbers as it gives them) that the ONNX reader and
// writer use, for ./protobuf.ts; fields not listed (subgraphs, sparse tensors, training info) are skipped
// when read. Names are onnx.proto's in camelCase.
import { decodeMessage, encodeMessage, schema } from "./protobuf.js";

/** The operator set our exports declare: Pad, Slice and Resize take their sizes as inputs from 13 on. */
export const EXPORT_OPSET = 13;
/** The IR version that goes with opset 13. */
export const EXPORT_IR_VERSION = 7;

export const DataType = {
  UNDEFINED: 0, FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT32: 6, INT64: 7, STRING: 8, BOOL: 9,
  FLOAT16: 10, DOUBLE: 11, UINT32: 12, UINT64: 13, COMPLEX64: 14, COMPLEX128: 15, BFLOAT16: 16,
} as const;

export const AttributeType = {
  UNDEFINED: 0, FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8, TENSORS: 9,
  GRAPHS: 10, SPARSE_TENSOR: 11, SPARSE_TENSORS: 12, TYPE_PROTO: 13, TYPE_PROTOS: 14,
} as const;

/** TensorProto.data_location: EXTERNAL means the data is in another file. */
export const DataLocation = { DEFAULT: 0, EXTERNAL: 1 } as const;

/** An enum value's name, for messages (the number itself when the table lacks it). */
export function enumName(table: Record<string, number>, value: number | undefined): string {
  return Object.keys(table).find((k) => table[k] === value) ?? String(value);
}

// Decoded messages have every repeated field (an array, maybe empty); scalar fields that were absent are undefined.
export interface ModelProto { irVersion?: number; opsetImport?: OperatorSetIdProto[]; producerName?: string; producerVersion?: string; domain?: string; modelVersion?: number; docString?: string; graph?: GraphProto; metadataProps?: StringStringEntryProto[] }
export interface OperatorSetIdProto { domain?: string; version?: number }
export interface StringStringEntryProto { key?: string; value?: string }
export interface GraphProto { node?: NodeProto[]; name?: string; initializer?: TensorProto[]; docString?: string; input?: ValueInfoProto[]; output?: ValueInfoProto[]; valueInfo?: ValueInfoProto[] }
export interface NodeProto { input?: string[]; output?: string[]; name?: string; opType?: string; attribute?: AttributeProto[]; docString?: string; domain?: string }
export interface AttributeProto { name?: string; f?: number; i?: number; s?: Uint8Array; t?: TensorProto; floats?: number[]; ints?: number[]; strings?: Uint8Array[]; tensors?: TensorProto[]; docString?: string; type?: number; refAttrName?: string }
export interface TensorProto { dims?: number[]; dataType?: number; floatData?: number[]; int32Data?: number[]; int64Data?: number[]; name?: string; rawData?: Uint8Array; doubleData?: number[]; docString?: string; externalData?: StringStringEntryProto[]; dataLocation?: number }
export interface ValueInfoProto { name?: string; type?: TypeProto; docString?: string }
export interface TypeProto { tensorType?: TypeProtoTensor; denotation?: string }
export interface TypeProtoTensor { elemType?: number; shape?: TensorShapeProto }
export interface TensorShapeProto { dim?: Dimension[] }
export interface Dimension { dimValue?: number; dimParam?: string; denotation?: string }

const StringStringEntry = schema([[1, "key", "string"], [2, "value", "string"]]);
const OperatorSetId = schema([[1, "domain", "string"], [2, "version", "int64"]]);
const Dim = schema([[1, "dimValue", "int64"], [2, "dimParam", "string"], [3, "denotation", "string"]]);
const TensorShape = schema([[1, "dim", () => Dim, "repeated"]]);
const TensorType = schema([[1, "elemType", "int32"], [2, "shape", () => TensorShape]]);
const Type = schema([[1, "tensorType", () => TensorType], [6, "denotation", "string"]]);
const ValueInfo = schema([[1, "name", "string"], [2, "type", () => Type], [3, "docString", "string"]]);
const Tensor = schema([
  [1, "dims", "int64", "repeated"], [2, "dataType", "int32"], [4, "floatData", "float", "repeated"],
  [5, "int32Data", "int32", "repeated"], [7, "int64Data", "int64", "repeated"], [8, "name", "string"],
  [9, "rawData", "bytes"], [10, "doubleData", "double", "repeated"], [12, "docString", "string"],
  [13, "externalData", () => StringStringEntry, "repeated"], [14, "dataLocation", "int32"],
]);
const Attribute = schema([
  [1, "name", "string"], [2, "f", "float"], [3, "i", "int64"], [4, "s", "bytes"], [5, "t", () => Tensor],
  [7, "floats", "float", "repeated"], [8, "ints", "int64", "repeated"], [9, "strings", "bytes", "repeated"],
  [10, "tensors", () => Tensor, "repeated"], [13, "docString", "string"], [20, "type", "int32"], [21, "refAttrName", "string"],
]);
const Node = schema([
  [1, "input", "string", "repeated"], [2, "output", "string", "repeated"], [3, "name", "string"], [4, "opType", "string"],
  [5, "attribute", () => Attribute, "repeated"], [6, "docString", "string"], [7, "domain", "string"],
]);
const Graph = schema([
  [1, "node", () => Node, "repeated"], [2, "name", "string"], [5, "initializer", () => Tensor, "repeated"],
  [10, "docString", "string"], [11, "input", () => ValueInfo, "repeated"], [12, "output", () => ValueInfo, "repeated"],
  [13, "valueInfo", () => ValueInfo, "repeated"],
]);
const Model = schema([
  [1, "irVersion", "int64"], [2, "producerName", "string"], [3, "producerVersion", "string"], [4, "domain", "string"],
  [5, "modelVersion", "int64"], [6, "docString", "string"], [7, "graph", () => Graph], [8, "opsetImport", () => OperatorSetId, "repeated"],
  [14, "metadataProps", () => StringStringEntry, "repeated"],
]);

/** Reads a ModelProto; malformed protobuf throws an Error saying where. */
export const decodeModel = (bytes: Uint8Array): ModelProto => decodeMessage<ModelProto>(bytes, Model);
export const encodeModel = (m: ModelProto): Uint8Array => encodeMessage(m, Model);
