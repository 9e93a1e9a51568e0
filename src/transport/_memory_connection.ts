/**
 * One end of an in-memory connection: two {@link Pipe}s, one per direction,
 * wrapped in the same stream semantics as the TCP transports.
 *
 * @module
 */
import { Pipe } from "./_memory_pipe.ts";
import { ConnectionClosedError, ConnectionResetError, type TransportError } from "./errors.ts";
import type { Connection, NetAddr } from "./types.ts";

export class MemoryConnection implements Connection {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  readonly localAddr: NetAddr;
  readonly remoteAddr: NetAddr;
  readonly closed: Promise<void>;

  readonly #incoming: Pipe;
  readonly #outgoing: Pipe;
  readonly #resolveClosed: () => void;
  #peer: MemoryConnection | undefined;
  #readController!: ReadableStreamDefaultController<Uint8Array>;
  #writeController!: WritableStreamDefaultController;
  #failure: TransportError | undefined;
  #readDone = false;
  #writeDone = false;
  #released = false;

  constructor(incoming: Pipe, outgoing: Pipe, localAddr: NetAddr, remoteAddr: NetAddr) {
    this.#incoming = incoming;
    this.#outgoing = outgoing;
    this.localAddr = localAddr;
    this.remoteAddr = remoteAddr;
    const { promise, resolve } = Promise.withResolvers<void>();
    this.closed = promise;
    this.#resolveClosed = resolve;
    // highWaterMark 0: bytes leave the pipe only for a waiting read, so the
    // pipe's capacity is the whole in-flight bound.
    this.readable = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#readController = controller;
      },
      pull: (controller) => this.#pull(controller),
      cancel: () => this.#endRead(),
    }, { highWaterMark: 0 });
    this.writable = new WritableStream<Uint8Array>({
      start: (controller) => {
        this.#writeController = controller;
      },
      write: (chunk) => this.#write(chunk),
      close: () => this.#closeWrite(),
      abort: () => this.close(),
    });
  }

  /** Link the two ends; called once by the pair factory. */
  attach(peer: MemoryConnection): void {
    this.#peer = peer;
  }

  /** Reset before it was handed out: the listener skips it. */
  get isReset(): boolean {
    return this.#failure instanceof ConnectionResetError;
  }

  /** Abortive close: the peer sees a reset in both directions. */
  close(): void {
    if (this.#released) return;
    const local = new ConnectionClosedError();
    this.#outgoing.reset(new ConnectionResetError(), local);
    this.#incoming.reset(local, new ConnectionResetError());
    this.#terminate(local);
    if (this.#peer) this.#peer.#terminate(new ConnectionResetError());
  }

  async #pull(controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    const chunk = await this.#incoming.read();
    if (this.#readDone) return;
    if (chunk === null) {
      controller.close();
      this.#endRead();
    } else {
      controller.enqueue(chunk);
    }
  }

  async #write(chunk: Uint8Array): Promise<void> {
    if (this.#failure) throw this.#failure;
    if (!(chunk instanceof Uint8Array)) {
      throw new TypeError("Connection.writable accepts Uint8Array");
    }
    try {
      await this.#outgoing.write(chunk);
    } catch (err) {
      // The peer is gone: this direction is over even if nobody closes us.
      this.#writeDone = true;
      this.#releaseIfDone();
      throw err;
    }
  }

  #closeWrite(): void {
    if (this.#failure) throw this.#failure;
    this.#outgoing.end();
    this.#writeDone = true;
    this.#releaseIfDone();
  }

  #endRead(): void {
    this.#readDone = true;
    this.#releaseIfDone();
  }

  #releaseIfDone(): void {
    if (!this.#readDone || !this.#writeDone || this.#released) return;
    // Like closing a socket the peer may still write to: a peer that has
    // not sent FIN gets a reset on its next write; what it reads is intact.
    if (!this.#incoming.ended) {
      this.#incoming.reset(new ConnectionClosedError(), new ConnectionResetError());
    }
    this.#release();
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
    this.#released = true;
    this.#resolveClosed();
  }
}

/** Two connected ends sharing two pipes of `capacity` bytes each. */
export function connectedPair(
  capacity: number,
  addrA: NetAddr,
  addrB: NetAddr,
): [MemoryConnection, MemoryConnection] {
  const aToB = new Pipe(capacity);
  const bToA = new Pipe(capacity);
  const a = new MemoryConnection(bToA, aToB, addrA, addrB);
  const b = new MemoryConnection(aToB, bToA, addrB, addrA);
  a.attach(b);
  b.attach(a);
  return [a, b];
}
