/**
 * Pick the TCP transport of the runtime we are running on.
 *
 * @module
 */
import { UnsupportedRuntimeError } from "./errors.ts";
import type { Transport } from "./types.ts";

export type { Transport };

/**
 * The TCP {@link Transport} for the current runtime: `denoTransport` on Deno,
 * `bunTransport` on Bun. The other runtime's module is never loaded.
 *
 * @throws {UnsupportedRuntimeError} (as a rejection) on any other runtime
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runtimeTransport } from "./runtime.ts"; // internal: the server's and client's default
 *
 * const transport = await runtimeTransport();
 * await using listener = await transport.listen({ port: 0 });
 * assert.equal(listener.addr.transport, "tcp");
 * ```
 */
export async function runtimeTransport(): Promise<Transport> {
  // Bun defines no `Deno` global and Deno no `Bun` global, so order is moot.
  if ("Deno" in globalThis) return (await import("./deno.ts")).denoTransport;
  if ("Bun" in globalThis) return (await import("./bun.ts")).bunTransport;
  throw new UnsupportedRuntimeError("no TCP transport for this runtime (need Deno or Bun)");
}
