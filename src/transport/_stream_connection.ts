/**
 * The lifecycle the Deno, Bun, Node, in-memory and WebSocket connections
 * share: the read queue and the write queue, the read/write/failed/released
 * state machine, half-close, `close()` and the `closed` promise. A transport
 * supplies only how bytes move (the hooks below).
 *
 * Who holds the bytes. The state machine is driven either directly, by the
 * {@link ByteReader} and {@link ByteWriter} that `openByteIo()` hands the
 * library's connection core (no web stream is built: an idle server
 * connection keeps none), or by the `readable` and `writable` streams,
 * which are built on first access only. Each direction has one owner:
 *
 * - a stream built while nobody holds its direction takes it over, as the
 *   only stream did before direct I/O existed: the read-ahead queue moves
 *   into the readable (which pulls at the transport's high-water mark), the
 *   writable's sink is the transport's;
 * - opening direct I/O locks both directions; a stream accessed while it
 *   holds them is built locked (`locked` is true, `getReader()` throws), as
 *   an adapter over the direct side, and unlocks when that side calls
 *   `releaseLock()`;
 * - once a stream was built, direct I/O of that direction is its reader or
 *   writer (`getReader()` / `getWriter()`), with the stream's own locking.
 *
 * @module
 */
import { ConnectionClosedError, ConnectionResetError, type TransportError } from "./errors.ts";
import {
  type ByteIo,
  type ByteReader,
  type ByteWriter,
  openDirectIo,
  writerClosedSignal,
} from "./_byte_io.ts";
import type { Connection, NetAddr } from "./types.ts";

type ReadResult = ReadableStreamReadResult<Uint8Array>;

const DONE: ReadResult = Object.freeze({ done: true, value: undefined });

/** A read waiting for a chunk. */
interface WaitingRead {
  resolve(result: ReadResult): void;
  reject(error: unknown): void;
}

/** A write queued behind the one in flight. */
interface QueuedWrite {
  chunk: Uint8Array;
  resolve(): void;
  reject(error: unknown): void;
}

const releasedError = (): TypeError => new TypeError("the reader or writer was released");
const ignore = (): void => {};

/** StreamConnection's private plumbing, for the direct reader and writer. */
interface Plumbing {
  read(conn: StreamConnection): Promise<ReadResult>;
  cancel(conn: StreamConnection): Promise<void>;
  releaseRead(conn: StreamConnection): void;
  write(conn: StreamConnection, chunk: Uint8Array): Promise<void>;
  close(conn: StreamConnection): Promise<void>;
  abort(conn: StreamConnection, reason: unknown): Promise<void>;
  closed(conn: StreamConnection): Promise<void>;
  desiredSize(conn: StreamConnection): number | null;
  releaseWrite(conn: StreamConnection): void;
}

let io: Plumbing;

/**
 * A {@link Connection} whose bytes are moved by a subclass. Invariants:
 * a direction marked done is never touched again; once released, nothing
 * changes any more and `closed` has resolved (it never rejects).
 */
export abstract class StreamConnection implements Connection {
  abstract readonly localAddr: NetAddr;
  abstract readonly remoteAddr: NetAddr;
  readonly closed: Promise<void>;

  readonly #resolveClosed: () => void;
  /** Set once the connection is dead: what every later read/write rejects with. */
  #failure: TransportError | undefined;
  #readDone = false;
  #writeDone = false;
  #released = false;

  // Read side: the read-ahead queue, with the stream semantics of a
  // ReadableStream under the transport's queuing strategy.
  readonly #highWaterMark: number;
  readonly #size: ((chunk: Uint8Array) => number) | undefined;
  #queue: Uint8Array[] = [];
  #queuedSize = 0;
  #waiting: WaitingRead[] = [];
  /** What reads reject with once the read side failed (the queue is dropped then). */
  #readError: unknown;
  #pulling = false;
  #pullAgain = false;
  /** The pull in flight, when it is asynchronous. */
  #pullPromise: Promise<void> | undefined;
  /** The readable owns the bytes: they are queued in it, and it calls pull() itself. */
  #streamOwnsRead = false;
  #readOwner: "none" | "direct" | "stream" = "none";
  #readable: ReadableStream<Uint8Array> | undefined;
  #readController: ReadableStreamDefaultController<Uint8Array> | undefined;
  /** The reader that keeps a stream built under direct I/O locked. */
  #readableHold: ReadableStreamDefaultReader<Uint8Array> | undefined;

