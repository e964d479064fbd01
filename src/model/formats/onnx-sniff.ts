// SPDX-License-Identifier: MIT
// Recognises an ONNX model from its first bytes without decoding it (the decoder, ./onnx.ts, loads the
// protobuf schema, which the format table imports only when an ONNX file is actually read).

/** ModelProto's fields and their wire types (0 varint, 2 length-delimited), as onnx.proto numbers them. */
const MODEL_FIELDS = new Map([[1, 0], [2, 2], [3, 2], [4, 2], [5, 0], [6, 2], [7, 2], [8, 2], [14, 2], [20, 2], [25, 2]]);

/**
 * True when the bytes start as ONNX writers write a model: ir_version (field 1, a small varint) first,
 * then another ModelProto field with its wire type.
 */
export function sniff(bytes: Uint8Array): boolean {
  if (bytes.length < 4 || bytes[0] !== 0x08 || bytes[1] < 1 || bytes[1] > 32) return false;
  const tag = bytes[2];
  return MODEL_FIELDS.get(tag >> 3) === (tag & 7) && tag >> 3 !== 1;
}
