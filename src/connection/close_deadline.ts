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
function closeIt(deadline: CloseDeadline): void {
  deadline.expire();
}

/** One timer that closes the socket at the earliest deadline asked for. */
export class CloseDeadline {
  /** Dropped by `cancel()`: the runtime may keep a cleared timer's arguments reachable (see there). */
  #socket: Closable | undefined;
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
    // The deadline, not the socket, is the timer's argument: cancel() can cut it loose.
    this.#timer = setTimeout(closeIt, ms, this);
  }

  /** The deadline passed: close the socket, unless it was cancelled. */
  expire(): void {
    this.#socket?.close();
  }

  /**
   * The socket is closed: no timer is needed any more, nor the socket.
   * Deno keeps its timers in one Map, whose replaced tables stay linked to
   * their successors until a major GC (see IdTable): a cleared timer stays
   * reachable to minor GCs, and with the socket as its argument it kept the
   * closed connection's transport alive through them (GC nepotism).
   */
  cancel(): void {
    clearTimeout(this.#timer);
    this.#socket = undefined;
  }
}
