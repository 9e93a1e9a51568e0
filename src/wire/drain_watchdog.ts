/**
 * `DrainWatchdog`: one timer for every frame writer with the same drain
 * timeout, rather than one per connection.
 *
 * A writer joins at the first write after an idle spell and leaves at the
 * first check that finds no write in flight (or when it fails or closes):
 * a write costs it a counter bump, and an idle connection holds no timer.
 * The timer runs only while some writer is watched.
 *
 * @module
 */

/** Checks per timeout period (see `FrameWriter`: the timeout fires within 1× to 1.25× of it). */
export const DRAIN_CHECKS = 4;

/**
 * What the watchdog calls at every check, with the time (`performance.now()`):
 * true to stay watched, false once no write is in flight (or the writer failed).
 */
export type DrainCheck = (now: number) => boolean;

/** One timer, checking the writers of one drain timeout `DRAIN_CHECKS` times per period. */
export class DrainWatchdog {
  /** One per timeout value in use: apps rarely differ, so this stays tiny. */
  static readonly #byTimeout = new Map<number, DrainWatchdog>();

  /** The watchdog of writers whose drain timeout is `timeoutMs`. */
  static of(timeoutMs: number): DrainWatchdog {
    let watchdog = DrainWatchdog.#byTimeout.get(timeoutMs);
    if (watchdog === undefined) {
      watchdog = new DrainWatchdog(Math.max(1, Math.ceil(timeoutMs / DRAIN_CHECKS)));
      DrainWatchdog.#byTimeout.set(timeoutMs, watchdog);
    }
    return watchdog;
  }

  readonly #periodMs: number;
  /** An array, not a Set: a Set's replaced tables would keep closed writers alive (see IdTable). */
  #watched: DrainCheck[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #tick = (): void => {
    this.#timer = undefined;
    const now = performance.now();
    this.#watched = this.#watched.filter((check) => check(now));
    if (this.#watched.length > 0) this.#timer = setTimeout(this.#tick, this.#periodMs);
  };

  private constructor(periodMs: number) {
    this.#periodMs = periodMs;
  }

  /**
   * Call `check` at every check from now on, until it returns false or
   * `unwatch`. A check not already watched (the writer keeps track): no search per write.
   */
  watch(check: DrainCheck): void {
    this.#watched.push(check);
    this.#timer ??= setTimeout(this.#tick, this.#periodMs);
  }

  /** Stop calling `check`; the timer stops with the last writer. */
  unwatch(check: DrainCheck): void {
    const at = this.#watched.indexOf(check);
    if (at < 0) return;
    this.#watched.splice(at, 1);
    if (this.#watched.length > 0) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
