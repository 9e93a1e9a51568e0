/**
 * TCP transport for Node.js, on `node:net`, and TLS on `node:tls` (with the
 * `tls` option).
 *
 * The readable is back-pressured (the socket is paused while the stream's
 * queue is full), `write()` resolves only once Node handed every byte to the
 * kernel, sockets get `TCP_NODELAY`, and half-close works both ways. It only
 * needs `node:net`, so it also loads on Deno and Bun, whose own transports
 * (`./deno`, `./bun`) are what the server picks there.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect, listen } from "@wireframe/wireframe/node";
 *
 * await using listener = await listen({ port: 0 }); // 127.0.0.1, a free port
 * const client = await connect({ port: listener.addr.port });
 * for await (const conn of listener) { // the server's end of `client`
 *   await conn.writable.getWriter().write(new TextEncoder().encode("hello"));
 *   conn.close(); // the bytes written are sent, then FIN
 *   break; // leaving the loop does not close the listener (`await using` does)
 * }
 * const text = await Array.fromAsync(client.readable.pipeThrough(new TextDecoderStream()));
 * assert.equal(text.join(""), "hello");
 * client.close();
 * ```
 *
 * @module
 */
import net from "node:net";
import tls from "node:tls";
import { connectError, listenError } from "./_runtime_errors.ts";
import { errorCode, errorMessage, NodeConnection } from "./_node_connection.ts";
import { parseConnect, type ParsedConnect, parseListen } from "./_options.ts";
import { TlsError } from "./errors.ts";
import { QueuedListener } from "./_queued_listener.ts";
import type {
  Connection,
  ConnectOptions,
  Listener,
  ListenOptions,
  NetAddr,
  Transport,
} from "./types.ts";

export * from "./_public.ts";

class NodeListener extends QueuedListener<NodeConnection> {
  readonly addr: NetAddr;
  readonly #server: net.Server;

  constructor(server: net.Server, addr: NetAddr) {
    super();
    this.#server = server;
    this.addr = addr;
    if (server instanceof tls.Server) {
      // After the handshake; a TLSSocket is a net.Socket. Nobody reads it yet: pause it, as
      // pauseOnConnect does for plain TCP (which would stall the handshake itself).
      server.on("secureConnection", (socket: tls.TLSSocket) => {
        socket.pause();
        this.accept(new NodeConnection(socket));
      });
      // A client that failed its handshake never becomes a connection.
      server.on("tlsClientError", (_err, socket: tls.TLSSocket) => socket.destroy());
    } else {
      server.on("connection", (socket: net.Socket) => this.accept(new NodeConnection(socket)));
    }
    // A failed accept (EMFILE...) is emitted here once listening; it is not
    // the listener's failure, and an unheard `error` would crash the process.
    server.on("error", () => {});
  }

  protected override stopAccepting(): void {
    // Stops accepting; sockets already accepted stay open.
    this.#server.close();
  }
}

/**
 * Listen for TCP connections.
 *
 * Node accepts eagerly; connections wait in a queue until iterated, each
 * holding at most one read-ahead buffer. Connections still queued when the
 * listener closes are closed, as the kernel does with its backlog.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect, listen } from "@wireframe/wireframe/node";
 *
 * const listener = await listen({ hostname: "127.0.0.1", port: 0 });
 * const serving = (async () => {
 *   for await (const conn of listener) conn.readable.pipeTo(conn.writable).catch(() => {}); // echo
 * })();
 *
 * const client = await connect({ port: listener.addr.port });
 * const writer = client.writable.getWriter();
 * await writer.write(new TextEncoder().encode("echo"));
 * await writer.close(); // FIN: the echo's pipe ends and half-closes back
 * const text = await Array.fromAsync(client.readable.pipeThrough(new TextDecoderStream()));
 * assert.equal(text.join(""), "echo");
 *
 * await listener.close(); // ends the `for await` loop
 * await serving;
 * ```
 */
