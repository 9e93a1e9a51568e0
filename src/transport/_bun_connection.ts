/**
 * A {@link Connection} over a Bun socket (the handler-based `Bun.listen` /
 * `Bun.connect` API). Bun pushes data at us and does not buffer writes, so
 * this file adds what streams need: pause/resume for back-pressure on the
 * readable, and a drain-driven loop for partial writes on the writable.
 *
 * @module
 */
import { type BunSocket, type BunSocketHandler, errorCode } from "./_bun_api.ts";
import { socketError } from "./_runtime_errors.ts";
import { StreamConnection } from "./_stream_connection.ts";
import {
  ConnectionClosedError,
  ConnectionResetError,
  TlsError,
  type TransportError,
} from "./errors.ts";
import type { NetAddr } from "./types.ts";

/** Bytes queued in the readable before we stop reading the socket. */
const READ_HIGH_WATER_MARK = 64 * 1024;

/** A Bun socket whose `data` slot holds its connection. */
export type ConnSocket = BunSocket<BunConnection>;

export class BunConnection extends StreamConnection {
  override readonly localAddr: NetAddr;
  override readonly remoteAddr: NetAddr;
  /** socket.write copies what the kernel takes and we wait to send the rest: the chunk is not kept. */
  readonly releasesWrittenChunks = true;

  readonly #socket: ConnSocket;
  #drain: { resolve: () => void; reject: (err: TransportError) => void } | undefined;
  #paused = false;
  /** Bun closed the socket itself (its close handler ran): nothing left to close. */
  #socketClosed = false;
  /** A TLS client's wait for its handshake (see {@link handshake}). */
  #handshake: PromiseWithResolvers<void> | undefined;

  constructor(socket: ConnSocket) {
    super({ highWaterMark: READ_HIGH_WATER_MARK, size: (chunk) => chunk.byteLength });
    this.#socket = socket;
    socket.setNoDelay?.(true);
    this.localAddr = addr(socket.localAddress, socket.localPort);
    this.remoteAddr = addr(socket.remoteAddress, socket.remotePort);
  }

  // --- socket events (called through bunHandlers) ---

  onData(data: Uint8Array): void {
    if (this.readDone) return;
    // A plain Uint8Array view: Buffer#slice does not copy, which would
    // surprise consumers that slice() to keep bytes.
    if (this.push(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))) this.#pause();
  }

  onDrain(): void {
    const drain = this.#drain;
    this.#drain = undefined;
    drain?.resolve();
  }

  onEnd(): void {
    this.push(null);
  }

  onClose(error?: Error): void {
    if (this.released) return;
    this.#socketClosed = true;
    if (error !== undefined) {
      this.terminate(mapError(error));
      return;
    }
    // Both FINs exchanged: Bun closes without calling `end` on the side that
    // shut down first, so the readable ends here.
    this.push(null);
    // Still open only if we still had a write side: the peer (or the
    // network) dropped us. The readable has ended, so only writes fail.
    this.terminate(new ConnectionResetError("the connection was closed by the peer"));
  }

  onError(error: Error): void {
    this.terminate(mapError(error));
  }

  onHandshake(success: boolean, error: Error | null): void {
    if (success) {
      this.#handshake?.resolve();
      return;
    }
    const tlsError = new TlsError(`TLS handshake failed: ${error?.message ?? "refused"}`, {
      cause: error ?? undefined,
    });
    this.#handshake?.reject(tlsError);
    this.terminate(tlsError);
  }

  /**
   * Resolves once a TLS client's handshake succeeded (the server's
   * certificate checked); rejects with {@link TlsError} if it failed or the
   * socket closed first. Call it right after connecting, before any event.
   */
  handshake(): Promise<void> {
    this.#handshake ??= Promise.withResolvers<void>();
    const failure = this.failure;
    if (failure) this.#handshake.reject(new TlsError("TLS handshake failed", { cause: failure }));
    return this.#handshake.promise;
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

  protected override async writeChunk(chunk: Uint8Array): Promise<void> {
    const length = chunk.byteLength;
    let offset = 0;
    for (;;) {
      if (this.failure) throw this.failure;
      const n = this.#socket.write(chunk, offset, length - offset);
      // -1: Bun already closed the socket; its close handler says why.
      if (n < 0) throw this.fail(new ConnectionClosedError());
      offset += n;
      if (offset >= length) return;
      // The kernel buffer is full; Bun kept nothing, so wait and send the rest.
      const { promise, resolve, reject } = Promise.withResolvers<void>();
      this.#drain = { resolve, reject };
      await promise;
    }
  }

  protected override sendEnd(): void {
    this.#socket.shutdown();
  }

  protected override releaseResource(failure: TransportError | undefined): void {
    // A write waiting for drain would otherwise wait forever.
    if (failure) this.#drain?.reject(failure);
    this.#handshake?.reject(
      failure instanceof TlsError
        ? failure
        : new TlsError("TLS handshake failed", { cause: failure }),
    );
    this.#drain = undefined;
    // Graceful close(2): the kernel sends FIN, or RST if unread bytes remain,
    // exactly like closing a Deno socket.
    if (!this.#socketClosed) this.#socket.close();
  }
}

function mapError(error: Error): TransportError {
  const code = errorCode(error);
  const peerGone = code === "ECONNRESET" || code === "EPIPE" || code === "ECONNABORTED";
  return socketError({ cause: error, detail: error.message }, peerGone);
}

function addr(hostname: string | undefined, port: number | undefined): NetAddr {
  return { transport: "tcp", hostname: hostname ?? "", port: port ?? 0 };
}

/**
 * Handlers routing Bun's socket events to the socket's {@link BunConnection}.
 * `onOpen` receives the connection as soon as it exists, before any data.
 */
export function bunHandlers(
  onOpen: (conn: BunConnection) => void,
): BunSocketHandler<BunConnection> {
  return {
    open(socket) {
      const conn = new BunConnection(socket);
      socket.data = conn;
      onOpen(conn);
    },
    data: (socket, data) => socket.data?.onData(data),
    drain: (socket) => socket.data?.onDrain(),
    end: (socket) => socket.data?.onEnd(),
    close: (socket, error) => socket.data?.onClose(error),
    error: (socket, error) => socket.data?.onError(error),
    handshake: (socket, success, error) => socket.data?.onHandshake(success, error),
  };
}
