/**
 * A bounded FIFO whose producers can wait, in order, for room, and give up
 * their place when their AbortSignal fires.
 *
 * @module
 */
import { emptied } from "../_internal/emptied.ts";

interface Waiter {
  grant(): void;
  reject(reason: unknown): void;
}

/**
 * Bounded FIFO with fair, abortable waiting for room. A waiter that is
 * granted room holds a reserved slot until it calls {@link pushGranted}, so a
 * `tryPush` in between cannot take it.
 */
export class BoundedQueue<T> {
  /** Most items held (plus reserved) at once. */
  readonly capacity: number;
  #items: T[] = [];
  #head = 0;
  #reserved = 0;
  #waiters: Waiter[] = [];
  /** Set by {@link close}: the reason, made when first thrown or rejected with. */
  #closedWith: { reason?: unknown; make: () => unknown } | undefined;

  /** @param capacity most items held at once (≥ 1) */
  constructor(capacity: number) {
    this.capacity = capacity;
  }

  /** Items held. */
  get size(): number {
    return this.#items.length - this.#head;
  }

  /** True once {@link close} was called. */
  get closed(): boolean {
    return this.#closedWith !== undefined;
  }

  /**
   * Add `item` if there is room and nobody is waiting ahead of it.
   * Returns false when full; throws the close reason once closed.
   */
  tryPush(item: T): boolean {
    if (this.#closedWith) throw this.#closeReason();
    if (!this.#hasRoom() || this.#waiters.length > 0) return false;
    this.#items.push(item);
    return true;
  }

  /**
   * Resolves once a slot is reserved for the caller, in FIFO order among
   * waiting producers; the caller must then call {@link pushGranted}
   * synchronously. Rejects with the signal's reason (giving up its place) or
   * with the close reason.
   */
  reserve(signal?: AbortSignal): Promise<void> {
    if (this.#closedWith) return Promise.reject(this.#closeReason());
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#hasRoom() && this.#waiters.length === 0) {
      this.#reserved++;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        reject(signal!.reason);
      };
      const waiter: Waiter = {
        grant: () => {
          signal?.removeEventListener("abort", onAbort);
          this.#reserved++;
          resolve();
        },
        reject: (reason) => {
          signal?.removeEventListener("abort", onAbort);
          reject(reason);
        },
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  /** Add the item a {@link reserve} was granted for; throws the close reason once closed. */
  pushGranted(item: T): void {
    this.#reserved--;
    if (this.#closedWith) {
      this.#wake();
      throw this.#closeReason();
    }
    this.#items.push(item);
  }

  /** Give back a slot {@link reserve} granted, unused (the producer gave up); the next waiter may take it. */
  release(): void {
    this.#reserved--;
    this.#wake();
  }

  /** The oldest item, without removing it. */
  peek(): T | undefined {
    return this.size > 0 ? this.#items[this.#head] : undefined;
  }

  /** Remove and return the oldest item; grants room to the next waiter. */
  shift(): T | undefined {
    if (this.size === 0) return undefined;
    const item = this.#items[this.#head]!;
    this.#items[this.#head++] = undefined as T;
    if (this.#head === this.#items.length) {
      // Emptied in place: a queue that drains after every push keeps one store.
      emptied(this.#items);
      this.#head = 0;
    }
    this.#wake();
    return item;
  }

  /** Remove and return everything held. */
  drain(): T[] {
    const items = this.#items.slice(this.#head);
    this.#items = [];
    this.#head = 0;
    this.#wake();
    return items;
  }

  /**
   * Refuse new items and reject every waiting producer with the reason
   * `reason()` makes; held items stay. It is made once, when first needed:
   * a queue closed with nobody waiting and never pushed to again (the common
   * case) makes none (an error's stack is costly).
   */
  close(reason: () => unknown): void {
    if (this.#closedWith) return;
    this.#closedWith = { make: reason };
    if (this.#waiters.length === 0) return;
    const error = this.#closeReason();
    for (const waiter of this.#waiters.splice(0)) waiter.reject(error);
  }

  #closeReason(): unknown {
    const closed = this.#closedWith!;
    if (!("reason" in closed)) closed.reason = closed.make();
    return closed.reason;
  }

  #hasRoom(): boolean {
    return this.size + this.#reserved < this.capacity;
  }

  #wake(): void {
    while (this.#hasRoom() && this.#waiters.length > 0) this.#waiters.shift()!.grant();
  }
}
