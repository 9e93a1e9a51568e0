/**
 * A process-wide pool of write buffers, so connections that write all the
 * time do not churn a fresh `Uint8Array` through the allocator per write, and
 * idle connections hold none (Netty's pooled allocator, in miniature).
 *
 * Ownership: a buffer taken from the pool belongs to the taker until it gives
 * it back; it must give it back only when nothing refers to it any more. For
 * a write to a `Connection` that is when `write()` has resolved: transports
 * copy or send the bytes before resolving and keep no reference (the
 * `Connection` contract).
 *
 * @module
 */

/** The smallest pooled buffer; smaller requests get one of this size. */
const MIN_SHIFT = 12; // 4 KiB
/** The largest pooled buffer; larger requests are allocated and never pooled. */
const MAX_SHIFT = 18; // 256 KiB
/** Bytes kept free per size class: the pool never holds more than 7 MiB. */
const FREE_BYTES_PER_CLASS = 1024 * 1024;

/** Power-of-two size classes of free buffers, with a bound on what each keeps. */
export class BufferPool {
  readonly #free: ArrayBuffer[][] = [];
  readonly #maxFree: number[] = [];

  constructor() {
    for (let shift = MIN_SHIFT; shift <= MAX_SHIFT; shift++) {
      this.#free.push([]);
      this.#maxFree.push(Math.max(1, FREE_BYTES_PER_CLASS >> shift));
    }
  }

  /**
   * `size` bytes (stale contents), a view of a pooled buffer. Sizes above the
   * largest class get a fresh, unpooled buffer.
   */
  take(size: number): Uint8Array {
    const index = classIndex(size);
    if (index < 0) return new Uint8Array(size);
    const whole = this.#free[index]!.pop() ?? new ArrayBuffer(1 << (index + MIN_SHIFT));
    return new Uint8Array(whole, 0, size);
  }

  /**
   * Return a view from {@link take}: its whole buffer is free again. An
   * unpooled one, or one over the class's bound, is left to the GC.
   */
  give(view: Uint8Array): void {
    const whole = view.buffer as ArrayBuffer;
    const index = classIndex(whole.byteLength);
    if (index < 0 || 1 << (index + MIN_SHIFT) !== whole.byteLength) return;
    const free = this.#free[index]!;
    if (free.length < this.#maxFree[index]!) free.push(whole);
  }
}

/** Index of the smallest class that holds `size` bytes, or -1 if none does. */
function classIndex(size: number): number {
  if (size > 1 << MAX_SHIFT) return -1;
  if (size <= 1 << MIN_SHIFT) return 0;
  return 32 - Math.clz32(size - 1) - MIN_SHIFT;
}

/** The pool every connection's frame writer shares. */
export const writeBuffers: BufferPool = new BufferPool();
