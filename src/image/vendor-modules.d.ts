// SPDX-License-Identifier: MIT
// The untyped codec packages we use: each is typed where it is imported (gif.ts), so these only
// declare that the modules exist.
declare module "omggif";
declare module "gifenc";
