/**
 * TCP transport for Bun, on the handler-based `Bun.listen` / `Bun.connect`,
 * and TLS through their `tls` option (with the `tls` option here).
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
import { connectError, listenError } from "./_runtime_errors.ts";
import {
  type BunApi,
  bunApi,
  type BunSocket,
  type BunTcpServer,
  errorCode,
  errorMessage,
} from "./_bun_api.ts";
import { BunConnection, bunHandlers } from "./_bun_connection.ts";
import { parseConnect, type ParsedListen, parseListen } from "./_options.ts";
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

class BunListener extends QueuedListener<BunConnection> {
  readonly addr: NetAddr;
  readonly #server: BunTcpServer;

  /** Listen now; throws Bun's own error if it cannot. */
  constructor(bun: BunApi, { hostname, port, tls, reusePort }: ParsedListen) {
    super();
    // Bun calls `open` from the event loop, once this constructor is done.
    // With TLS that is before the handshake, which runs as the socket is read.
    const socket = bunHandlers((conn) => this.accept(conn));
    this.#server = bun.listen({
      hostname,
      port,
      allowHalfOpen: true,
      socket,
      ...tls && { tls },
      ...reusePort && { reusePort },
    });
    this.addr = { transport: "tcp", hostname: this.#server.hostname, port: this.#server.port };
  }

  protected override stopAccepting(): void {
    // stop(false): stop accepting, leave accepted sockets alone.
    this.#server.stop(false);
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
  return Promise.try(listenNow, options);
}

function listenNow(options: ListenOptions): Listener {
  const parsed = parseListen("bunTransport.listen", options);
  const { hostname, port } = parsed;
  const bun = bunApi();
  try {
    return new BunListener(bun, parsed);
  } catch (err) {
    const code = errorCode(err);
    if (parsed.tls && code !== "EADDRINUSE" && !code?.startsWith("EADDR")) {
      throw new TlsError(
        `cannot listen with TLS: certificate or key refused (${errorMessage(err)})`,
        { cause: err },
      );
    }
    const failure = { hostname, port, cause: err, detail: errorMessage(err) };
    throw listenError(failure, code === "EADDRINUSE");
  }
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
  const { hostname, port, tls } = parseConnect("bunTransport.connect", options);
  const bun = bunApi();
  let socket: BunSocket<BunConnection>;
  let handshake: Promise<void> | undefined;
  try {
    socket = await bun.connect({
      hostname,
      port,
      allowHalfOpen: true,
      // The handshake's wait starts in `open`, before any TLS event can fire.
      socket: bunHandlers((conn) => {
        if (tls) handshake = conn.handshake();
      }),
      ...tls && { tls: { serverName: tls.serverName, ...tls.ca && { ca: tls.ca } } },
    });
  } catch (err) {
    const failure = { hostname, port, cause: err, detail: errorMessage(err) };
    throw connectError(failure, errorCode(err) === "ECONNREFUSED");
  }
  // `open` runs before Bun.connect resolves, so the connection exists.
  const conn = socket.data ?? (socket.data = new BunConnection(socket));
  if (tls) await (handshake ?? conn.handshake());
  return conn;
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
