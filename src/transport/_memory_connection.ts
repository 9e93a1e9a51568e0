/**
 * One end of an in-memory connection: two {@link Pipe}s, one per direction,
 * wrapped in the same stream semantics as the TCP transports.
 *
 * @module
 */
import { Pipe } from "./_memory_pipe.ts";
import { StreamConnection } from "./_stream_connection.ts";
import { ConnectionClosedError, ConnectionResetError } from "./errors.ts";
import type { NetAddr } from "./types.ts";

export class MemoryConnection extends StreamConnection {
  override readonly localAddr: NetAddr;
  override readonly remoteAddr: NetAddr;
  /** The pipe copies what it accepts (`Pipe.write`): once a write resolves, its chunk is not kept. */
  readonly releasesWrittenChunks = true;

  readonly #incoming: Pipe;
  readonly #outgoing: Pipe;
  #peer: MemoryConnection | undefined;

  constructor(incoming: Pipe, outgoing: Pipe, localAddr: NetAddr, remoteAddr: NetAddr) {
    // highWaterMark 0: bytes leave the pipe only for a waiting read, so the
    // pipe's capacity is the whole in-flight bound.
    super({ highWaterMark: 0 });
    this.#incoming = incoming;
    this.#outgoing = outgoing;
    this.localAddr = localAddr;
    this.remoteAddr = remoteAddr;
  }

  /** Link the two ends; called once by the pair factory. */
  attach(peer: MemoryConnection): void {
    this.#peer = peer;
  }

  /** Abortive close: the peer sees a reset in both directions. */
  override close(): void {
    if (this.released) return;
    const local = new ConnectionClosedError();
    this.#outgoing.reset(new ConnectionResetError(), local);
    this.#incoming.reset(local, new ConnectionResetError());
    this.terminate(local);
    if (this.#peer) this.#peer.terminate(new ConnectionResetError());
  }

  protected override async pull(): Promise<void> {
    this.push(await this.#incoming.read());
  }

  protected override async writeChunk(chunk: Uint8Array): Promise<void> {
    try {
      await this.#outgoing.write(chunk);
    } catch (err) {
      // The peer is gone: this direction is over even if nobody closes us.
      this.endWrite();
      throw err;
    }
  }

  protected override sendEnd(): void {
    this.#outgoing.end();
  }

  protected override releaseResource(): void {
    // Like closing a socket the peer may still write to: a peer that has
    // not sent FIN gets a reset on its next write; what it reads is intact.
    // (After close() both pipes are already reset, and the first error set
    // on a pipe wins, so this changes nothing there.)
    if (!this.#incoming.ended) {
      this.#incoming.reset(new ConnectionClosedError(), new ConnectionResetError());
    }
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
