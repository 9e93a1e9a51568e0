/**
 * In-memory transport: connected pairs and a port registry local to this
 * module instance, with the same semantics as TCP (ordering, back-pressure,
 * half-close, reset, refused connects) and no sockets. Fast and
 * deterministic: everything settles within microtasks.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { memoryPair } from "@wireframe/wireframe/memory";
 *
 * const [client, server] = memoryPair({ bufferSize: 1024 });
 * const writer = client.writable.getWriter();
 * await writer.write(new Uint8Array([1, 2, 3]));
 * const { value } = await server.readable.getReader().read();
 * assert.deepEqual(value, Uint8Array.of(1, 2, 3));
 * client.close();
 * ```
 *
 * @module
 */
import { z } from "zod";
import { intInRange, parseOptions } from "../_internal/options.ts";
import { promiseTry } from "../_internal/promise_try.ts";
import { connectedPair, type MemoryConnection } from "./_memory_connection.ts";
import { DEFAULT_HOSTNAME, listenSchema, parsePlainConnect } from "./_options.ts";
import { QueuedListener } from "./_queued_listener.ts";
import { AddressInUseError, ConnectionRefusedError, TransportError } from "./errors.ts";
import type {
  Connection,
  ConnectOptions,
  Listener,
  ListenOptions,
  NetAddr,
  Transport,
} from "./types.ts";

export * from "./_public.ts";

/** Default bytes in flight per direction before `write()` waits. */
export const DEFAULT_BUFFER_SIZE: number = 64 * 1024;

const MAX_BUFFER_SIZE = 1 << 30;
const bufferSize = intInRange(1, MAX_BUFFER_SIZE).default(DEFAULT_BUFFER_SIZE);
const pairSchema = z.strictObject({ bufferSize });
const memoryListenSchema = listenSchema.extend({ bufferSize });

/** Options for {@link memoryPair}. */
export interface MemoryPairOptions {
  /**
   * Most bytes in flight per direction (written, not yet read) before
   * `write()` waits; 1 to 2^30, default 64 KiB. Larger writes are split.
   */
  bufferSize?: number;
}

/** Options for the in-memory {@link listen}: `ListenOptions` plus the buffer size. */
export interface MemoryListenOptions extends ListenOptions, MemoryPairOptions {}

/**
 * Two connected in-memory connections. Whatever one writes, the other reads.
 *
 * @throws {ConfigError} when an option is out of range
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ConnectionResetError, memoryPair } from "@wireframe/wireframe/memory";
 *
 * const [a, b] = memoryPair();
 * a.close(); // b's reads and writes now reject with ConnectionResetError
 * await assert.rejects(b.readable.getReader().read(), ConnectionResetError);
 * await assert.rejects(b.writable.getWriter().write(Uint8Array.of(1)), ConnectionResetError);
 * await b.closed;
 * ```
 */
export function memoryPair(options?: MemoryPairOptions): [Connection, Connection] {
  const { bufferSize } = parseOptions("memoryPair", pairSchema, options);
  return connectedPair(
    bufferSize,
    ephemeralAddr(DEFAULT_HOSTNAME),
    ephemeralAddr(DEFAULT_HOSTNAME),
  );
}

class MemoryListener extends QueuedListener<MemoryConnection> {
  readonly addr: NetAddr;
  readonly bufferSize: number;

  constructor(addr: NetAddr, bufferSize: number) {
    super();
    this.addr = addr;
    this.bufferSize = bufferSize;
  }

  protected override stopAccepting(): void {
    if (listeners.get(this.addr.port) === this) listeners.delete(this.addr.port);
  }
}

const listeners = new Map<number, MemoryListener>();
// Rolling counters, so a port just released is not handed out again at once
// (a late connect to it is refused rather than reaching a stranger).
let nextPort = 1;
let nextEphemeral = 49152;

function freePort(): number {
  for (let tries = 0; tries < 65535; tries++) {
    const port = nextPort;
    nextPort = nextPort === 65535 ? 1 : nextPort + 1;
    if (!listeners.has(port)) return port;
  }
  throw new TransportError("ERR_LISTEN", "memoryTransport.listen: no free port left");
}

function ephemeralAddr(hostname: string): NetAddr {
  const port = nextEphemeral;
  nextEphemeral = nextEphemeral === 65535 ? 49152 : nextEphemeral + 1;
  return { transport: "memory", hostname, port };
}

/**
 * Listen on an in-memory port (0 picks a free one). Routing is by port only;
 * `hostname` is just reported back in addresses.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect, listen } from "@wireframe/wireframe/memory";
 *
 * await using listener = await listen({ port: 0 });
 * const client = await connect({ port: listener.addr.port });
 * for await (const server of listener) { // the listener's end of `client`
 *   assert.deepEqual(server.remoteAddr, client.localAddr);
 *   server.close();
 *   break;
 * }
 * await client.closed; // the peer's close() is a reset, seen at once
 * ```
 */
export function listen(options: MemoryListenOptions): Promise<Listener> {
  return promiseTry(listenNow, options);
}

function listenNow(options: MemoryListenOptions): Listener {
  const parsed = parseOptions("memoryTransport.listen", memoryListenSchema, options);
  const port = parsed.port === 0 ? freePort() : parsed.port;
  if (listeners.has(port)) {
    throw new AddressInUseError(`cannot listen on memory port ${port}: address in use`);
  }
  const hostname = parsed.hostname ?? DEFAULT_HOSTNAME;
  const listener = new MemoryListener({ transport: "memory", hostname, port }, parsed.bufferSize);
  listeners.set(port, listener);
  return listener;
}

/**
 * Connect to an in-memory listener. Rejects with {@link ConnectionRefusedError}
 * when nobody listens on the port.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect, ConnectionRefusedError } from "@wireframe/wireframe/memory";
 *
 * await assert.rejects(connect({ port: 1 }), ConnectionRefusedError); // nobody listens on port 1
 * ```
 */
export function connect(options: ConnectOptions): Promise<Connection> {
  return promiseTry(connectNow, options);
}

function connectNow(options: ConnectOptions): Connection {
  const { hostname, port } = parsePlainConnect("memoryTransport.connect", options);
  const listener = listeners.get(port);
  if (listener === undefined) {
    throw new ConnectionRefusedError(`cannot connect to memory port ${port}: refused`);
  }
  const local = ephemeralAddr(hostname);
  const [client, server] = connectedPair(listener.bufferSize, local, listener.addr);
  listener.accept(server);
  return client;
}

/**
 * The in-memory {@link Transport}, for tests and benchmarks.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { WireframeApp, WireframeClient, WireframeServer } from "@wireframe/wireframe";
 * import { memoryTransport } from "@wireframe/wireframe/memory";
 *
 * // A whole server and client in one process, no sockets: what tests want.
 * const app = new WireframeApp().route(1, (req) => req.payload);
 * await using server = new WireframeServer(app, { transport: memoryTransport });
 * const { port } = await server.listen({ port: 0 });
 * await using client = await WireframeClient.connect({ port, transport: memoryTransport });
 * assert.deepEqual((await client.request(1, Uint8Array.of(1))).payload, Uint8Array.of(1));
 * ```
 */
export const memoryTransport: Transport = { listen, connect };
