// SPDX-License-Identifier: MIT
// Regenerates src/model/formats/onnx_pb.ts, the ONNX protobuf schema as @bufbuild/protobuf code, from
// scripts/onnx/onnx.proto (ONNX 1.12's, Apache-2.0, as Debian's python3-onnx installs it). Needs protoc
// (Debian: apt-get install protobuf-compiler); the generated file is committed, so builds do not.
// Run: node scripts/gen-onnx-proto.mjs
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));
execFileSync("protoc", [
  `--plugin=protoc-gen-es=${root}node_modules/.bin/protoc-gen-es`,
  `--es_out=${root}src/model/formats`,
  "--es_opt=target=ts,import_extension=js",
  `--proto_path=${root}scripts/onnx`,
  "onnx.proto",
], { stdio: "inherit" });
console.log("wrote src/model/formats/onnx_pb.ts");
