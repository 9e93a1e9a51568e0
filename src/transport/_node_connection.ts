/**
 * A {@link Connection} over a `node:net` socket.
 *
 * Node pushes `data` events at us and buffers writes without bound, so this
 * file adds what the stream contract needs: pause/resume for back-pressure
 * on the readable, and a `write()` that resolves only once Node has handed
 * the bytes to the kernel (its write callback), so nothing piles up in
 * Node's own buffer and the caller may reuse its chunk at once.
 *
 * Behaviour relied on, checked against Node 24 (see docs/transports.md):
 * - The socket is created with `allowHalfOpen: true`: a peer FIN emits `end`
 *   and leaves it writable; `end()` sends FIN and reading carries on. Once
 *   both directions are over Node destroys it and emits `close` (no error).
 * - `pause()` stops `data` events; once Node's own read buffer is full it
 *   stops reading the kernel socket, so the peer feels back-pressure.
 * - A peer reset emits `error` (`ECONNRESET`, `EPIPE` on write) then `close`.
 * - `destroy()` closes the file descriptor at once: FIN, or RST if unread
 *   bytes remain, exactly like closing a Deno or Bun socket.
 *
 * @module
 */
import type { NodeSocket } from "./_node_api.ts";
import { socketError } from "./_runtime_errors.ts";
import { StreamConnection } from "./_stream_connection.ts";
import { ConnectionResetError, type TransportError } from "./errors.ts";
import type { NetAddr } from "./types.ts";

/** Bytes queued in the readable before we pause the socket (as Bun's transport). */
const READ_HIGH_WATER_MARK = 64 * 1024;

/** The `code` of a Node system error (`"ECONNREFUSED"`...), if any. */
export function errorCode(err: unknown): string | undefined {
  if (typeof err !== "object" || err === null || !("code" in err)) return undefined;
  return typeof err.code === "string" ? err.code : undefined;
}

/** The message of a Node error, for ours. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Codes that mean the peer reset or abandoned the connection. `ECANCELED` is
 * a write the runtime dropped because it tore the socket down itself (Deno's
 * `node:net` does so on a reset); after our own close() the close wins.
 */
const PEER_GONE = new Set([
  "ECONNRESET",
  "EPIPE",
  "ECONNABORTED",
  "ENOTCONN",
  "ETIMEDOUT",
  "ECANCELED",
]);

function mapError(err: unknown): TransportError {
  const code = errorCode(err);
  return socketError(
    { cause: err, detail: errorMessage(err) },
    code !== undefined && PEER_GONE.has(code),
  );
}

export class NodeConnection extends StreamConnection {
  override readonly localAddr: NetAddr;
  override readonly remoteAddr: NetAddr;

  readonly #socket: NodeSocket;
  /** The write waiting for Node's callback; rejected if the connection dies first. */
  #pendingWrite: ((err: TransportError) => void) | undefined;
  #paused = true;

  /**
   * Wrap `socket`, which must be connected, created with `allowHalfOpen`,
   * and paused (`pauseOnConnect`, or a client socket nobody read from yet).
   */
  constructor(socket: NodeSocket) {
    super({ highWaterMark: READ_HIGH_WATER_MARK, size: (chunk) => chunk.byteLength });
    this.#socket = socket;
    socket.setNoDelay(true);
    this.localAddr = addr(socket.localAddress, socket.localPort);
    this.remoteAddr = addr(socket.remoteAddress, socket.remotePort);
    // Not flowing until the readable pulls: attaching `data` does not resume
    // a socket that was explicitly paused.
    socket.pause();
    socket.on("data", (data: Uint8Array) => this.#onData(data));
    socket.on("end", () => this.push(null));
    socket.on("error", (err) => this.terminate(mapError(err)));
    socket.on("close", () => this.#onClose());
  }

  // --- socket events ---

  #onData(data: Uint8Array): void {
    if (this.readDone) return;
    // A plain Uint8Array view: Buffer#slice does not copy, which would
    // surprise consumers that slice() to keep bytes. Node gives each read
    // its own buffer, so the view pins nothing else.
    if (this.push(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))) this.#pause();
  }

  #onClose(): void {
    if (this.released) return;
    // Errors were reported by `error`, just before. A clean close comes once
    // both directions are over; the readable has ended by then (`end` came
    // first), and our FIN went out if the write side finished.
    this.push(null);
    if (this.#socket.writableFinished) {
      this.endWrite();
      return;
    }
    this.terminate(new ConnectionResetError("the connection was closed by the peer"));
  }

  // --- stream plumbing ---

  protected override pull(): void {
    this.#resume();
  }

  protected override cancelRead(): void {
    // Stop reading so the peer feels back-pressure instead of us
    // buffering what nobody will read.
    this.#pause();
  }

  #pause(): void {
    if (this.#paused || this.released) return;
    this.#paused = true;
    this.#socket.pause();
  }

  #resume(): void {
    if (!this.#paused || this.released || this.readDone) return;
    this.#paused = false;
    this.#socket.resume();
  }

  protected override writeChunk(chunk: Uint8Array): Promise<void> {
    if (chunk.byteLength === 0) return Promise.resolve();
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    this.#pendingWrite = reject;
    // Node keeps a reference to `chunk` until the callback: resolving then
    // means the caller may reuse its buffer, and nothing queues in Node.
    this.#socket.write(chunk, (err) => {
      this.#pendingWrite = undefined;
      if (err) reject(this.fail(mapError(err)));
      else resolve();
    });
    return promise;
  }

  protected override sendEnd(): Promise<void> {
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    this.#socket.end(() => {
      // The callback also runs (with no argument on some versions) when the
      // socket failed meanwhile: the failure wins.
      if (this.failure) reject(this.failure);
      else resolve();
    });
    return promise;
  }

  protected override releaseResource(failure: TransportError | undefined): void {
    // A write waiting for its callback would otherwise wait for a socket
    // that is about to be destroyed.
    if (failure) this.#pendingWrite?.(failure);
    this.#pendingWrite = undefined;
    this.#socket.destroy();
  }
}

function addr(hostname: string | undefined, port: number | undefined): NetAddr {
  return { transport: "tcp", hostname: hostname ?? "", port: port ?? 0 };
}
