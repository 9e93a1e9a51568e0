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

/** A `node:stream` Duplex, as `startTls` builds one over a connection's streams. */
export interface NodeDuplex {
  push(chunk: Uint8Array | null): boolean;
  destroy(err?: Error): unknown;
  once(event: "close", listener: () => void): unknown;
}

/** The callback a Duplex's `write`, `final` and `destroy` report through. */
type Done = (err?: Error | null) => void;

/** The options of `new Duplex()` that `startTls` passes. */
export interface NodeDuplexOptions {
  allowHalfOpen: boolean;
  read(this: NodeDuplex): void;
  write(this: NodeDuplex, chunk: Uint8Array, encoding: string, callback: Done): void;
  final(this: NodeDuplex, callback: Done): void;
  destroy(this: NodeDuplex, err: Error | null, callback: Done): void;
}

/** The slice of `node:stream`. */
export interface NodeStreamModule {
  Duplex: new (options: NodeDuplexOptions) => NodeDuplex;
}

/** A `node:tls` socket, with the events a handshake is waited on by. */
export interface NodeTlsSocket extends NodeSocket {
  once(event: "error", listener: (err: Error) => void): unknown;
  once(event: "secure" | "secureConnect", listener: () => void): unknown;
  off(event: "error", listener: (err: Error) => void): unknown;
}

/** The slice of `node:tls`. */
export interface NodeTlsModule {
  TLSSocket: new (
    socket: NodeDuplex,
    options: { isServer: true; secureContext: unknown },
  ) => NodeTlsSocket;
  createSecureContext(options: { cert: string; key: string }): unknown;
  connect(options: {
    socket: NodeDuplex;
    ca?: string | string[];
    servername?: string;
    checkServerIdentity(host: string, cert: unknown): Error | undefined;
  }): NodeTlsSocket;
  checkServerIdentity(hostname: string, cert: unknown): Error | undefined;
}

/**
 * Load a built-in module by a specifier the type checker does not follow
 * (see the module doc); its type is the slice declared here.
 */
export function builtin<T>(name: "node:tls" | "node:stream"): Promise<T> {
  const specifier: string = name;
  return import(specifier);
}
