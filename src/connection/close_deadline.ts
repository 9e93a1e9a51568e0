/**
 * `CloseDeadline`: the latest time a closing connection's socket is closed,
 * whatever the peer does.
 *
 * @module
 */

/** One timer that closes the socket at the earliest deadline asked for. */
export class CloseDeadline {
  readonly #close: () => void;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** When the timer fires (`performance.now()` time). */
  #at = Infinity;

  /** @param close closes the socket */
  constructor(close: () => void) {
    this.#close = close;
  }

  /** Close `ms` from now at the latest; an earlier deadline stands. */
  within(ms: number): void {
    const at = performance.now() + ms;
    if (at >= this.#at) return;
    this.#at = at;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(this.#close, ms);
  }

  /** The socket is closed: no timer is needed any more. */
  cancel(): void {
    clearTimeout(this.#timer);
  }
}
