/**
 * TCP transport for Deno, on `Deno.listen` / `Deno.connect`, and TLS on
 * `Deno.listenTls` / `Deno.startTls` (with the `tls` option).
 *
 * Sockets get `TCP_NODELAY`; half-close is supported both ways; errors are
 * mapped to {@link TransportError} subclasses. Needs `--allow-net`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect, listen } from "@wireframe/wireframe/deno";
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
import { QueuedListener } from "./_queued_listener.ts";
import { DenoConnection, describe, isPeerGone, setNoDelay, toNetAddr } from "./_deno_connection.ts";
import { parseConnect, type ParsedConnect, parseListen } from "./_options.ts";
import { TlsError, UnsupportedRuntimeError } from "./errors.ts";
import type {
  Connection,
  ConnectOptions,
  Listener,
  ListenOptions,
  NetAddr,
  Transport,
} from "./types.ts";

export * from "./_public.ts";

/** Longest pause between retries when `accept()` keeps failing (e.g. out of file descriptors). */
const MAX_ACCEPT_BACKOFF_MS = 1000;

class DenoListener implements Listener {
  readonly addr: NetAddr;
  readonly #inner: Deno.Listener<Deno.Conn<Deno.NetAddr>, Deno.NetAddr>;
  readonly #tls: boolean;
  #closed = false;
  /** Wakes accept loops sleeping after an error, so close() ends them at once. */
  readonly #sleepers = new Set<() => void>();

  constructor(inner: Deno.Listener<Deno.Conn<Deno.NetAddr>, Deno.NetAddr>, tls: boolean) {
    this.#inner = inner;
    this.#tls = tls;
    this.addr = toNetAddr(inner.addr);
  }

  [Symbol.asyncIterator](): AsyncIterator<Connection> {
    return this.connections();
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      try {
        this.#inner.close();
      } catch {
        // Already closed.
      }
      for (const wake of this.#sleepers) wake();
    }
    return Promise.resolve();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Accepted connections, until closed. */
  async *connections(): AsyncGenerator<DenoConnection, void, undefined> {
    let backoff = 0;
    while (!this.#closed) {
      let conn: Deno.Conn<Deno.NetAddr>;
      try {
        // A TLS connection is handed out before its handshake, which runs on
        // its first read: a slow or silent client cannot stall the accept loop.
        conn = await this.#inner.accept();
      } catch (err) {
        if (this.#closed || isListenerGone(err)) return;
        // A peer that reset before we accepted it is not the listener's
        // failure: skip it (Deno reports it as NotConnected/ConnectionAborted).
        if (isPeerGone(err)) continue;
        // Anything else (EMFILE, ENOBUFS...) is usually transient: back off
        // rather than spin, and keep serving.
        backoff = Math.min(Math.max(backoff * 2, 10), MAX_ACCEPT_BACKOFF_MS);
        await this.#pause(backoff);
        continue;
      }
      backoff = 0;
      yield new DenoConnection(conn, this.#tls);
    }
  }

  /** Sleep for `ms`, or less if the listener closes meanwhile. */
  #pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#sleepers.add(done);
    });
  }
}

/**
 * A TLS listener accepts eagerly, as Bun's and Node's do: Deno runs a
 * server's handshake only once the connection is read, so a client whose
 * `connect()` waits for its handshake would wait forever on a connection
 * nobody has iterated to yet. Each accepted connection starts reading (its
 * one read-ahead), which drives the handshake, and waits in the queue.
 */
class EagerListener extends QueuedListener<DenoConnection> {
  readonly addr: NetAddr;
  readonly #inner: DenoListener;
  readonly #pumping: Promise<void>;

  constructor(inner: DenoListener) {
    super();
    this.#inner = inner;
    this.addr = inner.addr;
    this.#pumping = this.#pump();
  }

  async #pump(): Promise<void> {
    for await (const conn of this.#inner.connections()) this.accept(conn);
  }

  /** Resolves once the socket is no longer listening (its pending accept has ended). */
  override async close(): Promise<void> {
    await super.close();
    await this.#pumping;
  }

  protected override stopAccepting(): void {
    void this.#inner.close();
  }
}

