// SPDX-License-Identifier: MIT
// The training API in one place (Node only: it reads folders, writes checkpoints and runs piscina),
// meant as the package's "./train" entry so browser bundles of the upscaler never pull it in.
export { train, validate, type TrainOptions, type TrainProgress, type TrainResult, type ValidationOptions } from "./trainer.js";
export { ARCHS, archName, buildNetwork, macsPerPixel, resolveArch, type ArchSpec, type ResidualMethod } from "./arch.js";
export { decodeCheckpoint, encodeCheckpoint, isCheckpoint, type Checkpoint } from "./checkpoint.js";
export { compileProgram, type LossKind } from "./program.js";
export { learningRate, type AdamOptions, type Schedule } from "./optim.js";
export type { Degradation, ImageSource } from "./data.js";
export { command as trainCommand, progressLine, trainOptionsFromFlags } from "./command.js";
