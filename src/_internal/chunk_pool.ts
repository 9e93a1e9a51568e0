/**
 * `ChunkPool`: write buffers shared by every frame writer of the process, so a
 * busy connection does not allocate (and the allocator churn through) a fresh
 * buffer per socket write (Netty's pooled buffers, in the small).
 *
 * Ownership: a writer takes a buffer for one flush loop, writes each batch
 * into it, awaits each write, and gives the buffer back when the loop ends.
 * That is only sound over a transport that holds no reference to a chunk once
 * its write has resolved (`releasesWrittenChunks`); a write that failed keeps
 * its buffer out of the pool, since the transport may still hold it.
 *
 * @module
 */

/** Bytes per pooled buffer: a socket write of a busy connection (a read's worth, too). */
export const POOLED_CHUNK_SIZE = 64 * 1024;

/** Free buffers kept at most; more are left to the GC (bounds what an idle process holds). */
const MAX_FREE = 32;

/** A free list of equal-sized write buffers. */
export class ChunkPool {
  readonly #free: Uint8Array[] = [];
  readonly #size: number;
  readonly #maxFree: number;

  /**
   * @param size bytes per buffer
   * @param maxFree free buffers kept at most
   */
  constructor(size: number = POOLED_CHUNK_SIZE, maxFree: number = MAX_FREE) {
    this.#size = size;
    this.#maxFree = maxFree;
  }

  /** Bytes per buffer: a batch larger than this gets a buffer of its own. */
  get size(): number {
    return this.#size;
  }

  /** Free buffers held now. */
  get free(): number {
    return this.#free.length;
  }

  /** A buffer of `size` bytes for the caller alone until it gives it back. */
  take(): Uint8Array {
    return this.#free.pop() ?? new Uint8Array(this.#size);
  }

  /** Return a buffer from `take()` that nothing references any more. */
  give(buffer: Uint8Array): void {
    if (this.#free.length < this.#maxFree) this.#free.push(buffer);
  }
}

/** The pool of the process's frame writers. */
export const writeChunks: ChunkPool = new ChunkPool();
