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
import { StreamConnection } from "./_stream_connection.ts";
import { ConnectionResetError, TransportError } from "./errors.ts";
import type { NetAddr } from "./types.ts";

/** Size of one socket read; also the largest chunk the readable yields. */
const READ_SIZE = 64 * 1024;

export class DenoConnection extends StreamConnection {
  override readonly localAddr: NetAddr;
  override readonly remoteAddr: NetAddr;

  readonly #conn: Deno.TcpConn;
  #scratch = new Uint8Array(READ_SIZE);

  constructor(conn: Deno.TcpConn) {
    // One chunk of read-ahead keeps a read in flight while the consumer works,
    // without buffering more than READ_SIZE in user space.
    super({ highWaterMark: 1 });
    this.#conn = conn;
    try {
      conn.setNoDelay(true);
    } catch {
      // The peer may already have reset the socket; the first read reports it.
    }
    this.localAddr = toNetAddr(conn.localAddr);
    this.remoteAddr = toNetAddr(conn.remoteAddr);
  }

  protected override async pull(): Promise<void> {
    let n: number | null;
    try {
      n = await this.#conn.read(this.#scratch);
    } catch (err) {
      throw this.#ioError(err);
    }
    if (this.readDone) return;
    this.push(n === null ? null : this.#take(n));
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

  protected override async writeChunk(chunk: Uint8Array): Promise<void> {
    try {
      // conn.write may accept only part of the buffer when the socket is full.
      for (let off = 0; off < chunk.byteLength;) off += await this.#conn.write(chunk.subarray(off));
    } catch (err) {
      throw this.#ioError(err);
    }
  }

  protected override async sendEnd(): Promise<void> {
    try {
      await this.#conn.closeWrite();
    } catch (err) {
      throw this.#ioError(err);
    }
  }

  protected override releaseResource(): void {
    try {
      this.#conn.close();
    } catch {
      // Already closed by Deno: nothing left to release.
    }
  }

  /** Map a Deno I/O error; any failure other than a local close kills the connection. */
  #ioError(err: unknown): TransportError {
    return this.fail(
      isPeerGone(err)
        ? new ConnectionResetError(undefined, { cause: err })
        : new TransportError("ERR_TRANSPORT", `socket I/O failed: ${describe(err)}`, {
          cause: err,
        }),
    );
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
