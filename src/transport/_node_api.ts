/**
 * The slice of a `node:net` socket the Node connection uses, declared by
 * hand (as `_bun_api.ts` does for Bun): a module that names `node:net` types
 * makes a Deno app that type-checks us need `@types/node` in its own
 * `node_modules`, and every transport subpath reaches the Node connection
 * (`startTls` builds on it). A `net.Socket` or `tls.TLSSocket` fits.
 *
 * @module
 */

/** A connected `node:net` (or `node:tls`) socket. */
export interface NodeSocket {
  readonly localAddress?: string | undefined;
  readonly localPort?: number | undefined;
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
  /** Whether `end()` has flushed everything and sent FIN. */
  readonly writableFinished: boolean;
  setNoDelay(noDelay?: boolean): unknown;
  pause(): unknown;
  resume(): unknown;
  on(event: "data", listener: (data: Uint8Array) => void): unknown;
  on(event: "end" | "close", listener: () => void): unknown;
  on(event: "error", listener: (err: Error) => void): unknown;
  write(data: Uint8Array, callback: (err?: Error | null) => void): boolean;
  end(callback: () => void): unknown;
  destroy(): unknown;
}
