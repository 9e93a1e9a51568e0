/**
 * `QueuedListener`: a {@link Listener} whose runtime pushes accepted
 * connections at it (Bun's `open` handler, an in-memory `connect()`), queued
 * for the pull-style iteration of the listener.
 *
 * @module
 */
import type { StreamConnection } from "./_stream_connection.ts";
import type { Connection, Listener, NetAddr } from "./types.ts";

/**
 * Connections in arrival order, with any number of waiting iterations. A
 * connection reset while queued is skipped, like a failed accept. After
 * `close()`, queued connections are closed (like a kernel backlog when the
 * listening socket closes) and every iteration ends.
 */
export abstract class QueuedListener<C extends StreamConnection> implements Listener {
  abstract readonly addr: NetAddr;
  #queued: C[] = [];
  #waiters: Array<(result: IteratorResult<C, undefined>) => void> = [];
  #closed = false;

  /** Stop the runtime from accepting more; called once, by the first `close()`. */
  protected abstract stopAccepting(): void;

  /** Hand an accepted connection to the first waiting iteration, or queue it. */
  accept(conn: C): void {
    if (this.#closed) {
      conn.close();
      return;
    }
    const waiter = this.#waiters.shift();
    if (waiter) waiter({ value: conn, done: false });
    else this.#queued.push(conn);
  }

  /** Stop accepting, close what is queued and end every iteration. Idempotent. */
  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.stopAccepting();
      for (const conn of this.#queued.splice(0)) conn.close();
      for (const waiter of this.#waiters.splice(0)) waiter({ value: undefined, done: true });
    }
    return Promise.resolve();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  [Symbol.asyncIterator](): AsyncIterator<Connection, undefined> {
    // Leaving a for-await loop must not close the listener: return() only
    // ends this iterator.
    return {
      next: () => this.#next(),
      return: () => Promise.resolve({ value: undefined, done: true }),
    };
  }

  /** The next live connection, or `done` once closed. */
  #next(): Promise<IteratorResult<C, undefined>> {
    for (let conn = this.#queued.shift(); conn !== undefined; conn = this.#queued.shift()) {
      if (!conn.isReset) return Promise.resolve({ value: conn, done: false });
      conn.close();
    }
    if (this.#closed) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
}
