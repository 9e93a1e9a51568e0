/**
 * A bounded single-consumer async queue: producers are told to wait when it
 * is full, the consumer iterates with `for await`.
 *
 * @module
 */

/** Bounded FIFO with back-pressure for the producer and async iteration for the consumer. */
export class AsyncQueue<T> implements AsyncIterable<T> {
  readonly #capacity: number;
  readonly #items: T[] = [];
  #head = 0;
  #ended: { error?: unknown; failed: boolean } | undefined;
  #taker: ((result: IteratorResult<T>) => void) | undefined;
  #takerFail: ((error: unknown) => void) | undefined;
  #roomWaiters: (() => void)[] = [];
  /** Called once when the consumer stops early (`break` / `return()`). */
  onCancel: (() => void) | undefined;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** Items waiting to be taken. */
  get size(): number {
    return this.#items.length - this.#head;
  }

  /** True once `end()` or `fail()` was called. */
  get ended(): boolean {
    return this.#ended !== undefined;
  }

  /**
   * Add an item. Returns a promise to await when the queue is now full, else
   * `undefined`. Items pushed after the end are ignored.
   */
  push(item: T): Promise<void> | undefined {
    if (this.#ended) return undefined;
    const taker = this.#taker;
    if (taker) {
      this.#clearTaker();
      taker({ done: false, value: item });
      return undefined;
    }
    this.#items.push(item);
    if (this.size < this.#capacity) return undefined;
    return new Promise((resolve) => this.#roomWaiters.push(resolve));
  }

  /** End normally: the consumer sees the remaining items, then the end. */
  end(): void {
    this.#finish({ failed: false });
  }

  /** End with an error: the consumer sees the remaining items, then `error`. */
  fail(error: unknown): void {
    this.#finish({ failed: true, error });
  }

  /** Take the next item; resolves `{ done: true }` after the end. */
  next(): Promise<IteratorResult<T>> {
    if (this.size > 0) {
      const value = this.#items[this.#head]!;
      this.#items[this.#head++] = undefined as T;
      if (this.#head === this.#items.length) {
        this.#items.length = 0;
        this.#head = 0;
      }
      if (this.size < this.#capacity) this.#wakeProducers();
      return Promise.resolve({ done: false, value });
    }
    if (this.#ended) {
      return this.#ended.failed
        ? Promise.reject(this.#ended.error)
        : Promise.resolve({ done: true, value: undefined });
    }
    return new Promise((resolve, reject) => {
      this.#taker = resolve;
      this.#takerFail = reject;
    });
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => this.next(),
      return: () => {
        if (!this.#ended) {
          this.end();
          this.onCancel?.();
        }
        this.#items.length = 0;
        this.#head = 0;
        return Promise.resolve({ done: true, value: undefined });
      },
    };
  }

  #finish(how: { error?: unknown; failed: boolean }): void {
    if (this.#ended) return;
    this.#ended = how;
    this.#wakeProducers();
    const taker = this.#taker;
    const fail = this.#takerFail;
    this.#clearTaker();
    if (!taker) return;
    if (how.failed) fail!(how.error);
    else taker({ done: true, value: undefined });
  }

  #clearTaker(): void {
    this.#taker = undefined;
    this.#takerFail = undefined;
  }

  #wakeProducers(): void {
    if (this.#roomWaiters.length === 0) return; // splice(0) would allocate, at every take
    for (const wake of this.#roomWaiters.splice(0)) wake();
  }
}