  // Write side: one write in flight, the rest queued (a WritableStream's
  // semantics with a high-water mark of one chunk).
  #writes: QueuedWrite[] = [];
  #writing: Promise<void> | undefined;
  #pendingWrites = 0;
  #closeWanted: { resolve(): void; reject(error: unknown): void } | undefined;
  #closeRequested = false;
  #writeClosed = false;
  /** What writes reject with once the write side failed or was aborted. */
  #writeError: unknown;
  #writerClosed: PromiseWithResolvers<void> | undefined;
  #writeOwner: "none" | "direct" | "stream" = "none";
  #writable: WritableStream<Uint8Array> | undefined;
  #writeController: WritableStreamDefaultController | undefined;
  #writableHold: WritableStreamDefaultWriter<Uint8Array> | undefined;

  /**
   * @param readableStrategy the read queue's strategy: how much a transport
   *   reads ahead of the consumer is its own trade-off
   */
  constructor(readableStrategy: QueuingStrategy<Uint8Array>) {
    const { promise, resolve } = Promise.withResolvers<void>();
    this.closed = promise;
    this.#resolveClosed = resolve;
    this.#highWaterMark = readableStrategy.highWaterMark ?? 1;
    this.#size = readableStrategy.size;
    // As a ReadableStream starts pulling once started: after the subclass
    // constructor has set its fields.
    if (this.#highWaterMark > 0) queueMicrotask(() => this.#pullIfWanted());
  }

  /** The read side as a web stream, built on first access (see the module comment). */
  get readable(): ReadableStream<Uint8Array> {
    if (this.#readable) return this.#readable;
    if (this.#readOwner === "none") return this.#readable = this.#owningReadable();
    // Direct I/O holds the read side: the stream reads from it once released.
    const stream = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#readController = controller;
      },
      pull: (controller) =>
        this.#read().then((result) => {
          if (result.done) controller.close();
          else controller.enqueue(result.value);
        }),
      cancel: () => this.#cancel(),
    }, { highWaterMark: 0 });
    this.#readable = stream;
    this.#readableHold = stream.getReader();
    return stream;
  }

  /**
   * A readable that takes the read side over, as the connection's only
   * stream was before direct I/O: what is queued moves into it, then
   * push() enqueues to it and it pulls at its own high-water mark.
   */
  #owningReadable(): ReadableStream<Uint8Array> {
    this.#readOwner = "stream";
    return new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#readController = controller;
        this.#streamOwnsRead = true;
        for (const chunk of this.#queue) controller.enqueue(chunk);
        this.#queue = [];
        this.#queuedSize = 0;
        if (this.#readError !== undefined) controller.error(this.#readError);
        else if (this.#readDone) controller.close();
      },
      // A pull started before the stream existed is still the one in flight.
      pull: () => this.#pullPromise ?? this.pull(),
      cancel: () => {
        this.cancelRead();
        this.#endRead();
      },
    }, { highWaterMark: this.#highWaterMark, size: this.#size });
  }

  /** The write side as a web stream, built on first access (see the module comment). */
  get writable(): WritableStream<Uint8Array> {
    if (this.#writable) return this.#writable;
    const untouched = this.#pendingWrites === 0 && !this.#closeRequested &&
      this.#writeError === undefined;
    if (this.#writeOwner === "none" && untouched) {
      return this.#writable = this.#owningWritable();
    }
    // Direct I/O holds the write side (or used it): the stream writes through it.
    const stream = new WritableStream<Uint8Array>({
      start: (controller) => {
        this.#writeController = controller;
      },
      write: (chunk) => this.#write(chunk),
      close: () => this.#close(),
      abort: (reason) => this.#abort(reason),
    });
    this.#writable = stream;
    if (this.#writeOwner === "direct") this.#writableHold = stream.getWriter();
    else this.#writeOwner = "stream";
    return stream;
  }

  /** A writable whose sink is the transport's, as before direct I/O (it queues the writes itself). */
  #owningWritable(): WritableStream<Uint8Array> {
    this.#writeOwner = "stream";
    return new WritableStream<Uint8Array>({
      start: (controller) => {
        this.#writeController = controller;
      },
      write: (chunk) => this.#sinkWrite(chunk),
      close: () => this.#sinkClose(),
      abort: () => this.close(),
    });
  }

  /** Reset before it was handed out: the listener skips it. */
  get isReset(): boolean {
    return this.#failure instanceof ConnectionResetError;
  }

  close(): void {
    // After a graceful close both directions are over already: terminate()
    // would do nothing, and the error (a captured stack) would be garbage.
    if (!this.#released) this.terminate(new ConnectionClosedError());
  }

  /**
   * Direct I/O for the connection core (`openByteIo`). Each direction
   * whose stream was built already goes through that stream instead.
   *
   * @throws {TypeError} if a direction is locked already
   */
  [openDirectIo](): ByteIo {
    const reader = this.#readable ? this.#readable.getReader() : this.#directReader();
    const writer = this.#writable ? this.#writable.getWriter() : this.#directWriter();
    return { reader, writer };
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

  /** The read queue's room: its high-water mark less what is queued (0 once over). */
  protected get desiredSize(): number {
    if (this.#readDone) return 0;
    if (this.#streamOwnsRead) return this.#readController!.desiredSize ?? 0;
    return this.#highWaterMark - this.#queuedSize;
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
    if (this.#streamOwnsRead) return this.#pushToStream(chunk);
    if (chunk === null) {
      // Queued chunks are still read; the reads waiting (none, or the
      // queue was empty) end now.
      for (const read of this.#waiting.splice(0)) read.resolve(DONE);
      this.#endRead();
      return false;
    }
    const read = this.#waiting.shift();
    if (read) {
      read.resolve({ done: false, value: chunk });
    } else {
      this.#queue.push(chunk);
      this.#queuedSize += this.#size ? this.#size(chunk) : 1;
    }
    this.#pullIfWanted();
    return this.#highWaterMark - this.#queuedSize <= 0;
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
    if (!this.#readDone) this.#failRead(error);
    if (!this.#writeDone) this.#failWrite(error);
    this.#readDone = this.#writeDone = true;
    this.#release();
  }

  // --- read plumbing ---

  #pushToStream(chunk: Uint8Array | null): boolean {
    const controller = this.#readController!;
    if (chunk === null) {
      controller.close();
      this.#endRead();
      return false;
    }
    controller.enqueue(chunk);
    return (controller.desiredSize ?? 0) <= 0;
  }

  #directReader(): ByteReader {
    if (this.#readOwner !== "none") throw new TypeError("the connection's read side is locked");
    this.#readOwner = "direct";
    return new DirectReader(this);
  }

  /** The direct reader gave the read side back. */
  #releaseRead(): void {
    for (const read of this.#waiting.splice(0)) read.reject(releasedError());
    this.#readOwner = "none";
    // A stream built meanwhile was kept locked for us: it is its own owner now.
    if (this.#readableHold) {
      this.#readableHold.releaseLock();
      this.#readableHold = undefined;
      this.#readOwner = "stream";
    }
  }

  #read(): Promise<ReadResult> {
    const chunk = this.#queue.shift();
    if (chunk !== undefined) {
      this.#queuedSize -= this.#size ? this.#size(chunk) : 1;
      this.#pullIfWanted();
      return Promise.resolve({ done: false, value: chunk });
    }
    if (this.#readError !== undefined) return Promise.reject(this.#readError);
    if (this.#readDone) return Promise.resolve(DONE);
    // An executor, not Promise.withResolvers(): one read per socket read
    // waits here, and on Bun the latter costs ~1.7× as much (~125 vs ~75 ns).
    const read = new Promise<ReadResult>((resolve, reject) => {
      this.#waiting.push({ resolve, reject });
    });
    this.#pullIfWanted();
    return read;
  }

  #cancel(): Promise<void> {
    if (this.#readError !== undefined) return Promise.reject(this.#readError);
    if (this.#readDone && this.#queue.length === 0) return Promise.resolve();
    this.#queue = [];
    this.#queuedSize = 0;
    for (const read of this.#waiting.splice(0)) read.resolve(DONE);
    this.cancelRead();
    this.#endRead();
    return Promise.resolve();
  }

  /** A ReadableStream's rule: pull while a read waits or the queue has room, one pull at a time. */
  #pullIfWanted(): void {
    if (this.#readDone || this.#streamOwnsRead) return;
    if (this.#waiting.length === 0 && this.#highWaterMark - this.#queuedSize <= 0) return;
    if (this.#pulling) {
      this.#pullAgain = true;
      return;
    }
    this.#pulling = true;
    let pulled: Promise<void> | void;
    try {
      pulled = this.pull();
    } catch (error) {
      return this.#pullFailed(error);
    }
    if (pulled === undefined) return this.#pulled();
    this.#pullPromise = pulled;
    pulled.then(this.#pulled, this.#pullFailed);
  }

  readonly #pulled = (): void => {
    this.#pulling = false;
    this.#pullPromise = undefined;
    if (!this.#pullAgain) return;
    this.#pullAgain = false;
    this.#pullIfWanted();
  };

  /** A failed pull fails the read side with its error (a transport failure already did). */
  readonly #pullFailed = (error: unknown): void => {
    this.#pulling = false;
    this.#pullPromise = undefined;
    if (this.#readDone) return;
    this.#failRead(error);
    this.#endRead();
  };

  #failRead(error: unknown): void {
    this.#readError = error;
    this.#queue = [];
    this.#queuedSize = 0;
    for (const read of this.#waiting.splice(0)) read.reject(error);
    this.#readController?.error(error);
  }

  // --- write plumbing ---

  #directWriter(): ByteWriter {
    if (this.#writeOwner !== "none") throw new TypeError("the connection's write side is locked");
    this.#writeOwner = "direct";
    return new DirectWriter(this);
  }

  /** The direct writer gave the write side back (writes in flight carry on). */
  #releaseWrite(): void {
    this.#writeOwner = "none";
    if (this.#writableHold) {
      this.#writableHold.releaseLock();
      this.#writableHold = undefined;
      this.#writeOwner = "stream";
    }
  }

  static {
    // The direct reader and writer below reach the private plumbing through
    // these, shared by all connections: one object each, with no closures.
    io = {
      read: (conn) => conn.#read(),
      cancel: (conn) => conn.#cancel(),
      releaseRead: (conn) => conn.#releaseRead(),
      write: (conn, chunk) => conn.#write(chunk),
      close: (conn) => conn.#close(),
      abort: (conn, reason) => conn.#abort(reason),
      closed: (conn) => conn.#writerClosedPromise(),
      desiredSize: (conn) => conn.#writeDesiredSize(),
      releaseWrite: (conn) => conn.#releaseWrite(),
    };
  }

  /** A WritableStream's rule: writes run one at a time, in order, after which close runs. */
  #write(chunk: Uint8Array): Promise<void> {
    if (this.#writeError !== undefined) return Promise.reject(this.#writeError);
    if (this.#closeRequested) return Promise.reject(new TypeError("the write side is closed"));
    this.#pendingWrites++;
    if (this.#writing === undefined) return this.#startWrite(chunk);
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    this.#writes.push({ chunk, resolve, reject });
    return promise;
  }

  #startWrite(chunk: Uint8Array): Promise<void> {
    let sent: Promise<void>;
    try {
      sent = this.#sinkWrite(chunk);
    } catch (error) {
      sent = Promise.reject(error);
    }
    const writing = sent.then(this.#wrote, this.#writeFailed);
    this.#writing = writing;
    return writing;
  }

  readonly #wrote = (): void => {
    this.#pendingWrites--;
    this.#writing = undefined;
    this.#next();
  };

  readonly #writeFailed = (error: unknown): never => {
    this.#pendingWrites--;
    this.#writing = undefined;
    if (this.#writeError === undefined) this.#failWrite(error);
    throw error;
  };

  /** Start what waits behind the write that just ended. */
  #next(): void {
    const queued = this.#writes.shift();
    if (queued) {
      this.#startWrite(queued.chunk).then(queued.resolve, queued.reject);
      return;
    }
    const close = this.#closeWanted;
    if (close) {
      this.#closeWanted = undefined;
      this.#runClose().then(close.resolve, close.reject);
    }
  }

  #close(): Promise<void> {
    if (this.#writeError !== undefined) return Promise.reject(this.#writeError);
    if (this.#closeRequested) return Promise.reject(new TypeError("the write side is closed"));
    this.#closeRequested = true;
    if (this.#writing === undefined) return this.#runClose();
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    this.#closeWanted = { resolve, reject };
    return promise;
  }

  async #runClose(): Promise<void> {
    try {
      await this.#sinkClose();
    } catch (error) {
      if (this.#writeError === undefined) this.#failWrite(error);
      throw error;
    }
    this.#writeClosed = true;
    this.#writerClosed?.resolve();
  }

  /** The transport's write, checked. */
  #sinkWrite(chunk: Uint8Array): Promise<void> {
    if (this.#failure) throw this.#failure;
    if (!(chunk instanceof Uint8Array)) {
      throw new TypeError("Connection.writable accepts Uint8Array");
    }
    return this.writeChunk(chunk);
  }

  /** The transport's FIN, then our write side is over. */
  #sinkClose(): Promise<void> | void {
    if (this.#failure) throw this.#failure;
    const sent = this.sendEnd();
    // A synchronous FIN ends the write side at once, not a microtask later.
    if (sent === undefined) return this.endWrite();
    return sent.then(() => this.endWrite());
  }

  /** Abort: the write side fails with `reason`, and once no write is in flight the connection closes. */
  async #abort(reason: unknown): Promise<void> {
    if (this.#writeClosed || this.#writeError !== undefined) return;
    this.#failWrite(reason ?? new ConnectionClosedError());
    if (this.#writing) await this.#writing.catch(ignore);
    this.close();
  }

  /** Fail the write side: what is queued rejects with `error`, the write in flight runs out. */
  #failWrite(error: unknown): void {
    this.#writeError = error;
    this.#pendingWrites -= this.#writes.length;
    for (const write of this.#writes.splice(0)) write.reject(error);
    this.#closeWanted?.reject(error);
    this.#closeWanted = undefined;
    this.#writerClosed?.reject(error);
    this.#writeController?.error(error);
  }

  #writeDesiredSize(): number | null {
    if (this.#writeError !== undefined) return null;
    return this.#writeClosed ? 0 : 1 - this.#pendingWrites;
  }

  #writerClosedPromise(): Promise<void> {
    this.#writerClosed ??= writerClosedSignal(this.#writeError, this.#writeClosed);
    return this.#writerClosed.promise;
  }

  // --- lifecycle ---

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

/** The read side, locked to the connection core until {@link releaseLock}. */
class DirectReader implements ByteReader {
  #conn: StreamConnection | undefined;

  constructor(conn: StreamConnection) {
    this.#conn = conn;
  }

  read(): Promise<ReadResult> {
    return this.#conn ? io.read(this.#conn) : Promise.reject(releasedError());
  }

  cancel(): Promise<void> {
    return this.#conn ? io.cancel(this.#conn) : Promise.reject(releasedError());
  }

  releaseLock(): void {
    if (this.#conn) io.releaseRead(this.#conn);
    this.#conn = undefined;
  }
}

/** The write side, locked to the connection core until {@link releaseLock}. */
class DirectWriter implements ByteWriter {
  #conn: StreamConnection | undefined;

  constructor(conn: StreamConnection) {
    this.#conn = conn;
  }

  write(chunk: Uint8Array): Promise<void> {
    return this.#conn ? io.write(this.#conn, chunk) : Promise.reject(releasedError());
  }

  close(): Promise<void> {
    return this.#conn ? io.close(this.#conn) : Promise.reject(releasedError());
  }

  abort(reason?: unknown): Promise<void> {
    return this.#conn ? io.abort(this.#conn, reason) : Promise.reject(releasedError());
  }

  get closed(): Promise<void> {
    return this.#conn ? io.closed(this.#conn) : Promise.reject(releasedError());
  }

  get desiredSize(): number | null {
    return this.#conn ? io.desiredSize(this.#conn) : null;
  }

  releaseLock(): void {
    if (this.#conn) io.releaseWrite(this.#conn);
    this.#conn = undefined;
  }
}
