/**
 * TCP transport for Bun, on the handler-based `Bun.listen` / `Bun.connect`.
 *
 * The readable is back-pressured (the socket is paused while the stream's
 * queue is full), `write()` resolves only once every byte was taken by the
 * kernel, sockets get `TCP_NODELAY`, and half-close works both ways.
 *
 * @example
 * ```ts
 * import { connect, listen } from "@wireframe/wireframe/bun";
 *
 * await using listener = await listen({ port: 0 });
 * const client = await connect({ port: listener.addr.port });
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
 * import { listen } from "@wireframe/wireframe/bun";
 *
 * const listener = await listen({ hostname: "127.0.0.1", port: 0 });
 * for await (const conn of listener) conn.readable.pipeTo(conn.writable).catch(() => {});
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
 * import { connect } from "@wireframe/wireframe/bun";
 *
 * const conn = await connect({ hostname: "127.0.0.1", port: 7000 });
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
 * import { bunTransport } from "@wireframe/wireframe/bun";
 *
 * const listener = await bunTransport.listen({ port: 0 });
 * ```
 */
export const bunTransport: Transport = { listen, connect };
