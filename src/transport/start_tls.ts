/**
 * `startTls()`: turn a live connection into a TLS one (STARTTLS, MySQL's
 * SSLRequest, PostgreSQL's SSLRequest), on any {@link Connection} of any
 * transport, as server or as client.
 *
 * It runs `node:tls` over the connection's own streams (a `TLSSocket` over
 * a `Duplex`), which works alike on Deno, Bun and Node.js: the runtimes'
 * native upgrades do not all exist (Deno has no server-side `startTls`; Bun's
 * `upgradeTLS` cannot be handed bytes already read), and none of them
 * applies to a connection that is not a raw socket. The cost is a copy and a
 * stream hop per chunk each way, on connections that upgrade only.
 *
 * @module
 */
import {
  builtin,
  type NodeStreamModule,
  type NodeTlsModule,
  type NodeTlsSocket,
} from "./_node_api.ts";
import { errorMessage, NodeConnection } from "./_node_connection.ts";
import { TlsError } from "./errors.ts";
import type { Connection, NetAddr, TlsConnectOptions, TlsListenOptions } from "./types.ts";

/** The TLS server side of an upgrade: this certificate and key. */
export interface StartTlsServerOptions extends TlsListenOptions {
  /** `"server"`: we answer the peer's ClientHello. */
  role: "server";
  /**
   * Bytes already read from `conn` that belong to the TLS stream (a client
   * that sent its ClientHello right after its request, as MySQL clients
   * do): they are fed to TLS before anything else is read.
   */
  buffered?: Uint8Array;
}

/** The TLS client side of an upgrade: how to check the server. */
export interface StartTlsClientOptions extends TlsConnectOptions {
  /** `"client"`: we send the ClientHello. */
  role: "client";
  /** Bytes already read from `conn` that belong to the TLS stream. */
  buffered?: Uint8Array;
}

/** Options of {@link startTls}. */
export type StartTlsOptions = StartTlsServerOptions | StartTlsClientOptions;

/**
 * Run a TLS handshake over `conn` and resolve with a connection that reads
 * and writes through TLS, once the handshake succeeded (rejects with
 * {@link TlsError}, and closes `conn`, if it failed). `conn`'s streams are
 * taken (locked) for good: use only the returned connection from then on;
 * its `close()` closes `conn`, its addresses are `conn`'s.
 *
 * The upgrade point is the protocol's business: the server calls this after
 * writing its "go ahead" (SMTP's `220`), the client after reading it. Bytes
 * read past that point belong to TLS and go in `buffered`.

 *
 * `tests/transport/start_tls.test.ts` shows both sides: an SMTP-style
 * server upgraded with `openssl s_client -starttls smtp` as the client, our
 * client upgrading against it, and a ClientHello that arrived with the
 * request (`buffered`).
 */
export async function startTls(conn: Connection, options: StartTlsOptions): Promise<Connection> {
  // Loaded by name, typed by hand (_node_api.ts): a literal `node:` import would make a Deno app
  // that type-checks any transport subpath need @types/node in its own node_modules.
  const tls = await builtin<NodeTlsModule>("node:tls");
  const { Duplex } = await builtin<NodeStreamModule>("node:stream");
  const reader = conn.readable.getReader();
  const writer = conn.writable.getWriter();
  let buffered = options.buffered?.byteLength ? options.buffered : undefined;
  const duplex = new Duplex({
    allowHalfOpen: true,
    read() {
      if (buffered !== undefined) {
        const first = buffered;
        buffered = undefined;
        this.push(first);
        return;
      }
      reader.read().then(
        ({ value, done }) => void this.push(done ? null : value),
        (err: unknown) => this.destroy(err as Error),
      );
    },
    write(chunk: Uint8Array, _encoding, callback) {
      writer.write(new Uint8Array(chunk)).then(() => callback(), callback);
    },
    final(callback) {
      writer.close().then(() => callback(), callback);
    },
    destroy(err, callback) {
      conn.close();
      callback(err);
    },
  });
  const socket = options.role === "server"
    ? new tls.TLSSocket(duplex, {
      isServer: true,
      secureContext: tls.createSecureContext({ cert: options.cert, key: options.key }),
    })
    : tls.connect({
      socket: duplex,
      ...options.ca !== undefined && {
        ca: typeof options.ca === "string" ? options.ca : [...options.ca],
      },
      ...options.serverName !== undefined && { servername: options.serverName },
      checkServerIdentity: (host, cert) =>
        tls.checkServerIdentity(options.serverName ?? conn.remoteAddr.hostname ?? host, cert),
    });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      // The connection below going away (the peer gave up) fails the handshake too.
      duplex.once("close", () => reject(new Error("the connection closed during the handshake")));
      socket.once(options.role === "server" ? "secure" : "secureConnect", () => {
        socket.off("error", reject);
        resolve();
      });
    });
  } catch (err) {
    socket.destroy();
    conn.close();
    throw new TlsError(`TLS upgrade failed: ${errorMessage(err)}`, { cause: err });
  }
  socket.pause();
  return new UpgradedConnection(socket, conn.localAddr, conn.remoteAddr);
}

/** A {@link NodeConnection} over the TLS socket, with the addresses of the connection below. */
class UpgradedConnection extends NodeConnection {
  override readonly localAddr: NetAddr;
  override readonly remoteAddr: NetAddr;

  constructor(socket: NodeTlsSocket, local: NetAddr, remote: NetAddr) {
    super(socket);
    this.localAddr = local;
    this.remoteAddr = remote;
  }
}
