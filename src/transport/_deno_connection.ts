/**
 * A {@link Connection} over a `Deno.TcpConn` or a `Deno.TlsConn`.
 *
 * Deno's own `conn.readable` closes the whole resource when it reaches EOF or
 * is cancelled, which breaks half-close (we could no longer write after the
 * peer's FIN), and `conn.writable.close()` closes both directions. So both
 * streams are built here directly on `conn.read` / `conn.write`.
 *
 * @module
 */
import { socketError } from "./_runtime_errors.ts";
import { StreamConnection } from "./_stream_connection.ts";
import { TlsError, type TransportError } from "./errors.ts";
import type { NetAddr } from "./types.ts";

/** What `#writing` holds between writes. */
const NOTHING: Uint8Array = new Uint8Array(0);

/** The read buffer of a quiet connection: what an idle connection holds while it waits. */
const MIN_READ_SIZE = 2 * 1024;
/** The read buffer of a busy one; also the largest chunk the readable yields. */
const MAX_READ_SIZE = 64 * 1024;

/**
 * The buffer size for the next read, after one of `n` bytes into `size`
 * (Netty's adaptive receive buffer, simplified): a full read means more is
 * waiting, so grow fourfold; a read that used under a quarter means the
 * traffic is small, so shrink to twice what it needed.
 */
export function nextReadSize(n: number, size: number): number {
  if (n >= size) return Math.min(size * 4, MAX_READ_SIZE);
  if (n * 4 >= size) return size;
  let next = MIN_READ_SIZE;
  while (next < n * 2) next *= 2;
  return next;
}

export class DenoConnection extends StreamConnection {
  override readonly localAddr: NetAddr;
  override readonly remoteAddr: NetAddr;
  /** A write resolves once conn.write took every byte (into the kernel): the chunk is not kept. */
  readonly releasesWrittenChunks = true;

  readonly #conn: Deno.Conn<Deno.NetAddr>;
  /** TLS errors (`InvalidData` from rustls) become {@link TlsError}s. */
  readonly #tls: boolean;
  /** Sized to the traffic (see nextReadSize), so idle connections hold little. */
  #scratch = new Uint8Array(MIN_READ_SIZE);
  /** The chunk being written, and how many of its bytes conn.write took so far. */
  #writing = NOTHING;
  #written = 0;

  /**
   * @param conn the socket; a `TcpConn` gets `TCP_NODELAY` here (a `TlsConn`
   *   has no such call: a connecting client sets it before `startTls`)
   * @param tls whether `conn` speaks TLS
   */
  constructor(conn: Deno.Conn<Deno.NetAddr>, tls = false) {
    // One chunk of read-ahead keeps a read in flight while the consumer works,
    // without buffering more than one read buffer in user space.
    super({ highWaterMark: 1 });
    this.#conn = conn;
    this.#tls = tls;
    if (!tls) setNoDelay(conn as Deno.TcpConn);
    this.localAddr = toNetAddr(conn.localAddr);
    this.remoteAddr = toNetAddr(conn.remoteAddr);
  }

  // The hooks chain onto Deno's own promises instead of being async
  // functions: an async function adds a suspended frame and a promise of its
  // own to every read and write, which a connection that does one echo pays
  // for several times, and a parked read holds for as long as it is idle.

  protected override pull(): Promise<void> {
    return this.#conn.read(this.#scratch).then(this.#onRead, this.#onIoError);
  }

  readonly #onRead = (n: number | null): void => {
    if (this.readDone) return;
    this.push(n === null ? null : this.#take(n));
  };

  readonly #onIoError = (err: unknown): never => {
    throw this.#ioError(err);
  };

  /**
   * Hand out the bytes just read, and size the buffer for the next read. A
   * mostly-full buffer is given away as is (and replaced); a small read is
   * copied, so a 10-byte chunk does not pin a whole buffer for as long as the
   * consumer keeps a view of it, and the buffer is kept if its size stays.
   *
   * Ownership: a chunk the readable yields is the consumer's for good; its
   * bytes are never written again. So a buffer given away is never reused
   * (not pooled): the decoders keep views of the chunks (a partial frame's
   * tail until the next read completes it, every whole frame as a view
   * handed on), the default serializer's payload is a view of its frame,
   * and a handler may keep that payload for as long as it likes (a
   * broadcast's, in 50 push queues until each connection wrote it).
   */
  #take(n: number): Uint8Array {
    const scratch = this.#scratch;
    const size = nextReadSize(n, scratch.length);
    if (n * 2 < scratch.length) {
      if (size !== scratch.length) this.#scratch = new Uint8Array(size);
      return scratch.slice(0, n);
    }
    this.#scratch = new Uint8Array(size);
    return scratch.subarray(0, n);
  }

  protected override writeChunk(chunk: Uint8Array): Promise<void> {
    if (chunk.byteLength === 0) return Promise.resolve();
    // Writes run one at a time (StreamConnection's rule), so the chunk and
    // the bytes written so far are fields, not a closure per write.
    this.#writing = chunk;
    this.#written = 0;
    return this.#conn.write(chunk).then(this.#onWritten, this.#onIoError);
  }

  /** conn.write may take only part of the chunk when the socket is full: write the rest. */
  readonly #onWritten = (n: number): Promise<void> | undefined => {
    const chunk = this.#writing;
    const written = this.#written += n;
    if (written < chunk.byteLength) {
      return this.#conn.write(chunk.subarray(written)).then(this.#onWritten, this.#onIoError);
    }
    this.#writing = NOTHING; // the chunk is the caller's again (releasesWrittenChunks)
    return undefined;
  };

  protected override sendEnd(): Promise<void> {
    return this.#conn.closeWrite().catch(this.#onIoError);
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
    if (this.#tls && err instanceof Deno.errors.InvalidData) {
      return this.fail(new TlsError(`TLS failed: ${describe(err)}`, { cause: err }));
    }
    return this.fail(socketError({ cause: err, detail: describe(err) }, isPeerGone(err)));
  }
}

/** `TCP_NODELAY` on, ignoring a socket the peer already reset (the first read reports it). */
export function setNoDelay(conn: Deno.TcpConn): void {
  try {
    conn.setNoDelay(true);
  } catch {
    // Reset already: nothing to tune.
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
