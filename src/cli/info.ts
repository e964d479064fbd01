// SPDX-License-Identifier: MIT
// `srgan info MODEL`: what a network is (scale, size, context it reads, its ops), for built-in names
// and files alike; --json for scripts.
import type { ValidatedGraph } from "../model/types.js";
import { BUILTIN_NAMES } from "../model/builtin.js";
import { formatNames } from "../model/network-formats.js";
import { convMacsPerPixel } from "../model/graph.js";
import { intFlag, parse, type Command } from "./args.js";
import { loadModel } from "./io.js";

export const command: Command = {
  help: `Usage: srgan info MODEL [options]

Describes the network MODEL: a built-in name (${BUILTIN_NAMES.join(", ")}) or a network file
(${formatNames()}). Prints its name, family, scale, parameter count, multiply-adds per
input pixel, receptive radius (input pixels of context each output pixel reads, per side), the
border it sees past the image, and its ops in execution order.

Options:
  -s, --scale N           the scale to describe it at: picks a built-in's, and makes a ×1 waifu2x JSON
                          network ×N (it then runs on the input enlarged by nearest neighbour)
      --json              print the same as one JSON object
  -h, --help              show this help

Example:
  srgan info models/natural.rsr`,

  async run(argv, ctx) {
    const { values, args: [model] } = parse("info", argv, { json: { type: "boolean" }, scale: { type: "string", short: "s" } }, ["MODEL"]);
    const { graph, source, fileBytes } = await loadModel(model, intFlag("info", "scale", values.scale, 1, 8));
    const family = typeof graph.meta?.family === "string" ? graph.meta.family : undefined;
    if (values.json) {
      ctx.out(JSON.stringify({
        name: graph.name, family: family ?? null, source, fileBytes, scale: graph.scale, channels: graph.channels ?? 3, parameters: graph.parameterCount,
        inputPad: graph.inputPad ?? null, align: graph.align ?? 1,
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
      ...(family ? [`family:           ${family}`] : []),
      `scale:            ×${graph.scale}`,
      `parameters:       ${graph.parameterCount.toLocaleString("en-US")}`,
      `multiply-adds:    ${Math.round(convMacsPerPixel(graph)).toLocaleString("en-US")} per input pixel (the convolutions)`,
      `receptive radius: ${graph.global ? "∞ (whole-image statistics, computed over the whole image; images too large to hold whole run in stages)" : `${graph.receptiveRadius} input pixels per side`}`,
      ...(graph.inputPad ? [`border:           ${graph.inputPad.size} pixels per side, ${graph.inputPad.mode === "edge" ? "edges repeated" : graph.inputPad.mode === "reflect" ? "reflected (reflect-101)" : "zero"}${(graph.align ?? 1) > 1 ? `; sides rounded up to a multiple of ${graph.align}` : ""}`] : []),
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
