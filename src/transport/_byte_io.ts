/**
 * The byte reader and writer the library's own connection core uses, and
 * `openByteIo`, which takes them from a {@link Connection}: directly from a
 * connection of ours (no web stream is built: an idle server connection
 * keeps neither the two streams nor their closures and promises), through
 * `readable.getReader()` / `writable.getWriter()` from any other.
 *
 * The two interfaces are the part of `ReadableStreamDefaultReader` and
 * `WritableStreamDefaultWriter` the core calls, with the same meaning, so
 * a stream's reader and writer are valid ones.
 *
 * @module
 */
import type { Connection } from "./types.ts";

/** What the core reads a connection's bytes with (a `ReadableStreamDefaultReader`'s subset). */
export interface ByteReader {
  /** The next chunk, `done` at the peer's FIN; rejects once the connection failed. */
  read(): Promise<ReadableStreamReadResult<Uint8Array>>;
  /** Stop reading: what is queued is dropped, a waiting read ends `done`. */
  cancel(reason?: unknown): Promise<void>;
  /** Give the read side back (a waiting read rejects with a TypeError). */
  releaseLock(): void;
}

/** What the core writes a connection's bytes with (a `WritableStreamDefaultWriter`'s subset). */
export interface ByteWriter {
  /** Send `chunk` after the writes before it; resolves once the transport took it. */
  write(chunk: Uint8Array): Promise<void>;
  /** Half-close (FIN) after the writes before it. */
  close(): Promise<void>;
  /** Close the whole connection; what is queued is dropped. */
  abort(reason?: unknown): Promise<void>;
  /** Resolves once the write side closed, rejects once it failed. */
  readonly closed: Promise<void>;
  /** Room before the writer is full (1 when idle, 0 or less while writing); null once failed. */
  readonly desiredSize: number | null;
  /** Give the write side back (writes in flight carry on). */
  releaseLock(): void;
}

/** A connection's reader and writer, both locked to the one who opened them. */
export interface ByteIo {
  readonly reader: ByteReader;
  readonly writer: ByteWriter;
}

/**
 * The method a connection of ours offers for direct I/O. Not exported from
 * any public module: a user's transport never has it, and gets the fallback.
 */
export const openDirectIo: unique symbol = Symbol("wireframe.openDirectIo");

/** A connection that hands out its reader and writer without web streams. */
export interface DirectIoConnection extends Connection {
  /** Lock both directions as {@link openByteIo} does. */
  [openDirectIo](): ByteIo;
}

/**
 * Lock `conn`'s read and write sides and return their reader and writer.
 * Like `getReader()` / `getWriter()`, it throws a TypeError for a side that
 * is locked already.
 */
export function openByteIo(conn: Connection): ByteIo {
  const direct = (conn as Partial<DirectIoConnection>)[openDirectIo];
  if (direct !== undefined) return direct.call(conn);
  return { reader: conn.readable.getReader(), writer: conn.writable.getWriter() };
}

/**
 * A direct writer's `closed`, made only when someone asks for it (most never
 * do): already settled if the writer has closed or failed by then, and marked
 * handled, as a stream writer's `closed` is, so a failure nobody awaits is no
 * unhandled rejection.
 */
export function writerClosedSignal(failure: unknown, closed: boolean): PromiseWithResolvers<void> {
  const signal = Promise.withResolvers<void>();
  signal.promise.catch(() => {});
  if (failure !== undefined) signal.reject(failure);
  else if (closed) signal.resolve();
  return signal;
}
