/**
 * Writes frame bodies to a byte sink, coalescing every frame queued while a
 * write is in flight into one write (DESIGN.md §7), with bounded buffering.
 *
 * @module
 */
import type { FrameCodec } from "../codec/types.ts";

/** Bytes queued before `send()` makes its caller wait. */
export const DEFAULT_WRITE_HIGH_WATER_MARK = 64 * 1024;

/**
 * Frames in, coalesced framed bytes out. At most one write is in flight; at
 * most `highWaterMark` bytes (plus one frame) wait behind it, so a slow socket
 * stops the producer instead of growing memory.
 */
export class FrameWriter {
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #codec: FrameCodec;
  readonly #highWaterMark: number;
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  #flushing: Promise<void> | undefined;
  #failure: { error: unknown } | undefined;
  #roomWaiters: { resolve: () => void; reject: (error: unknown) => void }[] = [];

  constructor(
    writer: WritableStreamDefaultWriter<Uint8Array>,
    codec: FrameCodec,
    highWaterMark: number = DEFAULT_WRITE_HIGH_WATER_MARK,
  ) {
    this.#writer = writer;
    this.#codec = codec;
    this.#highWaterMark = highWaterMark;
  }

  /**
   * Queue one frame body. Returns `undefined` when the caller may go on at
   * once, or a promise to await when the queue is full (back-pressure).
   * Throws the write error once the sink has failed.
   */
  send(body: Uint8Array): Promise<void> | undefined {
    if (this.#failure) throw this.#failure.error;
    this.#pending.push(body);
    this.#pendingBytes += this.#codec.encodedLength(body);
    this.#flushing ??= this.#flushLoop();
    if (this.#pendingBytes < this.#highWaterMark) return undefined;
    return new Promise((resolve, reject) => this.#roomWaiters.push({ resolve, reject }));
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

  /** Flush, then close the sink (a FIN on TCP). */
  async close(): Promise<void> {
    await this.flush();
    await this.#writer.close();
  }

  async #flushLoop(): Promise<void> {
    try {
      while (this.#pending.length > 0) {
        const chunk = this.#takePending();
        this.#wakeWaiters();
        await this.#writer.write(chunk);
      }
    } catch (error) {
      this.#failure = { error };
      this.#pending = [];
      for (const waiter of this.#roomWaiters.splice(0)) waiter.reject(error);
    } finally {
      this.#flushing = undefined;
    }
  }

  #takePending(): Uint8Array {
    const frames = this.#pending;
    const total = this.#pendingBytes;
    this.#pending = [];
    this.#pendingBytes = 0;
    if (frames.length === 1) return this.#codec.encode(frames[0]!);
    const chunk = new Uint8Array(total);
    let offset = 0;
    for (const frame of frames) offset += this.#codec.encodeInto(frame, chunk, offset);
    return chunk;
  }

  #wakeWaiters(): void {
    for (const waiter of this.#roomWaiters.splice(0)) waiter.resolve();
  }
}
