/**
 * TCP transport for Bun, on the handler-based `Bun.listen` / `Bun.connect`.
 *
 * The readable is back-pressured (the socket is paused while the stream's
 * queue is full), `write()` resolves only once every byte was taken by the
 * kernel, sockets get `TCP_NODELAY`, and half-close works both ways.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect, listen } from "@wireframe/wireframe/bun";
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
import { AcceptQueue } from "./_accept_queue.ts";
import { bunApi, type BunSocket, type BunTcpServer, errorCode } from "./_bun_api.ts";
import { BunConnection, bunHandlers } from "./_bun_connection.ts";
import { parseConnect, parseListen } from "./_options.ts";
import { AddressInUseError, ConnectionRefusedError, TransportError } from "./errors.ts";
import type {
  Connection,
  ConnectOptions,
  Listener,
  ListenOptions,
  NetAddr,
  Transport,
} from "./types.ts";

export type { Connection, ConnectOptions, Listener, ListenOptions, NetAddr, Transport };
export * from "./errors.ts";
export { WireframeBaseError } from "../error.ts";

class BunListener implements Listener {
  readonly addr: NetAddr;
  readonly #server: BunTcpServer;
  readonly #queue: AcceptQueue<BunConnection>;

  constructor(server: BunTcpServer, queue: AcceptQueue<BunConnection>) {
    this.#server = server;
    this.#queue = queue;
    this.addr = { transport: "tcp", hostname: server.hostname, port: server.port };
  }

  [Symbol.asyncIterator](): AsyncIterator<Connection> {
    return this.#queue[Symbol.asyncIterator]();
  }

  close(): Promise<void> {
    if (!this.#queue.closed) {
      // stop(false): stop accepting, leave accepted sockets alone.
      this.#server.stop(false);
      this.#queue.close();
    }
    return Promise.resolve();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Listen for TCP connections.
 *
 * Bun accepts eagerly; connections wait in a queue until iterated, each
 * holding at most one read-ahead buffer. Connections still queued when the
 * listener closes are closed, as the kernel does with its backlog.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect, listen } from "@wireframe/wireframe/bun";
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
export function listen(options: ListenOptions): Promise<Listener> {
  try {
    return Promise.resolve(listenNow(options));
  } catch (err) {
    return Promise.reject(err);
  }
}

function listenNow(options: ListenOptions): Listener {
  const { hostname, port } = parseListen("bunTransport.listen", options);
  const bun = bunApi();
  const queue = new AcceptQueue<BunConnection>({
    isDead: (conn) => conn.isReset,
    discard: (conn) => conn.close(),
  });
  let server: BunTcpServer;
  try {
    server = bun.listen({
      hostname,
      port,
      allowHalfOpen: true,
      socket: bunHandlers((conn) => queue.push(conn)),
    });
  } catch (err) {
    const where = `${hostname}:${port}`;
    if (errorCode(err) === "EADDRINUSE") {
      throw new AddressInUseError(`cannot listen on ${where}: address in use`, { cause: err });
    }
    const detail = err instanceof Error ? err.message : String(err);
    throw new TransportError("ERR_LISTEN", `cannot listen on ${where}: ${detail}`, { cause: err });
  }
  return new BunListener(server, queue);
}

/**
 * Open a TCP connection.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect, ConnectionRefusedError, listen } from "@wireframe/wireframe/bun";
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
  const { hostname, port } = parseConnect("bunTransport.connect", options);
  const bun = bunApi();
  let socket: BunSocket<BunConnection>;
  try {
    socket = await bun.connect({
      hostname,
      port,
      allowHalfOpen: true,
      socket: bunHandlers(() => {}),
    });
  } catch (err) {
    const where = `${hostname}:${port}`;
    if (errorCode(err) === "ECONNREFUSED") {
      throw new ConnectionRefusedError(`cannot connect to ${where}: connection refused`, {
        cause: err,
      });
    }
    const detail = err instanceof Error ? err.message : String(err);
    throw new TransportError("ERR_CONNECT", `cannot connect to ${where}: ${detail}`, {
      cause: err,
    });
  }
  // `open` runs before Bun.connect resolves, so the connection exists.
  return socket.data ?? (socket.data = new BunConnection(socket));
}

/**
 * The Bun TCP {@link Transport}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { WireframeApp, WireframeClient, WireframeServer } from "@wireframe/wireframe";
 * import { bunTransport } from "@wireframe/wireframe/bun";
 *
 * // What the server and client pick by default on this runtime; any Transport fits here.
 * const app = new WireframeApp().route(1, (req) => req.payload);
 * await using server = new WireframeServer(app, { transport: bunTransport });
 * const { port } = await server.listen({ port: 0 });
 * await using client = await WireframeClient.connect({ port, transport: bunTransport });
 * assert.deepEqual((await client.request(1, Uint8Array.of(1))).payload, Uint8Array.of(1));
 * ```
 */
export const bunTransport: Transport = { listen, connect };
