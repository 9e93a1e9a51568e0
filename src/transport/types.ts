/**
 * The transport contract: a byte-stream connection, a listener that yields
 * them, and a transport that makes both. The server and client are written
 * against these interfaces only, so Deno, Bun and the in-memory transport are
 * interchangeable.
 *
 * @module
 */

/** The address of one end of a connection, or of a listener. */
export interface NetAddr {
  /** `"tcp"` for the Deno and Bun transports, `"memory"` for the in-memory one. */
  transport: "tcp" | "memory";
  /** Host name or IP address, e.g. `"127.0.0.1"`. */
  hostname: string;
  /** Port number; for a listener bound to port 0, the port actually picked. */
  port: number;
}

/**
 * One full-duplex byte-stream connection.
 *
 * - `readable` yields the bytes the peer sent, in order. It ends (`done`) when
 *   the peer half-closes its side, errors with `ConnectionResetError` when the
 *   peer resets the connection and with `ConnectionClosedError` after a local
 *   {@link Connection.close}. Reading is back-pressured: a reader that stops
 *   reading stops the peer's writes once the buffers in between are full.
 * - `writable` sends bytes. `write()` resolves once the bytes were accepted by
 *   the socket (or the peer's buffer, in memory), not when the peer read them.
 *   From then on the transport keeps no reference to the chunk (the writer
 *   may reuse its buffer), so a transport that must hold bytes longer copies
 *   them.
 *   `writable.close()` half-closes (sends FIN) while reading carries on;
 *   aborting the writable closes the whole connection.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { memoryPair } from "@wireframe/wireframe/memory";
 *
 * const [conn, peer] = memoryPair(); // the same semantics as a TCP connection
 * const writer = conn.writable.getWriter();
 * await writer.write(new TextEncoder().encode("ping"));
 * await writer.close(); // FIN: the peer's readable ends, ours stays open
 * assert.deepEqual(await Array.fromAsync(peer.readable), [new TextEncoder().encode("ping")]);
 *
 * const reply = peer.writable.getWriter();
 * await reply.write(new TextEncoder().encode("pong"));
 * await reply.close();
 * assert.deepEqual(await Array.fromAsync(conn.readable), [new TextEncoder().encode("pong")]);
 * await conn.closed; // both directions ended
 * ```
 */
export interface Connection {
  /** Bytes from the peer. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Bytes to the peer; `close()` half-closes. */
  readonly writable: WritableStream<Uint8Array>;
  /** This end's address. */
  readonly localAddr: NetAddr;
  /** The peer's address. */
  readonly remoteAddr: NetAddr;
  /**
   * Close both directions now. Pending and later reads and writes reject
   * with `ConnectionClosedError`; bytes not yet accepted by the socket are
   * dropped. Idempotent.
   */
  close(): void;
  /**
   * Resolves once the connection is fully closed: after {@link close}, after
   * a reset, or once both directions have ended. Never rejects.
   */
  readonly closed: Promise<void>;
  /**
   * True if the transport holds no reference to a chunk once its `write()`
   * has resolved (the bytes went to the kernel, or into a buffer of the
   * runtime's own; the memory transport copies it into its pipe), so a
   * writer may reuse the buffer for its next write. A transport that hands
   * chunks on (to a peer's readable, say) leaves it unset: the default is that
   * chunks are kept.
   */
  readonly releasesWrittenChunks?: boolean;
}

/**
 * Accepts connections. Iterate it to receive them; iteration ends only when
 * the listener is closed (a peer that leaves before its connection is accepted
 * is skipped, not reported).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect, listen } from "@wireframe/wireframe/memory";
 *
 * await using listener = await listen({ port: 0 });
 * assert.notEqual(listener.addr.port, 0); // the port it picked
 * const serving = (async () => {
 *   for await (const conn of listener) {
 *     conn.readable.pipeTo(conn.writable).catch(() => conn.close()); // echo
 *   }
 * })(); // ends when the listener closes
 *
 * const client = await connect({ port: listener.addr.port });
 * const writer = client.writable.getWriter();
 * await writer.write(Uint8Array.of(1, 2, 3));
 * await writer.close();
 * assert.deepEqual(await Array.fromAsync(client.readable), [Uint8Array.of(1, 2, 3)]);
 * await listener.close();
 * await serving;
 * ```
 */
