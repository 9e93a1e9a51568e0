/**
 * One message being re-assembled, and what holding its fragments costs.
 *
 * Payloads are held as views of the fragments they arrived in when that is
 * cheap and honest, and copied otherwise; the message is copied into its own
 * buffer once, when it completes. With a declared `totalLen` the buffer is
 * allocated up front instead and every payload is copied into it.
 *
 * `charged` is an upper bound of the memory the message retains: a view is
 * charged the whole backing buffer it pins (once per run of fragments from the
 * same buffer), a copy is charged the block it lives in. A view is only kept
 * if it covers at least a quarter of its buffer, so a 1-byte fragment in a
 * large socket chunk is copied rather than pinning the chunk.
 *
 * @module
 */

const NOTHING = 0; // empty payload: nothing is stored
const SHARED = 1; // view of the buffer the previous part pins: already charged
const VIEW = 2; // view of a new buffer: charge the whole buffer
const COPY = 3; // copy into the current block, or a new one

const BLOCK_MIN = 4 * 1024;
const BLOCK_MAX = 256 * 1024;
const EMPTY = new Uint8Array(0);

/** Partial message state owned by a `Reassembler`. */
export class PartialMessage {
  /** The message id (0 for non-multiplexed strategies). */
  readonly msgId: number;
  /** `now` at its first fragment. */
  readonly firstAt: number;
  /** Declared length of the whole message, if seq 0 carried one. */
  readonly totalLen: number | undefined;
  /** The seq expected next. */
  nextSeq = 0;
  /** Payload bytes held. */
  length = 0;
  /** Bytes charged against the budget (memory retained plus overhead). */
  charged = 0;
  readonly #maxMessageSize: number;
  #fixed: Uint8Array | undefined;
  readonly #parts: Uint8Array[] = [];
  #block: Uint8Array = EMPTY;
  #blockUsed = 0;

  constructor(msgId: number, firstAt: number, totalLen: number | undefined, maxSize: number) {
    this.msgId = msgId;
    this.firstAt = firstAt;
    this.totalLen = totalLen;
    this.#maxMessageSize = maxSize;
  }

  /** Bytes that holding `payload` adds to `charged`, overhead excluded. */
  chargeFor(payload: Uint8Array): number {
    if (this.totalLen !== undefined) return this.#fixed === undefined ? this.totalLen : 0;
    switch (this.#placement(payload)) {
      case VIEW:
        return payload.buffer.byteLength;
      case COPY:
        return this.#block.length - this.#blockUsed >= payload.length
          ? 0
          : this.#blockSizeFor(payload.length);
      default:
        return 0;
    }
  }

  /** Hold `payload` (a non-final fragment's); the caller checked limits and adds the charge. */
  append(payload: Uint8Array): void {
    if (this.totalLen !== undefined) {
      this.#fixed ??= new Uint8Array(this.totalLen);
      this.#fixed.set(payload, this.length);
    } else {
      const placement = this.#placement(payload);
      if (placement === SHARED || placement === VIEW) this.#parts.push(payload);
      else if (placement === COPY) this.#parts.push(this.#copy(payload));
    }
    this.length += payload.length;
    this.nextSeq++;
  }

  /** The whole message, given the final fragment's payload (which is not held). */
  finish(last: Uint8Array): Uint8Array {
    if (this.totalLen !== undefined) {
      const out = this.#fixed ?? new Uint8Array(this.totalLen);
      out.set(last, this.length);
      return out;
    }
    const parts = this.#parts;
    const out = new Uint8Array(this.length + last.length);
    let at = 0;
    for (const part of parts) {
      out.set(part, at);
      at += part.length;
    }
    out.set(last, at);
    return out;
  }

  #placement(payload: Uint8Array): number {
    if (payload.length === 0) return NOTHING;
    const buffer = payload.buffer;
    const last = this.#parts[this.#parts.length - 1];
    if (last !== undefined && last.buffer === buffer) return SHARED;
    return payload.length * 4 >= buffer.byteLength ? VIEW : COPY;
  }

  #blockSizeFor(size: number): number {
    const grown = Math.min(BLOCK_MAX, Math.max(BLOCK_MIN, this.length));
    return Math.max(size, Math.min(grown, this.#maxMessageSize - this.length));
  }

  #copy(payload: Uint8Array): Uint8Array {
    if (this.#block.length - this.#blockUsed < payload.length) {
      this.#block = new Uint8Array(this.#blockSizeFor(payload.length));
      this.#blockUsed = 0;
    }
    const at = this.#blockUsed;
    this.#blockUsed = at + payload.length;
    const view = this.#block.subarray(at, this.#blockUsed);
    view.set(payload);
    return view;
  }
}
