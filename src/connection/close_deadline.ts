/**
 * `CloseDeadline`: the latest time a closing connection's socket is closed,
 * whatever the peer does.
 *
 * @module
 */

/** What a deadline closes: the connection's socket. */
interface Closable {
  close(): void;
}

/** The timer's callback, one for every deadline: no closure per connection. */
function closeIt(socket: Closable): void {
  socket.close();
}

/** One timer that closes the socket at the earliest deadline asked for. */
export class CloseDeadline {
  readonly #socket: Closable;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** When the timer fires (`performance.now()` time). */
  #at = Infinity;

  /** @param socket what the deadline closes */
  constructor(socket: Closable) {
    this.#socket = socket;
  }

  /** Close `ms` from now at the latest; an earlier deadline stands. */
  within(ms: number): void {
    const at = performance.now() + ms;
    if (at >= this.#at) return;
    this.#at = at;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(closeIt, ms, this.#socket);
  }

  /** The socket is closed: no timer is needed any more. */
  cancel(): void {
    clearTimeout(this.#timer);
  }
}