export interface Listener extends AsyncIterable<Connection> {
  /** The bound address (with the real port when 0 was asked for). */
  readonly addr: NetAddr;
  /**
   * Stop accepting and end iteration. Connections already yielded stay open.
   * Idempotent.
   */
  close(): Promise<void>;
  /** Same as {@link Listener.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * A TLS server's identity: its certificate chain and private key, both PEM
 * text (`-----BEGIN CERTIFICATE-----...`, `-----BEGIN PRIVATE KEY-----...`;
 * RSA, EC and PKCS#8 keys). The leaf certificate comes first in `cert`.
 */
export interface TlsListenOptions {
  /** Certificate chain, PEM. */
  cert: string;
  /** Private key, PEM. */
  key: string;
}

/**
 * How a TLS client checks the server. The server's certificate must chain
 * to `ca` (or, without `ca`, to the runtime's default roots) and name
 * `serverName` (default: the `hostname` connected to); otherwise the connect
 * rejects with `TlsError`.
 */
export interface TlsConnectOptions {
  /** Trusted CA certificates, PEM (one string may hold several). */
  ca?: string | readonly string[];
  /** The name the certificate must carry, also sent as SNI; default the hostname. */
  serverName?: string;
}

/** Options for {@link Transport.listen}. */
export interface ListenOptions {
  /** Interface to bind; defaults to `"127.0.0.1"`. */
  hostname?: string;
  /** Port to bind, 0 to let the system pick a free one. */
  port: number;
  /**
   * Serve TLS only, with this certificate and key (TCP transports; the
   * in-memory transport rejects it with `ConfigError`).
   */
  tls?: TlsListenOptions;
  /**
   * Set `SO_REUSEPORT`, so several processes can listen on the same address
   * and port and the kernel spreads new connections over them (Linux; see
   * docs/guides/scaling.md). Deno needs `--unstable-net` for it (without,
   * the listen rejects with `UnsupportedRuntimeError`); the in-memory
   * transport rejects it with `ConfigError`. Default `false`.
   */
  reusePort?: boolean;
}

/** Options for {@link Transport.connect}. */
export interface ConnectOptions {
  /** Host to connect to; defaults to `"127.0.0.1"`. */
  hostname?: string;
  /** Port to connect to. */
  port: number;
  /**
   * Speak TLS; `connect()` resolves once the handshake succeeded (TCP
   * transports; the in-memory transport rejects it with `ConfigError`).
   */
  tls?: TlsConnectOptions;
}

/**
 * Makes listeners and outgoing connections. One per runtime (`denoTransport`,
 * `bunTransport`) plus `memoryTransport` for tests.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { Transport } from "@wireframe/wireframe";
 * import { memoryTransport } from "@wireframe/wireframe/memory";
 *
 * // Written against `Transport`, so it runs on any: memory here, TCP (`denoTransport`, `bunTransport`).
 * async function echoOnce(transport: Transport, text: string): Promise<string> {
 *   await using listener = await transport.listen({ port: 0 });
 *   const client = await transport.connect({ port: listener.addr.port });
 *   for await (const conn of listener) {
 *     conn.readable.pipeTo(conn.writable).catch(() => conn.close()); // echo
 *     break;
 *   }
 *   const writer = client.writable.getWriter();
 *   await writer.write(new TextEncoder().encode(text));
 *   await writer.close();
 *   const echoed = await Array.fromAsync(client.readable.pipeThrough(new TextDecoderStream()));
 *   return echoed.join("");
 * }
 * assert.equal(await echoOnce(memoryTransport, "over any transport"), "over any transport");
 * ```
 */
export interface Transport {
  /** Bind and start listening. Rejects with a `TransportError` (e.g. `AddressInUseError`). */
  listen(options: ListenOptions): Promise<Listener>;
  /** Open a connection. Rejects with `ConnectionRefusedError` when nobody listens. */
  connect(options: ConnectOptions): Promise<Connection>;
}

/**
 * A connection of the WebSocket transport (`./websocket`): a
 * {@link Connection} that also says which subprotocol the handshake agreed on.
 */
export interface WebSocketConnection extends Connection {
  /** The subprotocol (`Sec-WebSocket-Protocol`) agreed on, `""` for none. */
  readonly protocol: string;
}
