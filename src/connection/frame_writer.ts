/**
 * Writes envelopes to a byte sink as frames, coalescing every frame queued
 * while a write is in flight into one write (DESIGN.md §7), with bounded
 * buffering.
 *
 * @module
 */
import type { Envelope, Serializer } from "../codec/envelope.ts";
import type { FrameCodec } from "../codec/types.ts";
import type { Fragmenter } from "../fragment/fragmenter.ts";

/** Bytes queued before `send()` makes its caller wait. */
export const DEFAULT_WRITE_HIGH_WATER_MARK = 64 * 1024;

/**
 * Envelopes in, coalesced framed bytes out. At most one write is in flight;
 * at most `highWaterMark` bytes (plus one frame) wait behind it, so a slow
 * socket stops the producer instead of growing memory.
 *
 * When both the serializer and the codec offer the in-place fast path
 * (`encodedLength`/`encodeInto`, `headerLength`/`encodeHeaderInto`), a batch
 * costs one allocation however many frames it holds.
 */
export class FrameWriter {
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #codec: FrameCodec;
  readonly #serializer: Serializer;
  readonly #inPlace: boolean;
  readonly #fragmenter: Fragmenter | undefined;
  readonly #highWaterMark: number;
  /** Envelopes to encode in place, or bodies already encoded (slow path). */
  #pending: (Envelope | Uint8Array)[] = [];
  /** Body size of each pending entry. */
  #bodySizes: number[] = [];
  #pendingBytes = 0;
  #flushing: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  #failure: { error: unknown } | undefined;
  #roomWaiters: { resolve: () => void; reject: (error: unknown) => void }[] = [];

  constructor(
    writer: WritableStreamDefaultWriter<Uint8Array>,
    codec: FrameCodec,
    serializer: Serializer,
    highWaterMark: number = DEFAULT_WRITE_HIGH_WATER_MARK,
    fragmenter?: Fragmenter,
  ) {
    this.#writer = writer;
    this.#codec = codec;
    this.#serializer = serializer;
    this.#fragmenter = fragmenter;
    this.#inPlace = fragmenter === undefined && serializer.encodedLength !== undefined &&
      serializer.encodeInto !== undefined && codec.headerLength !== undefined &&
      codec.encodeHeaderInto !== undefined;
    this.#highWaterMark = highWaterMark;
  }

  /**
   * Queue one envelope. Returns `undefined` when the caller may go on at
   * once, or a promise to await when the queue is full (back-pressure).
   * Throws synchronously if the envelope cannot be encoded (nothing is
   * queued), or the write error once the sink has failed.
   */
  send(envelope: Envelope): Promise<void> | undefined {
    if (this.#failure) throw this.#failure.error;
    if (this.#fragmenter !== undefined) {
      this.#queueFragments(this.#serializer.encode(envelope), this.#fragmenter);
    } else if (this.#inPlace) {
      const bodySize = this.#serializer.encodedLength!(envelope);
      this.#queue(envelope, bodySize, this.#codec.headerLength!(bodySize) + bodySize);
    } else {
      const body = this.#serializer.encode(envelope);
      this.#queue(body, body.length, this.#frameSize(body));
    }
    this.#flushing ??= this.#flushLoop();
    if (this.#pendingBytes < this.#highWaterMark) return undefined;
    return new Promise((resolve, reject) => this.#roomWaiters.push({ resolve, reject }));
  }

  /** Split one message body into fragments; all of them must fit a frame before any is queued. */
  #queueFragments(body: Uint8Array, fragmenter: Fragmenter): void {
    const fragments: Uint8Array[] = [];
    fragmenter.split(body, (fragment) => void fragments.push(fragment));
    const sizes = fragments.map((fragment) => this.#frameSize(fragment));
    for (let i = 0; i < fragments.length; i++) {
      this.#queue(fragments[i]!, fragments[i]!.length, sizes[i]!);
    }
  }

  /** Framed size of `body`; throws a `CodecError` if it cannot be framed. */
  #frameSize(body: Uint8Array): number {
    const codec = this.#codec;
    return codec.headerLength
      ? codec.headerLength(body.length) + body.length
      : codec.encodedLength(body);
  }

  #queue(entry: Envelope | Uint8Array, bodySize: number, frameSize: number): void {
    this.#pending.push(entry);
    this.#bodySizes.push(bodySize);
    this.#pendingBytes += frameSize;
  }

  /** Write bytes as they are (not framed), after everything queued so far; e.g. a preamble. */
  async writeRaw(bytes: Uint8Array): Promise<void> {
    await this.flush();
    await this.#writer.write(bytes);
  }

  /** Resolves once everything queued so far has been written. */
  async flush(): Promise<void> {
    while (this.#flushing) await this.#flushing;
    if (this.#failure) throw this.#failure.error;
  }

  /** Flush, then close the sink (a FIN on TCP). Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.flush().then(() => this.#writer.close());
    return this.#closing;
  }

  async #flushLoop(): Promise<void> {
    // Yield once first, so every frame produced in this tick (e.g. the answers
    // to all requests of one socket read) goes out in the same write.
    await undefined;
    try {
      while (this.#pending.length > 0) {
        const chunk = this.#takePending();
        this.#wakeWaiters();
        await this.#writer.write(chunk);
      }
    } catch (error) {
      this.#failure = { error };
      this.#pending = [];
      this.#bodySizes = [];
      for (const waiter of this.#roomWaiters.splice(0)) waiter.reject(error);
    } finally {
      this.#flushing = undefined;
    }
  }

  #takePending(): Uint8Array {
    const entries = this.#pending;
    const sizes = this.#bodySizes;
    const chunk = new Uint8Array(this.#pendingBytes);
    this.#pending = [];
    this.#bodySizes = [];
    this.#pendingBytes = 0;
    const codec = this.#codec;
    let offset = 0;
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!;
      if (entry instanceof Uint8Array) {
        offset += codec.encodeInto(entry, chunk, offset);
      } else {
        offset += codec.encodeHeaderInto!(sizes[i]!, chunk, offset);
        offset += this.#serializer.encodeInto!(entry, chunk, offset);
      }
    }
    return chunk;
  }

  #wakeWaiters(): void {
    for (const waiter of this.#roomWaiters.splice(0)) waiter.resolve();
  }
}
