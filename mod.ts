/**
 * Wireframe: build servers and clients for custom binary protocols over TCP,
 * on Deno and Bun, with WHATWG streams.
 *
 * @module
 */
export { ConfigError, WireframeBaseError } from "./src/error.ts";
