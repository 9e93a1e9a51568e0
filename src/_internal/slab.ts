/**
 * `Slab`: a bump allocator for the short byte regions the hot paths hand out
 * (encoded frames, fragments, message bodies).
 *
 * @module
 */

/** Shared by every slab not used yet: it holds no byte, so nothing is ever written to it. */
const NONE = new ArrayBuffer(0);

/**
 * Carves byte regions out of large shared buffers, as Node's Buffer pool
 * does: allocating a small typed array costs ~1 µs on V8 (a backing store
 * each), carving a view out of a slab a few nanoseconds.
 *
 * Regions are never reused: when the current slab has no room left, it is
 * dropped (the regions handed out keep it alive) and a new one begun, so a
 * region belongs to its holder for as long as it is kept. The holder must use
 * it through its own `byteOffset`/`byteLength` and must not transfer its
 * `.buffer`.
 *
 * A new slab has `hint` bytes (by default the size asked for) clamped to
 * `[minSize, maxSize]`, and never fewer than the region that needs it.
 */
export class Slab {
  readonly #minSize: number;
  readonly #maxSize: number;
  #buffer = NONE; // the first slab is made on first use
  #used = 0;

  /**
   * @param minSize bytes of a new slab
   * @param maxSize most bytes a `hint` may ask a new slab to have; default `minSize`
   */
  constructor(minSize: number, maxSize: number = minSize) {
    this.#minSize = minSize;
    this.#maxSize = maxSize;
  }

  /**
   * `size` bytes the caller alone may write and keep; in a new slab if the
   * current one has less room left.
   *
   * @param hint bytes the caller expects to ask for soon, counting this
   *   region: sizes a new slab (within `[minSize, maxSize]`)
   */
  take(size: number, hint: number = size): Uint8Array {
    let at = this.#used;
    if (this.#buffer.byteLength - at < size) {
      this.#buffer = new ArrayBuffer(
        Math.max(size, Math.min(this.#maxSize, Math.max(this.#minSize, hint))),
      );
      at = 0;
    }
    this.#used = at + size;
    return new Uint8Array(this.#buffer, at, size);
  }
}