function isListenerGone(err: unknown): boolean {
  return err instanceof Deno.errors.BadResource || err instanceof Deno.errors.Interrupted;
}

function requireDeno(): void {
  if (!("Deno" in globalThis)) {
    throw new UnsupportedRuntimeError("the Deno transport needs the Deno runtime");
  }
}

/**
 * Listen for TCP connections.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect, listen } from "@wireframe/wireframe/deno";
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
  const { hostname, port, tls, reusePort } = parseListen("denoTransport.listen", options);
  requireDeno();
  // Deno.TcpListenOptions' reusePort is unstable: without `--unstable-net`,
  // Deno ends the process instead of throwing. Deno.listenDatagram exists
  // exactly when that flag is on.
  if (reusePort && typeof (Deno as { listenDatagram?: unknown }).listenDatagram !== "function") {
    throw new UnsupportedRuntimeError("reusePort on Deno needs the --unstable-net flag");
  }
  const where = { hostname, port, transport: "tcp" as const, ...reusePort && { reusePort } };
  try {
    if (tls === undefined) return new DenoListener(Deno.listen(where), false);
    const { cert, key } = tls;
    const inner = Deno.listenTls({ ...where, cert, key });
    return new EagerListener(new DenoListener(inner, true));
  } catch (err) {
    if (err instanceof Deno.errors.AddrInUse || tls === undefined || isListenFailure(err)) {
      const failure = { hostname, port, cause: err, detail: describe(err) };
      throw listenError(failure, err instanceof Deno.errors.AddrInUse);
    }
    // Anything else from listenTls is about the certificate or the key.
    throw new TlsError(`cannot listen with TLS: certificate or key refused (${describe(err)})`, {
      cause: err,
    });
  }
}

/** A failure to bind, as opposed to one about the TLS certificate or key. */
function isListenFailure(err: unknown): boolean {
  return err instanceof Deno.errors.PermissionDenied || err instanceof Deno.errors.AddrNotAvailable;
}

/**
 * Open a TCP connection.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect, ConnectionRefusedError, listen } from "@wireframe/wireframe/deno";
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
  const { hostname, port, tls } = parseConnect("denoTransport.connect", options);
  requireDeno();
  let conn: Deno.TcpConn;
  try {
    conn = await Deno.connect({ hostname, port, transport: "tcp" });
  } catch (err) {
    const failure = { hostname, port, cause: err, detail: describe(err) };
    throw connectError(failure, err instanceof Deno.errors.ConnectionRefused);
  }
  if (tls === undefined) return new DenoConnection(conn);
  // TCP first, then startTls: so the socket gets TCP_NODELAY, and the name
  // checked (`startTls`'s `hostname`) can differ from the address dialled,
  // which `connectTls` cannot do.
  setNoDelay(conn);
  return new DenoConnection(await handshake(conn, tls), true);
}

/** Run the client handshake; a failure closes the socket and rejects with {@link TlsError}. */
async function handshake(
  tcp: Deno.TcpConn,
  tls: NonNullable<ParsedConnect["tls"]>,
): Promise<Deno.TlsConn> {
  let conn: Deno.TlsConn | undefined;
  try {
    conn = await Deno.startTls(tcp, { hostname: tls.serverName, caCerts: tls.ca });
    await conn.handshake();
    return conn;
  } catch (err) {
    try {
      (conn ?? tcp).close();
    } catch {
      // Already closed.
    }
    throw new TlsError(`TLS handshake with ${tls.serverName} failed: ${describe(err)}`, {
      cause: err,
    });
  }
}

/**
 * The Deno TCP {@link Transport}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { WireframeApp, WireframeClient, WireframeServer } from "@wireframe/wireframe";
 * import { denoTransport } from "@wireframe/wireframe/deno";
 *
 * // What the server and client pick by default on this runtime; any Transport fits here.
 * const app = new WireframeApp().route(1, (req) => req.payload);
 * await using server = new WireframeServer(app, { transport: denoTransport });
 * const { port } = await server.listen({ port: 0 });
 * await using client = await WireframeClient.connect({ port, transport: denoTransport });
 * assert.deepEqual((await client.request(1, Uint8Array.of(1))).payload, Uint8Array.of(1));
 * ```
 */
export const denoTransport: Transport = { listen, connect };
