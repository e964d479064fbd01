// SPDX-License-Identifier: MIT
// An ONNX file to our graph: the reader (./onnx.ts) and the converter (../families/onnx.ts) together, as
// the format table loads them on demand.
import { onnxGraph } from "../families/onnx.js";
import type { ValidatedGraph } from "../types.js";
import { decodeOnnx } from "./onnx.js";

export const decodeOnnxNetwork = (bytes: Uint8Array, label: string): ValidatedGraph => onnxGraph(decodeOnnx(bytes, label), label);
