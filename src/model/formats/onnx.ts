// SPDX-License-Identifier: MIT
// ONNX model files to plain data: the graph's nodes with their attributes, its inputs and outputs, and
// its initializers (and Constant nodes' tensors) decoded to float32 or integer arrays. The protobuf is
// read with onnx.proto's schema (./onnx-proto.ts); every element count is checked against the bytes
// before anything is copied. Weights stored outside the file (external data) are refused.
import { ModelFormatError } from "../../errors.js";
import { f16ToF32 } from "../float16.js";
import { AttributeType, DataLocation, DataType, decodeModel, type AttributeProto, type ModelProto, type TensorProto, type ValueInfoProto } from "./onnx-proto.js";
import { elementCount } from "./tensor.js";

/** A tensor: float types as float32 (`floats`), integer and bool types as numbers (`ints`, int64 clamped to ±2^53). */
export interface OnnxTensor {
  readonly dims: readonly number[];
  readonly floats?: Float32Array;
  readonly ints?: readonly number[];
}

export type OnnxAttribute = number | string | readonly number[] | OnnxTensor | { readonly unsupported: string };

export interface OnnxNode {
  readonly name: string;
  readonly opType: string;
  readonly domain: string;
  /** Input names; "" is an omitted optional input. */
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attrs: ReadonlyMap<string, OnnxAttribute>;
}

export interface OnnxModel {
  /** The default domain's operator set. */
  readonly opset: number;
  readonly producer: string;
  /** Graph inputs that are not initializers, with their dims (a name for a symbolic one). */
  readonly inputs: readonly { name: string; dims: readonly (number | string)[] }[];
  readonly outputs: readonly string[];
  readonly initializers: ReadonlyMap<string, OnnxTensor>;
  readonly nodes: readonly OnnxNode[];
}

/** Decodes an ONNX model; anything malformed is a ModelFormatError starting with `label`. */
export function decodeOnnx(bytes: Uint8Array, label = "bytes"): OnnxModel {
  const fail = (what: string) => new ModelFormatError(`ONNX file ${label}: ${what}`);
  let model: ModelProto;
  try {
    model = decodeModel(bytes);
  } catch (cause) {
    throw new ModelFormatError(`ONNX file ${label}: not a valid ONNX protobuf (${(cause as Error).message}; truncated or corrupt?)`, { cause });
  }
  const graph = model.graph;
  if (!graph) throw fail("the model has no graph");
  const opset = model.opsetImport.find((o) => !o.domain || o.domain === "ai.onnx");
  if (!opset) throw fail("the model imports no operator set of the default ONNX domain");
  const initializers = new Map<string, OnnxTensor>();
  for (const t of graph.initializer) initializers.set(t.name, tensor(t, fail));
  const nodes = graph.node.map((n, i): OnnxNode => {
    const name = n.name || `#${i}`;
    const attrs = new Map<string, OnnxAttribute>();
    for (const a of n.attribute) attrs.set(a.name, attribute(a, (what) => fail(`node '${name}' (${n.opType}), attribute ${a.name}: ${what}`)));
    return { name, opType: n.opType, domain: n.domain, inputs: n.input, outputs: n.output, attrs };
  });
  const inputs = graph.input.filter((v) => !initializers.has(v.name)).map((v) => ({ name: v.name, dims: valueDims(v) }));
  return { opset: Number(opset.version), producer: model.producerName, inputs, outputs: graph.output.map((o) => o.name), initializers, nodes };
}

/** A value's tensor dimensions: sizes, symbolic names, and "?" where neither is set. */
function valueDims(v: ValueInfoProto): (number | string)[] {
  const shape = v.type?.value.case === "tensorType" ? v.type.value.value.shape : undefined;
  return (shape?.dim ?? []).map(({ value: d }) => (d.case === "dimParam" ? d.value : d.case === "dimValue" ? Number(d.value) : "?"));
}

