/**
 * What every transport subpath (`./deno`, `./bun`, `./memory`) exports beside
 * its own `listen`, `connect` and transport: the transport contract's types,
 * the errors its connections reject with, and `startTls` (upgrading any
 * connection to TLS).
 *
 * @module
 */
export type * from "./types.ts";
export * from "./errors.ts";
export { WireframeBaseError } from "../error.ts";
export {
  startTls,
  type StartTlsClientOptions,
  type StartTlsOptions,
  type StartTlsServerOptions,
} from "./start_tls.ts";
