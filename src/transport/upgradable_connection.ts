/**
 * `UpgradableConnection`: a {@link Connection} whose bytes can be switched to
 * TLS in place, while its reader and writer stay the same objects — what a
 * server connection needs for `ctx.upgradeTls()` (STARTTLS): the connection
 * core keeps reading and writing through the same reader and writer, which
 * pass through TLS from the upgrade on.
 *
 * It costs a forwarding step per chunk each way (no stream: the core opens
 * it with `openByteIo`), so the server wraps its connections in one only
 * when it listens with `startTls`.
 *
 * @module
 */
import { startTls } from "./start_tls.ts";
import { ConnectionClosedError, TlsError } from "./errors.ts";
import {
  type ByteIo,
  type ByteReader,
  type ByteWriter,
  openByteIo,
  openDirectIo,
  writerClosedSignal,
} from "./_byte_io.ts";
import type { Connection, NetAddr, TlsListenOptions } from "./types.ts";

const ignore = (): void => {};

/**
 * A connection that can become a TLS server connection once (see {@link upgrade}).
 *
 * Its own reader and writer forward to the raw connection's direct I/O, then
 * to the upgraded one's: the connection core opens them with `openByteIo`
 * and pays no stream hop. `readable` and `writable` are built on first
 * access for other users, over the same forwarding, with the locking rules
 * of `StreamConnection`: built while direct I/O holds a side, the stream is
 * locked until that side is released; once built, direct I/O of that side
 * is the stream's reader or writer.
 */
export class UpgradableConnection implements Connection {
  readonly localAddr: NetAddr;
  readonly remoteAddr: NetAddr;
  /** The raw connection's: an upgraded one closes it when it closes. */
  readonly closed: Promise<void>;

  readonly #raw: Connection;
  readonly #identity: TlsListenOptions;
  #inner: Connection;
  #io: ByteIo;
  /** Set while the connection below is being switched: reads and writes wait for it. */
  #switching: Promise<void> | undefined;
  /** The write being forwarded, if any (the switch waits for it). */
  #writing: Promise<void> | undefined;
  #upgraded = false;
  /** A failed upgrade closed the connection: later reads and writes reject with this. */
  #failed: ConnectionClosedError | undefined;
  /** Writes (and a close) not yet settled: a writer's desiredSize is 1 less this. */
  #pendingWrites = 0;
  /** What the write side failed with (a write or close that rejected). */
  #writeError: unknown;
  #writeClosed = false;
  #writerClosed: PromiseWithResolvers<void> | undefined;
  #readOwner: "none" | "direct" | "stream" = "none";
  #writeOwner: "none" | "direct" | "stream" = "none";
  #readable: ReadableStream<Uint8Array> | undefined;
  #writable: WritableStream<Uint8Array> | undefined;
  #readableHold: ReadableStreamDefaultReader<Uint8Array> | undefined;
  #writableHold: WritableStreamDefaultWriter<Uint8Array> | undefined;

  /**
   * @param raw the accepted connection
   * @param identity the certificate and key an upgrade presents
   */
  constructor(raw: Connection, identity: TlsListenOptions) {
    this.#raw = this.#inner = raw;
    this.#identity = identity;
    this.localAddr = raw.localAddr;
    this.remoteAddr = raw.remoteAddr;
    this.closed = raw.closed;
    this.#io = openByteIo(raw);
  }

