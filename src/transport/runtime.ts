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
 * `bunTransport` on Bun, `nodeTransport` on Node.js. The other runtimes'
 * modules are never loaded.
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
  // Bun defines no `Deno` global and Deno no `Bun` global, so their order is
  // moot; both also define `process.versions.node`, so Node.js comes last.
  if ("Deno" in globalThis) return (await import("./deno.ts")).denoTransport;
  if ("Bun" in globalThis) return (await import("./bun.ts")).bunTransport;
  if (isNode()) {
    // Not a literal: a Deno app type-checking us would follow a literal import into node.ts and
    // need node:net's types (@types/node) in its own node_modules, for a module it never loads.
    const node: { nodeTransport: Transport } = await import(NODE_TRANSPORT);
    return node.nodeTransport;
  }
  throw new UnsupportedRuntimeError(
    "no TCP transport for this runtime (need Deno, Bun or Node.js)",
  );
}

/** The Node.js transport's module, relative to this one. */
const NODE_TRANSPORT = "./node.ts";

/** Whether this is Node.js (checked after Deno and Bun, which mimic it). */
function isNode(): boolean {
  const process = (globalThis as { process?: { versions?: { node?: unknown } } }).process;
  return typeof process?.versions?.node === "string";
}
