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
import { unrefTimeout } from "./unref_timeout.ts";

/** Bytes per pooled buffer: a socket write of a busy connection (a read's worth, too). */
export const POOLED_CHUNK_SIZE = 64 * 1024;

/** Free buffers kept however quiet the process is (bounds what an idle process holds). */
const MAX_FREE = 32;

/** How long free buffers beyond `maxFree` must go unused before they are dropped. */
const TRIM_AFTER_MS = 1000;

/** How a {@link ChunkPool} is sized, and its timer (injectable, for tests). */
export interface ChunkPoolOptions {
  /** Bytes per buffer; default 64 KiB. */
  readonly size?: number;
  /** Free buffers kept however quiet the process is; default 32. */
  readonly maxFree?: number;
  /** How long a surplus free buffer goes unused before it is dropped; default 1000 ms. */
  readonly trimAfterMs?: number;
  /** Calls `callback` once after `ms`, without keeping the process alive; default an unref'd `setTimeout`. */
  readonly schedule?: (callback: () => void, ms: number) => void;
}

/**
 * A free list of equal-sized write buffers, as many as the traffic needs.
 *
 * Every buffer given back is kept, so there are as many as writers have
 * needed at once: a free list capped below that (it was 32, against 50
 * connections writing a broadcast each) drops a buffer per writer over the
 * cap at every round of writes, and the next round allocates it again, 64 KiB
 * each (280 MiB in the first second of bench/abuse's slow-consumer scenario
 * on Deno, and as much RSS as the collector let pile up). Free buffers beyond
 * `maxFree` that no `take()` needed for a whole `trimAfterMs` are dropped
 * (the least recently given back first), so a burst's buffers do not outlive
 * it for long.
 */
export class ChunkPool {
  readonly #free: Uint8Array[] = [];
  readonly #size: number;
  readonly #maxFree: number;
  readonly #trimAfterMs: number;
  readonly #schedule: (callback: () => void, ms: number) => void;
  #trimArmed = false;
  /** Fewest free buffers since the trim timer was armed: that many went unused. */
  #fewestFree = 0;

  constructor(options: ChunkPoolOptions = {}) {
    this.#size = options.size ?? POOLED_CHUNK_SIZE;
    this.#maxFree = options.maxFree ?? MAX_FREE;
    this.#trimAfterMs = options.trimAfterMs ?? TRIM_AFTER_MS;
    this.#schedule = options.schedule ?? unrefTimeout;
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
    const buffer = this.#free.pop() ?? new Uint8Array(this.#size);
    if (this.#free.length < this.#fewestFree) this.#fewestFree = this.#free.length;
    return buffer;
  }

  /** Return a buffer from `take()` that nothing references any more. */
  give(buffer: Uint8Array): void {
    this.#free.push(buffer);
    if (this.#free.length > this.#maxFree && !this.#trimArmed) this.#armTrim();
  }

  #armTrim(): void {
    this.#trimArmed = true;
    this.#fewestFree = this.#free.length;
    this.#schedule(this.#trim, this.#trimAfterMs);
  }

  /**
   * Drop the free buffers beyond `maxFree` that stayed free the whole period
   * (the bottom of the stack: `take()` pops the top); check again later while
   * more than `maxFree` are left.
   */
  readonly #trim = (): void => {
    this.#trimArmed = false;
    const unused = Math.min(this.#fewestFree, this.#free.length) - this.#maxFree;
    if (unused > 0) this.#free.splice(0, unused);
    if (this.#free.length > this.#maxFree) this.#armTrim();
  };
}

/** The pool of the process's frame writers. */
export const writeChunks: ChunkPool = new ChunkPool();