function attribute(a: AttributeProto, fail: (what: string) => Error): OnnxAttribute {
  switch (a.type) {
    case AttributeType.FLOAT: return a.f;
    case AttributeType.INT: return clampSafe(Number(a.i));
    case AttributeType.STRING: return new TextDecoder().decode(a.s);
    case AttributeType.FLOATS: return a.floats;
    case AttributeType.INTS: return a.ints.map((v) => clampSafe(Number(v)));
    case AttributeType.TENSOR: return a.t ? tensor(a.t, fail) : { unsupported: "TENSOR without a tensor" };
    default: return { unsupported: AttributeType[a.type] ?? String(a.type) };
  }
}

const INT_TYPES: Partial<Record<number, number>> = { [DataType.INT64]: 8, [DataType.INT32]: 4, [DataType.INT16]: 2, [DataType.INT8]: 1, [DataType.UINT8]: 1, [DataType.BOOL]: 1 };

/** A TensorProto's elements, from raw_data or the typed fields, checked against its dims. */
function tensor(t: TensorProto, fail: (what: string) => Error): OnnxTensor {
  const name = t.name ? `tensor '${t.name}'` : "a tensor";
  if (t.dataLocation === DataLocation.EXTERNAL) throw fail(`${name} is stored outside the file (external data); save the model with every tensor inside it`);
  const dims = t.dims.map(Number);
  const count = elementCount(dims);
  if (count < 0 || count > 2 ** 31) throw fail(`${name} has dimensions [${dims}]`);
  const raw = t.rawData.length > 0 ? t.rawData : undefined;
  const check = (have: number, unit = "values") => {
    if (have !== count) throw fail(`${name} has ${have} ${unit} for dimensions [${dims}] (${count}; truncated or corrupt)`);
  };
  const view = (size: number) => {
    check(raw!.length / size, `${size}-byte elements`);
    return new DataView(raw!.buffer, raw!.byteOffset, raw!.byteLength);
  };
  switch (t.dataType) {
    case DataType.FLOAT: {
      if (!raw) { check(t.floatData.length); return { dims, floats: Float32Array.from(t.floatData) }; }
      const dv = view(4);
      return { dims, floats: Float32Array.from({ length: count }, (_, i) => dv.getFloat32(4 * i, true)) };
    }
    case DataType.FLOAT16: {
      if (!raw) { check(t.int32Data.length); return { dims, floats: f16ToF32(Uint16Array.from(t.int32Data)) }; }
      const dv = view(2);
      return { dims, floats: f16ToF32(Uint16Array.from({ length: count }, (_, i) => dv.getUint16(2 * i, true))) };
    }
    case DataType.DOUBLE: {
      if (!raw) { check(t.doubleData.length); return { dims, floats: Float32Array.from(t.doubleData) }; }
      const dv = view(8);
      return { dims, floats: Float32Array.from({ length: count }, (_, i) => dv.getFloat64(8 * i, true)) };
    }
  }
  const size = INT_TYPES[t.dataType];
  if (size === undefined) throw fail(`${name} has element type ${DataType[t.dataType] ?? t.dataType}; float, float16, double and integer tensors are supported`);
  if (!raw) {
    const typed = t.dataType === DataType.INT64 ? t.int64Data.map(Number) : t.int32Data;
    check(typed.length);
    return { dims, ints: typed.map(clampSafe) };
  }
  const dv = view(size);
  const read = (i: number): number => {
    switch (t.dataType) {
      case DataType.INT64: return clampSafe(Number(dv.getBigInt64(8 * i, true)));
      case DataType.INT32: return dv.getInt32(4 * i, true);
      case DataType.INT16: return dv.getInt16(2 * i, true);
      case DataType.INT8: return dv.getInt8(i);
      default: return dv.getUint8(i);
    }
  };
  return { dims, ints: Array.from({ length: count }, (_, i) => read(i)) };
}

/** int64 sentinels (INT64_MAX as a Slice end) as the nearest safe integer; every real size is far below. */
const clampSafe = (v: number) => Math.max(-Number.MAX_SAFE_INTEGER, Math.min(Number.MAX_SAFE_INTEGER, v));
