/**
 * What happens when a connection goes away: the await on user code pending
 * is cut short, and the signal user code watches (`ctx.signal`) fires.
 *
 * @module
 */

/** What an interrupted await settles with: the connection went away. */
export const GONE: unique symbol = Symbol("connection gone");
/** The connection went away. */
export type Gone = typeof GONE;

/**
 * Wraps awaits so they settle with `gone` once `interrupt()` runs, even if
 * the awaited promise never does (a handler stuck forever must not hold up
 * shutdown). Only one wrapped await is pending at a time, so nothing
 * subscribes to a long-lived promise per call (no reaction build-up).
 *
 * The `AbortController` behind `signal` is made when the signal is first
 * asked for, already aborted if the interrupt came first: most connections'
 * code never asks, and an idle connection then holds none.
 */
export class Interrupter<G> {
  readonly #gone: G;
  #interrupted = false;
  #controller: AbortController | undefined;
  /**
   * The pending wrap's own `resolve`, called with `gone` at `interrupt()`.
   * The resolving function itself, not a closure over it: an arrow stored
   * here (`() => resolve(gone)`) made every wrapped await's promise, its
   * value (the request's Response and reply bytes) and its contexts survive
   * V8's minor GCs (bench/abuse slow-consumer on Deno: ~90% of them did,
   * 7-8% of all bytes allocated survived a scavenge and the young
   * generation grew 8 -> 32 MiB; with `resolve` stored, under 1%).
   */
  #resolveGone: ((gone: G) => void) | undefined;

  /** @param gone the value interrupted awaits settle with */
  constructor(gone: G) {
    this.#gone = gone;
  }

  /** Fires at `interrupt()`. */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#interrupted) this.#controller.abort();
    }
    return this.#controller.signal;
  }

  /** True once `interrupt()` has run. */
  get interrupted(): boolean {
    return this.#interrupted;
  }

  /** The connection went away: the pending await settles with `gone`, `signal` fires. Idempotent. */
  interrupt(): void {
    if (this.#interrupted) return;
    this.#interrupted = true;
    this.#resolveGone?.(this.#gone);
    this.#controller?.abort();
  }

  /** Await `value`, or settle with `gone` once interrupted. */
  wrap<T>(value: T | Promise<T>): Promise<T | G> {
    if (this.#interrupted) return Promise.resolve(this.#gone);
    return new Promise((resolve, reject) => {
      this.#resolveGone = resolve;
      Promise.resolve(value).then(
        (settled) => {
          this.#resolveGone = undefined;
          resolve(settled);
        },
        (error) => {
          this.#resolveGone = undefined;
          reject(error);
        },
      );
    });
  }
}
