/**
 * A {@link Connection} over a `Deno.TcpConn`.
 *
 * Deno's own `conn.readable` closes the whole resource when it reaches EOF or
 * is cancelled, which breaks half-close (we could no longer write after the
 * peer's FIN), and `conn.writable.close()` closes both directions. So both
 * streams are built here directly on `conn.read` / `conn.write`.
 *
 * @module
 */
import { ConnectionClosedError, ConnectionResetError, TransportError } from "./errors.ts";
import type { Connection, NetAddr } from "./types.ts";

/** Size of one socket read; also the largest chunk the readable yields. */
const READ_SIZE = 64 * 1024;

export class DenoConnection implements Connection {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  readonly localAddr: NetAddr;
  readonly remoteAddr: NetAddr;
  readonly closed: Promise<void>;

  readonly #conn: Deno.TcpConn;
  readonly #resolveClosed: () => void;
  #readController!: ReadableStreamDefaultController<Uint8Array>;
  #writeController!: WritableStreamDefaultController;
  #scratch = new Uint8Array(READ_SIZE);
  /** Set once the connection is dead: what every later read/write rejects with. */
  #failure: TransportError | undefined;
  #readDone = false;
  #writeDone = false;
  #released = false;

  constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
    try {
      conn.setNoDelay(true);
    } catch {
      // The peer may already have reset the socket; the first read reports it.
    }
    this.localAddr = toNetAddr(conn.localAddr);
    this.remoteAddr = toNetAddr(conn.remoteAddr);
    const { promise, resolve } = Promise.withResolvers<void>();
    this.closed = promise;
    this.#resolveClosed = resolve;
    // One chunk of read-ahead keeps a read in flight while the consumer works,
    // without buffering more than READ_SIZE in user space.
    this.readable = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#readController = controller;
      },
      pull: (controller) => this.#pull(controller),
      cancel: () => this.#endRead(),
    }, { highWaterMark: 1 });
    this.writable = new WritableStream<Uint8Array>({
      start: (controller) => {
        this.#writeController = controller;
      },
      write: (chunk) => this.#write(chunk),
      close: () => this.#closeWrite(),
      abort: () => this.close(),
    });
  }

  close(): void {
    this.#terminate(new ConnectionClosedError());
  }

  async #pull(controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    let n: number | null;
    try {
      n = await this.#conn.read(this.#scratch);
    } catch (err) {
      throw this.#ioError(err);
    }
    if (this.#readDone || this.#failure) return;
    if (n === null) {
      controller.close();
      this.#endRead();
      return;
    }
    controller.enqueue(this.#take(n));
  }

  /**
   * Hand out the bytes just read. A mostly-full buffer is given away as is
   * (and replaced); a small read is copied so a 10-byte chunk does not pin a
   * 64 KiB buffer for as long as the consumer keeps a view of it.
   */
  #take(n: number): Uint8Array {
    if (n * 2 < READ_SIZE) return this.#scratch.slice(0, n);
    const chunk = this.#scratch.subarray(0, n);
    this.#scratch = new Uint8Array(READ_SIZE);
    return chunk;
  }

  async #write(chunk: Uint8Array): Promise<void> {
    if (this.#failure) throw this.#failure;
    if (!(chunk instanceof Uint8Array)) {
      throw new TypeError("Connection.writable accepts Uint8Array");
    }
    try {
      // conn.write may accept only part of the buffer when the socket is full.
      for (let off = 0; off < chunk.byteLength;) off += await this.#conn.write(chunk.subarray(off));
    } catch (err) {
      throw this.#ioError(err);
    }
  }

  async #closeWrite(): Promise<void> {
    if (this.#failure) throw this.#failure;
    try {
      await this.#conn.closeWrite();
    } catch (err) {
      throw this.#ioError(err);
    }
    this.#writeDone = true;
    this.#releaseIfDone();
  }

  #endRead(): void {
    this.#readDone = true;
    this.#releaseIfDone();
  }

  #releaseIfDone(): void {
    if (this.#readDone && this.#writeDone) this.#release();
  }

  /** Map a Deno I/O error; any failure other than a local close kills the connection. */
  #ioError(err: unknown): TransportError {
    if (this.#failure) return this.#failure;
    const error = isPeerGone(err)
      ? new ConnectionResetError(undefined, { cause: err })
      : new TransportError("ERR_TRANSPORT", `socket I/O failed: ${describe(err)}`, { cause: err });
    this.#terminate(error);
    return error;
  }

  #terminate(error: TransportError): void {
    if (this.#released) return;
    this.#failure = error;
    if (!this.#readDone) this.#readController.error(error);
    if (!this.#writeDone) this.#writeController.error(error);
    this.#readDone = this.#writeDone = true;
    this.#release();
  }

  #release(): void {
    if (this.#released) return;
    this.#released = true;
    try {
      this.#conn.close();
    } catch {
      // Already closed by Deno: nothing left to release.
    }
    this.#resolveClosed();
  }
}

/** Whether a Deno error means the peer reset or abandoned the connection. */
export function isPeerGone(err: unknown): boolean {
  return err instanceof Deno.errors.ConnectionReset ||
    err instanceof Deno.errors.ConnectionAborted ||
    err instanceof Deno.errors.BrokenPipe ||
    err instanceof Deno.errors.NotConnected ||
    err instanceof Deno.errors.UnexpectedEof;
}

export function toNetAddr(addr: Deno.NetAddr): NetAddr {
  return { transport: "tcp", hostname: addr.hostname, port: addr.port };
}

export function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
