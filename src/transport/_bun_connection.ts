/**
 * A {@link Connection} over a Bun socket (the handler-based `Bun.listen` /
 * `Bun.connect` API). Bun pushes data at us and does not buffer writes, so
 * this file adds what streams need: pause/resume for back-pressure on the
 * readable, and a drain-driven loop for partial writes on the writable.
 *
 * @module
 */
import { type BunSocket, type BunSocketHandler, errorCode } from "./_bun_api.ts";
import { ConnectionClosedError, ConnectionResetError, TransportError } from "./errors.ts";
import type { Connection, NetAddr } from "./types.ts";

/** Bytes queued in the readable before we stop reading the socket. */
const READ_HIGH_WATER_MARK = 64 * 1024;

/** A Bun socket whose `data` slot holds its connection. */
export type ConnSocket = BunSocket<BunConnection>;

export class BunConnection implements Connection {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  readonly localAddr: NetAddr;
  readonly remoteAddr: NetAddr;
  readonly closed: Promise<void>;

  readonly #socket: ConnSocket;
  readonly #resolveClosed: () => void;
  #readController!: ReadableStreamDefaultController<Uint8Array>;
  #writeController!: WritableStreamDefaultController;
  #drain: { resolve: () => void; reject: (err: TransportError) => void } | undefined;
  #failure: TransportError | undefined;
  #paused = false;
  #readDone = false;
  #writeDone = false;
  #released = false;

  constructor(socket: ConnSocket) {
    this.#socket = socket;
    socket.setNoDelay?.(true);
    this.localAddr = addr(socket.localAddress, socket.localPort);
    this.remoteAddr = addr(socket.remoteAddress, socket.remotePort);
    const { promise, resolve } = Promise.withResolvers<void>();
    this.closed = promise;
    this.#resolveClosed = resolve;
    this.readable = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#readController = controller;
      },
      pull: () => this.#resume(),
      cancel: () => {
        // Stop reading so the peer feels back-pressure instead of us
        // buffering what nobody will read.
        this.#pause();
        this.#endRead();
      },
    }, { highWaterMark: READ_HIGH_WATER_MARK, size: (chunk) => chunk.byteLength });
    this.writable = new WritableStream<Uint8Array>({
      start: (controller) => {
        this.#writeController = controller;
      },
      write: (chunk) => this.#write(chunk),
      close: () => this.#closeWrite(),
      abort: () => this.close(),
    });
  }

  /** Reset before it was handed out: the listener skips it. */
  get isReset(): boolean {
    return this.#failure instanceof ConnectionResetError;
  }

  close(): void {
    this.#terminate(new ConnectionClosedError());
  }

  // --- socket events (called through bunHandlers) ---

  onData(data: Uint8Array): void {
    if (this.#readDone) return;
    // A plain Uint8Array view: Buffer#slice does not copy, which would
    // surprise consumers that slice() to keep bytes.
    this.#readController.enqueue(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    if ((this.#readController.desiredSize ?? 0) <= 0) this.#pause();
  }

  onDrain(): void {
    const drain = this.#drain;
    this.#drain = undefined;
    drain?.resolve();
  }

  onEnd(): void {
    if (this.#readDone) return;
    this.#readController.close();
    this.#endRead();
  }

  onClose(error?: Error): void {
    if (this.#released) return;
    if (error !== undefined) {
      this.#terminate(mapError(error));
      return;
    }
    // Both FINs exchanged: Bun closes without calling `end` on the side that
    // shut down first, so the readable ends here.
    if (!this.#readDone) this.onEnd();
    if (!this.#writeDone) {
      // We still had a write side: the peer (or the network) dropped us.
      this.#failure = new ConnectionResetError("the connection was closed by the peer");
      this.#writeController.error(this.#failure);
      this.#drain?.reject(this.#failure);
    }
    this.#readDone = this.#writeDone = true;
    this.#release();
  }

  onError(error: Error): void {
    this.#terminate(mapError(error));
  }

  // --- stream plumbing ---

  #pause(): void {
    if (this.#paused || this.#released) return;
    this.#paused = true;
    this.#socket.pause();
  }

  #resume(): void {
    if (!this.#paused || this.#released || this.#readDone) return;
    this.#paused = false;
    this.#socket.resume();
  }

  async #write(chunk: Uint8Array): Promise<void> {
    if (!(chunk instanceof Uint8Array)) {
      throw new TypeError("Connection.writable accepts Uint8Array");
    }
    const length = chunk.byteLength;
    let offset = 0;
    for (;;) {
      if (this.#failure) throw this.#failure;
      const n = this.#socket.write(chunk, offset, length - offset);
      // -1: Bun already closed the socket; its close handler says why.
      if (n < 0) throw this.#failure ?? this.#fail(new ConnectionClosedError());
      offset += n;
      if (offset >= length) return;
      // The kernel buffer is full; Bun kept nothing, so wait and send the rest.
      const { promise, resolve, reject } = Promise.withResolvers<void>();
      this.#drain = { resolve, reject };
      await promise;
    }
  }

  #closeWrite(): void {
    if (this.#failure) throw this.#failure;
    this.#socket.shutdown();
    this.#writeDone = true;
    this.#releaseIfDone();
  }

  #endRead(): void {
    this.#readDone = true;
    this.#releaseIfDone();
  }

  #releaseIfDone(): void {
    if (!this.#readDone || !this.#writeDone) return;
    this.#release();
    this.#socket.close();
  }

  #fail(error: TransportError): TransportError {
    this.#terminate(error);
    return error;
  }

  #terminate(error: TransportError): void {
    if (this.#released) return;
    this.#failure = error;
    if (!this.#readDone) this.#readController.error(error);
    if (!this.#writeDone) this.#writeController.error(error);
    this.#drain?.reject(error);
    this.#drain = undefined;
    this.#readDone = this.#writeDone = true;
    this.#release();
    // Graceful close(2): the kernel sends FIN, or RST if unread bytes remain,
    // exactly like closing a Deno socket.
    this.#socket.close();
  }

  #release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#resolveClosed();
  }
}

function mapError(error: Error): TransportError {
  const code = errorCode(error);
  if (code === "ECONNRESET" || code === "EPIPE" || code === "ECONNABORTED") {
    return new ConnectionResetError(undefined, { cause: error });
  }
  return new TransportError("ERR_TRANSPORT", `socket error: ${error.message}`, { cause: error });
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
  };
}
