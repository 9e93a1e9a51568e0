/**
 * A token-bucket rate limiter with fair, abortable waiting.
 *
 * @module
 */

/** A clock in milliseconds; injectable so tests need not sleep. */
export type Clock = () => number;

interface Waiter {
  resolve(): void;
  reject(reason: unknown): void;
  release(): void;
}

/**
 * `perSecond` tokens a second refill a bucket of `burst` tokens (starting
 * full). `take()` waits its turn (FIFO) for a token; `tryTake()` never waits;
 * `giveBack()` returns a token whose use was abandoned.
 */
export class TokenBucket {
  readonly #perMs: number;
  readonly #burst: number;
  readonly #clock: Clock;
  #tokens: number;
  #updatedAt: number;
  #waiters: Waiter[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;

  /**
   * @param perSecond refill rate (> 0)
   * @param burst bucket size (≥ 1)
   * @param clock milliseconds source; default `performance.now`
   */
  constructor(perSecond: number, burst: number, clock: Clock = () => performance.now()) {
    this.#perMs = perSecond / 1000;
    this.#burst = burst;
    this.#clock = clock;
    this.#tokens = burst;
    this.#updatedAt = clock();
  }

  /** Tokens available now (fractional while refilling). */
  get available(): number {
    this.#refill();
    return this.#tokens;
  }

  /** Take a token if one is available now and nobody waits ahead. */
  tryTake(): boolean {
    this.#refill();
    if (this.#waiters.length > 0 || this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Wait (FIFO) for a token; rejects with the signal's reason, taking nothing. */
  take(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.tryTake()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        reject(signal!.reason);
        this.#schedule();
      };
      const waiter: Waiter = {
        resolve,
        reject,
        release: () => signal?.removeEventListener("abort", onAbort),
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiters.push(waiter);
      this.#schedule();
    });
  }

  /** Return a token taken for work that was then abandoned. */
  giveBack(): void {
    this.#refill();
    this.#tokens = Math.min(this.#burst, this.#tokens + 1);
    this.#serve();
  }

  /** Reject every waiter with what `reason()` makes (called only if one waits) and stop the timer. */
  close(reason: () => unknown): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#waiters.length === 0) return;
    const error = reason();
    for (const waiter of this.#waiters.splice(0)) {
      waiter.release();
      waiter.reject(error);
    }
  }

  /** Hand tokens to waiters in order, as far as they go; re-arm the timer for the rest. */
  #serve(): void {
    this.#refill();
    while (this.#waiters.length > 0 && this.#tokens >= 1) {
      this.#tokens -= 1;
      const waiter = this.#waiters.shift()!;
      waiter.release();
      waiter.resolve();
    }
    this.#schedule();
  }

  #schedule(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#waiters.length === 0) return;
    const wait = Math.max(0, (1 - this.#tokens) / this.#perMs);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#serve();
    }, Math.ceil(wait));
  }

  #refill(): void {
    const now = this.#clock();
    this.#tokens = Math.min(this.#burst, this.#tokens + (now - this.#updatedAt) * this.#perMs);
    this.#updatedAt = now;
  }
}
