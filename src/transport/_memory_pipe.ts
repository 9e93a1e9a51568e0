/**
 * One direction of an in-memory connection: a bounded byte buffer between a
 * writer and a reader, with FIN (`end`) and reset.
 *
 * @module
 */

/**
 * Bounded FIFO of byte chunks. `write` copies what fits, and waits for the
 * reader to make room before copying the rest, so at most `capacity` bytes
 * are ever buffered. Copying (rather than keeping the caller's array) gives
 * the same contract as a socket: once `write` resolves the caller may reuse
 * its buffer.
 */
export class Pipe {
  readonly #capacity: number;
  #chunks: Uint8Array[] = [];
  /** Index of the first unread chunk: avoids O(n) `shift()` on long queues. */
  #head = 0;
  #buffered = 0;
  #ended = false;
  #readerError: Error | undefined;
  #writerError: Error | undefined;
  #wakeReader: (() => void) | undefined;
  #wakeWriter: (() => void) | undefined;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** Bytes accepted and not yet read. */
  get buffered(): number {
    return this.#buffered;
  }

  /** Whether the writer sent FIN. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Copy `chunk` in, waiting for room whenever the buffer is full. */
  async write(chunk: Uint8Array): Promise<void> {
    const length = chunk.byteLength;
    let offset = 0;
    while (offset < length) {
      if (this.#writerError) throw this.#writerError;
      const room = this.#capacity - this.#buffered;
      if (room === 0) {
        await new Promise<void>((resolve) => this.#wakeWriter = resolve);
        continue;
      }
      const n = Math.min(room, length - offset);
      this.#chunks.push(chunk.slice(offset, offset + n));
      this.#buffered += n;
      offset += n;
      this.#notifyReader();
    }
  }

  /** FIN: the reader gets `null` once it has read everything before it. */
  end(): void {
    this.#ended = true;
    this.#notifyReader();
  }

  /** The next chunk, or `null` after FIN. */
  async read(): Promise<Uint8Array | null> {
    for (;;) {
      if (this.#readerError) throw this.#readerError;
      const chunk = this.#chunks[this.#head];
      if (chunk !== undefined) {
        this.#chunks[this.#head++] = EMPTY;
        if (this.#head > 1024 && this.#head * 2 > this.#chunks.length) {
          this.#chunks = this.#chunks.slice(this.#head);
          this.#head = 0;
        }
        this.#buffered -= chunk.byteLength;
        this.#notifyWriter();
        return chunk;
      }
      if (this.#ended) return null;
      await new Promise<void>((resolve) => this.#wakeReader = resolve);
    }
  }

  /**
   * Kill the pipe: buffered bytes are dropped, the reader then rejects with
   * `readerError` and writers with `writerError` (an error already set wins).
   */
  reset(readerError: Error, writerError: Error): void {
    this.#readerError ??= readerError;
    this.failWriter(writerError);
    this.#chunks = [];
    this.#head = 0;
    this.#buffered = 0;
    this.#notifyReader();
  }

  /** Reject current and later writes only (the reader keeps what is buffered). */
  failWriter(writerError: Error): void {
    this.#writerError ??= writerError;
    this.#notifyWriter();
  }

  #notifyReader(): void {
    const wake = this.#wakeReader;
    this.#wakeReader = undefined;
    wake?.();
  }

  #notifyWriter(): void {
    const wake = this.#wakeWriter;
    this.#wakeWriter = undefined;
    wake?.();
  }
}

const EMPTY = new Uint8Array(0);
