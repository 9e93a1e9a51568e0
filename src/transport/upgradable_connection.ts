/**
 * `UpgradableConnection`: a {@link Connection} whose bytes can be switched to
 * TLS in place, while its reader and writer stay the same objects — what a
 * server connection needs for `ctx.upgradeTls()` (STARTTLS): the connection
 * core keeps reading and writing the same streams, which pass through TLS
 * from the upgrade on.
 *
 * It costs a stream hop per chunk each way, so the server wraps its
 * connections in one only when it listens with `startTls`.
 *
 * @module
 */
import { startTls } from "./start_tls.ts";
import { ConnectionClosedError, TlsError } from "./errors.ts";
import type { Connection, NetAddr, TlsListenOptions } from "./types.ts";

/** A connection that can become a TLS server connection once (see {@link upgrade}). */
export class UpgradableConnection implements Connection {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  readonly localAddr: NetAddr;
  readonly remoteAddr: NetAddr;
  /** The raw connection's: an upgraded one closes it when it closes. */
  readonly closed: Promise<void>;

  readonly #raw: Connection;
  readonly #identity: TlsListenOptions;
  #inner: Connection;
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  /** Set while the streams are being switched: reads and writes wait for it. */
  #switching: Promise<void> | undefined;
  /** The write being forwarded, if any (the switch waits for it). */
  #writing: Promise<void> | undefined;
  #upgraded = false;
  /** A failed upgrade closed the connection: later reads and writes reject with this. */
  #failed: ConnectionClosedError | undefined;

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
    this.#reader = raw.readable.getReader();
    this.#writer = raw.writable.getWriter();
    // High-water mark 0: a read reaches the connection below only when ours is asked for, so
    // nothing is read ahead of an upgrade.
    this.readable = new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        if (this.#switching) await this.#switching;
        if (this.#failed) throw this.#failed;
        const { value, done } = await this.#reader.read();
        if (done) controller.close();
        else controller.enqueue(value);
      },
      cancel: (reason) => this.#reader.cancel(reason),
    }, { highWaterMark: 0 });
    this.writable = new WritableStream<Uint8Array>({
      write: (chunk) => this.#forward(() => this.#writer.write(chunk)),
      close: () => this.#forward(() => this.#writer.close()),
      abort: () => this.close(),
    });
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
      if (this.#writing) await this.#writing.catch(() => {});
      this.#reader.releaseLock();
      this.#writer.releaseLock();
      const upgraded = await startTls(this.#raw, { role: "server", ...this.#identity, buffered });
      this.#inner = upgraded;
      this.#reader = upgraded.readable.getReader();
      this.#writer = upgraded.writable.getWriter();
      this.#upgraded = true;
    } catch (error) {
      this.#failed = new ConnectionClosedError("the TLS upgrade failed", { cause: error });
      throw error;
    } finally {
      this.#switching = undefined;
      resolve();
    }
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
}