export async function listen(options: ListenOptions): Promise<Listener> {
  const { hostname, port, reusePort, tls: identity } = parseListen("nodeTransport.listen", options);
  let server: net.Server;
  try {
    // pauseOnConnect: an accepted socket reads nothing until its readable pulls.
    server = identity === undefined
      ? net.createServer({ allowHalfOpen: true, pauseOnConnect: true })
      : tls.createServer({ allowHalfOpen: true, cert: identity.cert, key: identity.key });
  } catch (err) {
    throw new TlsError(
      `cannot listen with TLS: certificate or key refused (${errorMessage(err)})`,
      { cause: err },
    );
  }
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host: hostname, port, ...reusePort && { reusePort } }, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (err) {
    server.close();
    const failure = { hostname, port, cause: err, detail: errorMessage(err) };
    throw listenError(failure, errorCode(err) === "EADDRINUSE");
  }
  const bound = server.address() as net.AddressInfo;
  return new NodeListener(server, { transport: "tcp", hostname: bound.address, port: bound.port });
}

/**
 * Open a TCP connection.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect, ConnectionRefusedError, listen } from "@wireframe/wireframe/node";
 *
 * const listener = await listen({ port: 0 });
 * const { port } = listener.addr;
 * const conn = await connect({ hostname: "127.0.0.1", port });
 * assert.deepEqual(conn.remoteAddr, { transport: "tcp", hostname: "127.0.0.1", port });
 * conn.close();
 *
 * await listener.close();
 * await assert.rejects(connect({ hostname: "127.0.0.1", port }), ConnectionRefusedError);
 * ```
 */
export async function connect(options: ConnectOptions): Promise<Connection> {
  const { hostname, port, tls: trust } = parseConnect("nodeTransport.connect", options);
  if (trust !== undefined) return await connectTls(hostname, port, trust);
  const socket = net.connect({ host: hostname, port, allowHalfOpen: true });
  // Nobody reads before the connection wraps it: no `data` listener yet.
  socket.pause();
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.once("connect", () => {
        socket.off("error", reject);
        resolve();
      });
    });
  } catch (err) {
    socket.destroy();
    const failure = { hostname, port, cause: err, detail: errorMessage(err) };
    throw connectError(failure, errorCode(err) === "ECONNREFUSED");
  }
  return new NodeConnection(socket);
}

/** `tls.connect`, resolved once the server's certificate was checked. */
async function connectTls(
  hostname: string,
  port: number,
  trust: NonNullable<ParsedConnect["tls"]>,
): Promise<Connection> {
  const options: tls.ConnectionOptions & { allowHalfOpen: boolean } = {
    host: hostname,
    port,
    allowHalfOpen: true, // honoured by tls.connect, missing from its type
    ...trust.ca && { ca: trust.ca },
    // The name checked is serverName; it goes out as SNI unless it is an IP (RFC 6066).
    ...net.isIP(trust.serverName) === 0 && { servername: trust.serverName },
    checkServerIdentity: (_host, cert) => tls.checkServerIdentity(trust.serverName, cert),
  };
  const socket = tls.connect(options);
  socket.pause();
  let tcpConnected = false;
  socket.once("connect", () => (tcpConnected = true));
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.once("secureConnect", () => {
        socket.off("error", reject);
        resolve();
      });
    });
  } catch (err) {
    socket.destroy();
    if (tcpConnected) {
      throw new TlsError(`TLS handshake with ${trust.serverName} failed: ${errorMessage(err)}`, {
        cause: err,
      });
    }
    const failure = { hostname, port, cause: err, detail: errorMessage(err) };
    throw connectError(failure, errorCode(err) === "ECONNREFUSED");
  }
  return new NodeConnection(socket);
}

/**
 * The Node.js TCP {@link Transport}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { WireframeApp, WireframeClient, WireframeServer } from "@wireframe/wireframe";
 * import { nodeTransport } from "@wireframe/wireframe/node";
 *
 * // What the server and client pick by default on Node.js; any Transport fits here.
 * const app = new WireframeApp().route(1, (req) => req.payload);
 * await using server = new WireframeServer(app, { transport: nodeTransport });
 * const { port } = await server.listen({ port: 0 });
 * await using client = await WireframeClient.connect({ port, transport: nodeTransport });
 * assert.deepEqual((await client.request(1, Uint8Array.of(1))).payload, Uint8Array.of(1));
 * ```
 */
export const nodeTransport: Transport = { listen, connect };
