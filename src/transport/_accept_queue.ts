/**
 * The queue between a push-style accept callback (Bun, memory) and the
 * pull-style async iteration of a `Listener`.
 *
 * @module
 */

/** Hooks that decide what happens to connections never handed out. */
export interface AcceptQueueHooks<T> {
  /** A queued item the peer already abandoned; skipped like a failed accept. */
  isDead(item: T): boolean;
  /** Release an item that will never be yielded. */
  discard(item: T): void;
}

/**
 * FIFO of accepted items with any number of waiting consumers. After
 * `close()`, queued items are discarded (like a kernel backlog when the
 * listening socket closes) and every consumer's iteration ends.
 */
export class AcceptQueue<T> implements AsyncIterable<T> {
  #items: T[] = [];
  #waiters: Array<(result: IteratorResult<T, undefined>) => void> = [];
  #closed = false;
  readonly #hooks: AcceptQueueHooks<T>;

  constructor(hooks: AcceptQueueHooks<T>) {
    this.#hooks = hooks;
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Hand an accepted item to the first waiting consumer, or queue it. */
  push(item: T): void {
    if (this.#closed) {
      this.#hooks.discard(item);
      return;
    }
    const waiter = this.#waiters.shift();
    if (waiter) waiter({ value: item, done: false });
    else this.#items.push(item);
  }

  /** Stop: discard what is queued and end every iteration. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const item of this.#items.splice(0)) this.#hooks.discard(item);
    for (const waiter of this.#waiters.splice(0)) waiter({ value: undefined, done: true });
  }

  /** The next live item, or `done` once closed. */
  next(): Promise<IteratorResult<T, undefined>> {
    for (let item = this.#items.shift(); item !== undefined; item = this.#items.shift()) {
      if (!this.#hooks.isDead(item)) return Promise.resolve({ value: item, done: false });
      this.#hooks.discard(item);
    }
    if (this.#closed) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  [Symbol.asyncIterator](): AsyncIterator<T, undefined> {
    // Leaving a for-await loop must not close the listener: return() only
    // ends this iterator.
    return {
      next: () => this.next(),
      return: () => Promise.resolve({ value: undefined, done: true }),
    };
  }
}
