/**
 * Await one promise at a time, cut short when a signal fires.
 *
 * @module
 */

/** What an interrupted await settles with: the connection went away. */
export const GONE: unique symbol = Symbol("connection gone");
/** The connection went away. */
export type Gone = typeof GONE;

/**
 * Wraps awaits so they settle with `gone` once `signal` aborts, even if the
 * awaited promise never does (a handler stuck forever must not hold up
 * shutdown). Only one wrapped await is pending at a time, so nothing
 * subscribes to a long-lived promise per call (no reaction build-up).
 */
export class Interrupter<G> {
  readonly #signal: AbortSignal;
  readonly #gone: G;
  #interrupt: (() => void) | undefined;

  /**
   * @param signal when it aborts, the pending wrapped await settles with `gone`
   * @param gone the value such awaits settle with
   */
  constructor(signal: AbortSignal, gone: G) {
    this.#signal = signal;
    this.#gone = gone;
    signal.addEventListener("abort", () => this.#interrupt?.(), { once: true });
  }

  /** Await `value`, or settle with `gone` once the signal aborts. */
  wrap<T>(value: T | Promise<T>): Promise<T | G> {
    if (this.#signal.aborted) return Promise.resolve(this.#gone);
    return new Promise((resolve, reject) => {
      this.#interrupt = () => resolve(this.#gone);
      Promise.resolve(value).then(
        (settled) => {
          this.#interrupt = undefined;
          resolve(settled);
        },
        (error) => {
          this.#interrupt = undefined;
          reject(error);
        },
      );
    });
  }
}