  /** The read side as a web stream, built on first access. */
  get readable(): ReadableStream<Uint8Array> {
    if (this.#readable) return this.#readable;
    // High-water mark 0: a read reaches the connection below only when ours is asked for, so
    // nothing is read ahead of an upgrade.
    const stream = new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        const { value, done } = await this.#read();
        if (done) controller.close();
        else controller.enqueue(value);
      },
      cancel: (reason) => this.#io.reader.cancel(reason),
    }, { highWaterMark: 0 });
    this.#readable = stream;
    if (this.#readOwner === "direct") this.#readableHold = stream.getReader();
    else this.#readOwner = "stream";
    return stream;
  }

  /** The write side as a web stream, built on first access. */
  get writable(): WritableStream<Uint8Array> {
    if (this.#writable) return this.#writable;
    const stream = new WritableStream<Uint8Array>({
      write: (chunk) => this.#forward(() => this.#io.writer.write(chunk)),
      close: () => this.#forward(() => this.#io.writer.close()),
      abort: () => this.close(),
    });
    this.#writable = stream;
    if (this.#writeOwner === "direct") this.#writableHold = stream.getWriter();
    else this.#writeOwner = "stream";
    return stream;
  }

  /** Whether {@link upgrade} succeeded. */
  get upgraded(): boolean {
    return this.#upgraded;
  }

  close(): void {
    this.#inner.close();
    this.#raw.close();
  }

  /**
   * Direct I/O for the connection core (`openByteIo`): forwards to the
   * connection below, as the streams do.
   *
   * @throws {TypeError} if a side is locked already
   */
  [openDirectIo](): ByteIo {
    const reader = this.#readable ? this.#readable.getReader() : this.#directReader();
    const writer = this.#writable ? this.#writable.getWriter() : this.#directWriter();
    return { reader, writer };
  }

  /**
   * Run a TLS server handshake on the connection and carry on through TLS.
   * Call it with no read waiting and everything written (the connection core
   * does: the command that asked is in flight, its frames flushed). Writes
   * made meanwhile wait and go out encrypted.
   *
   * @param buffered bytes already read that belong to TLS (a ClientHello the
   *   peer sent behind its request): the handshake reads them first
   *
   * @throws {TlsError} if it was upgraded already, or the handshake failed
   *   (the connection is closed then)
   */
  async upgrade(buffered?: Uint8Array): Promise<void> {
    if (this.#upgraded || this.#switching) throw new TlsError("the connection is TLS already");
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#switching = promise;
    try {
      if (this.#writing) await this.#writing.catch(ignore);
      this.#io.reader.releaseLock();
      this.#io.writer.releaseLock();
      const upgraded = await startTls(this.#raw, { role: "server", ...this.#identity, buffered });
      this.#inner = upgraded;
      this.#io = openByteIo(upgraded);
      this.#upgraded = true;
    } catch (error) {
      this.#failed = new ConnectionClosedError("the TLS upgrade failed", { cause: error });
      throw error;
    } finally {
      this.#switching = undefined;
      resolve();
    }
  }

  async #read(): Promise<ReadableStreamReadResult<Uint8Array>> {
    if (this.#switching) await this.#switching;
    if (this.#failed) throw this.#failed;
    return this.#io.reader.read();
  }

  async #forward(write: () => Promise<void>): Promise<void> {
    if (this.#switching) await this.#switching;
    if (this.#failed) throw this.#failed;
    const writing = write();
    this.#writing = writing;
    try {
      await writing;
    } finally {
      if (this.#writing === writing) this.#writing = undefined;
    }
  }

  #directReader(): ByteReader {
    if (this.#readOwner !== "none") throw new TypeError("the connection's read side is locked");
    this.#readOwner = "direct";
    let held = true;
    return {
      read: () => held ? this.#read() : Promise.reject(releasedError()),
      cancel: (reason) => held ? this.#io.reader.cancel(reason) : Promise.reject(releasedError()),
      releaseLock: () => {
        if (!held) return;
        held = false;
        this.#readOwner = "none";
        if (this.#readableHold) {
          this.#readableHold.releaseLock();
          this.#readableHold = undefined;
          this.#readOwner = "stream";
        }
      },
    };
  }

  #directWriter(): ByteWriter {
    if (this.#writeOwner !== "none") throw new TypeError("the connection's write side is locked");
    this.#writeOwner = "direct";
    let held = true;
    const writer = {
      write: (chunk: Uint8Array) =>
        held ? this.#directWrite(chunk, false) : Promise.reject(releasedError()),
      close: () => held ? this.#directWrite(undefined, true) : Promise.reject(releasedError()),
      abort: () => {
        if (!held) return Promise.reject(releasedError());
        this.close();
        return Promise.resolve();
      },
      releaseLock: () => {
        if (!held) return;
        held = false;
        this.#writeOwner = "none";
        if (this.#writableHold) {
          this.#writableHold.releaseLock();
          this.#writableHold = undefined;
          this.#writeOwner = "stream";
        }
      },
    };
    // Getters as arrows: they read this connection's state, not the writer's.
    return Object.defineProperties(writer, {
      closed: {
        get: () => held ? this.#writerClosedPromise() : Promise.reject(releasedError()),
      },
      desiredSize: {
        get: () => {
          if (this.#writeError !== undefined) return null;
          return this.#writeClosed ? 0 : 1 - this.#pendingWrites;
        },
      },
    }) as typeof writer & Pick<ByteWriter, "closed" | "desiredSize">;
  }

  /** A write (or, `close`, the FIN) through the writer below, with the writer's state kept here. */
  async #directWrite(chunk: Uint8Array | undefined, close: boolean): Promise<void> {
    if (this.#writeError !== undefined) throw this.#writeError;
    if (!close) this.#pendingWrites++;
    try {
      await this.#forward(() => close ? this.#io.writer.close() : this.#io.writer.write(chunk!));
    } catch (error) {
      if (this.#writeError === undefined) {
        this.#writeError = error;
        this.#writerClosed?.reject(error);
      }
      throw error;
    } finally {
      if (!close) this.#pendingWrites--;
    }
    if (close) {
      this.#writeClosed = true;
      this.#writerClosed?.resolve();
    }
  }

  #writerClosedPromise(): Promise<void> {
    this.#writerClosed ??= writerClosedSignal(this.#writeError, this.#writeClosed);
    return this.#writerClosed.promise;
  }
}

function releasedError(): TypeError {
  return new TypeError("the reader or writer was released");
}
