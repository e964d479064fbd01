// SPDX-License-Identifier: MIT
// `srgan info MODEL`: what a network is (scale, size, context it reads, its ops), for built-in names
// and files alike; --json for scripts.
import type { ValidatedGraph } from "../model/types.js";
import { BUILTIN_NAMES } from "../model/builtin.js";
import { formatNames } from "../model/network-formats.js";
import { convMacsPerPixel } from "../model/graph.js";
import { parse, type Command } from "./args.js";
import { loadModel } from "./io.js";

export const command: Command = {
  help: `Usage: srgan info MODEL [options]

Describes the network MODEL: a built-in name (${BUILTIN_NAMES.join(", ")}) or a network file
(${formatNames()}). Prints its name, scale, parameter count, receptive radius (input
pixels of context each output pixel reads, per side) and its ops in execution order.

Options:
      --json              print the same as one JSON object
  -h, --help              show this help

Example:
  srgan info models/natural.rsr`,

  async run(argv, ctx) {
    const { values, args: [model] } = parse("info", argv, { json: { type: "boolean" } }, ["MODEL"]);
    const { graph, source, fileBytes } = await loadModel(model);
    if (values.json) {
      ctx.out(JSON.stringify({
        name: graph.name, source, fileBytes, scale: graph.scale, channels: graph.channels ?? 3, parameters: graph.parameterCount,
        multiplyAddsPerInputPixel: convMacsPerPixel(graph),
        receptiveRadius: graph.global ? null : graph.receptiveRadius, global: graph.global,
        ops: graph.nodes.map((n) => ({ op: n.op, inputs: n.inputs, output: n.output, attrs: n.attrs, weights: weightShapes(graph, n.weights) })),
        meta: graph.meta ?? {},
      }, null, 2));
      return;
    }
    const counts = new Map<string, number>();
    for (const n of graph.nodes) counts.set(n.op, (counts.get(n.op) ?? 0) + 1);
    const description = typeof graph.meta?.description === "string" ? graph.meta.description : undefined;
    const lines = [
      `name:             ${graph.name}`,
      `source:           ${source}${fileBytes ? ` (${fileBytes} bytes)` : ""}`,
      ...(description ? [`description:      ${description}`] : []),
      `scale:            ×${graph.scale}`,
      `parameters:       ${graph.parameterCount.toLocaleString("en-US")}`,
      `multiply-adds:    ${convMacsPerPixel(graph).toLocaleString("en-US")} per input pixel (the convolutions)`,
      `receptive radius: ${graph.global ? "∞ (reads whole-image statistics: tiles change the result slightly)" : `${graph.receptiveRadius} input pixels per side`}`,
      `ops:              ${[...counts].map(([op, n]) => `${op} ×${n}`).join(", ")}`,
      "",
      ...graph.nodes.map((n, i) => {
        const attrs = Object.entries(n.attrs ?? {}).map(([k, v]) => `${k}=${typeof v === "object" ? JSON.stringify(v) : String(v)}`).join(" ");
        const weights = Object.entries(weightShapes(graph, n.weights)).map(([role, shape]) => `${role}[${shape.join("×")}]`).join(" ");
        return `  ${String(i).padStart(3)}  ${n.op.padEnd(12)} ${`${n.inputs.join(",")} → ${n.output}`.padEnd(18)} ${attrs}${weights ? `  ${weights}` : ""}`;
      }),
    ];
    ctx.out(lines.join("\n"));
  },
};

function weightShapes(g: ValidatedGraph, roles: Record<string, string>): Record<string, number[]> {
  return Object.fromEntries(Object.entries(roles ?? {}).map(([role, name]) => [role, g.weights[name]?.shape ?? []]));
}
