/**
 * What every transport subpath (`./deno`, `./bun`, `./memory`) exports beside
 * its own `listen`, `connect` and transport: the transport contract's types
 * and the errors its connections reject with.
 *
 * @module
 */
export type * from "./types.ts";
export * from "./errors.ts";
export { WireframeBaseError } from "../error.ts";
