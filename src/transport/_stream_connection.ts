/**
 * The lifecycle the Deno, Bun and in-memory connections share: the two
 * streams and their controllers, the read/write/failed/released state
 * machine, half-close, `close()` and the `closed` promise. A transport
 * supplies only how bytes move (the hooks below).
 *
 * @module
 */
import { ConnectionClosedError, ConnectionResetError, type TransportError } from "./errors.ts";
import type { Connection, NetAddr } from "./types.ts";

/**
 * A {@link Connection} whose streams are driven by a subclass. Invariants:
 * a direction marked done is never touched again; once released, nothing
 * changes any more and `closed` has resolved (it never rejects).
 */
export abstract class StreamConnection implements Connection {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  abstract readonly localAddr: NetAddr;
  abstract readonly remoteAddr: NetAddr;
  readonly closed: Promise<void>;

  readonly #resolveClosed: () => void;
  #readController!: ReadableStreamDefaultController<Uint8Array>;
  #writeController!: WritableStreamDefaultController;
  /** Set once the connection is dead: what every later read/write rejects with. */
  #failure: TransportError | undefined;
  #readDone = false;
  #writeDone = false;
  #released = false;

  /**
   * @param readableStrategy the readable's queuing strategy: how much a
   *   transport reads ahead of the consumer is its own trade-off
   */
  constructor(readableStrategy: QueuingStrategy<Uint8Array>) {
    const { promise, resolve } = Promise.withResolvers<void>();
    this.closed = promise;
    this.#resolveClosed = resolve;
    // `start` runs synchronously here, before the subclass sets its fields;
    // `pull` and the sink methods only run later, once it has.
    this.readable = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#readController = controller;
      },
      pull: () => this.pull(),
      cancel: () => {
        this.cancelRead();
        this.#endRead();
      },
    }, readableStrategy);
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
    this.terminate(new ConnectionClosedError());
  }

  // --- hooks ---

  /** The readable wants data: read some and {@link push} it, or let the source resume. */
  protected abstract pull(): Promise<void> | void;

  /** Send `chunk` (already checked to be a Uint8Array); resolve once it was all taken. */
  protected abstract writeChunk(chunk: Uint8Array): Promise<void>;

  /** Send FIN: our write side is over, reading carries on. */
  protected abstract sendEnd(): Promise<void> | void;

  /**
   * Free the underlying resource. Called exactly once, when both directions
   * are over or the connection failed (`failure` then says why), just
   * before `closed` resolves.
   */
  protected abstract releaseResource(failure: TransportError | undefined): void;

  /** The consumer cancelled the readable; called before the read side ends. */
  protected cancelRead(): void {}

  // --- for subclasses ---

  /** What the connection failed with, if it did. */
  protected get failure(): TransportError | undefined {
    return this.#failure;
  }

  /** Whether the readable is over (ended, cancelled or failed). */
  protected get readDone(): boolean {
    return this.#readDone;
  }

  /** The readable's `desiredSize`: its high-water mark less what is queued (0 once over). */
  protected get desiredSize(): number {
    return this.#readDone ? 0 : this.#readController.desiredSize ?? 0;
  }

  /** Whether the connection is fully over and its resource released. */
  protected get released(): boolean {
    return this.#released;
  }

  /**
   * Hand `chunk` to the readable, or end it (`null`: the peer's FIN). Ignored
   * once the read side is over. Returns whether the readable's queue is now
   * full, so a push-based source knows to stop reading.
   */
  protected push(chunk: Uint8Array | null): boolean {
    if (this.#readDone) return false;
    if (chunk === null) {
      this.#readController.close();
      this.#endRead();
      return false;
    }
    this.#readController.enqueue(chunk);
    return (this.#readController.desiredSize ?? 0) <= 0;
  }

  /** Our write side is over without a FIN (e.g. the peer is gone). */
  protected endWrite(): void {
    this.#writeDone = true;
    this.#releaseIfDone();
  }

  /**
   * Kill the connection with `error` and return what I/O should reject with:
   * an earlier failure wins, so every caller reports the same one.
   */
  protected fail(error: TransportError): TransportError {
    if (this.#failure) return this.#failure;
    this.terminate(error);
    return error;
  }

  /** Error both open directions with `error`, and release. No-op once released. */
  protected terminate(error: TransportError): void {
    if (this.#released) return;
    this.#failure = error;
    if (!this.#readDone) this.#readController.error(error);
    if (!this.#writeDone) this.#writeController.error(error);
    this.#readDone = this.#writeDone = true;
    this.#release();
  }

  // --- stream plumbing ---

  #write(chunk: Uint8Array): Promise<void> {
    if (this.#failure) throw this.#failure;
    if (!(chunk instanceof Uint8Array)) {
      throw new TypeError("Connection.writable accepts Uint8Array");
    }
    return this.writeChunk(chunk);
  }

  #closeWrite(): Promise<void> | void {
    if (this.#failure) throw this.#failure;
    const sent = this.sendEnd();
    // A synchronous FIN ends the write side at once, not a microtask later.
    if (sent === undefined) return this.endWrite();
    return sent.then(() => this.endWrite());
  }

  #endRead(): void {
    this.#readDone = true;
    this.#releaseIfDone();
  }

  #releaseIfDone(): void {
    if (this.#readDone && this.#writeDone) this.#release();
  }

  #release(): void {
    if (this.#released) return;
    this.#released = true;
    this.releaseResource(this.#failure);
    this.#resolveClosed();
  }
}
