/**
 * `WaterMarks`: the outbound bytes one connection holds for its peer, with a
 * high and a low water mark in bytes (the slow-consumer guard's bound).
 *
 * @module
 */

/** Outbound bytes a connection may hold before pushes are refused or wait (256 KiB). */
export const DEFAULT_OUTBOUND_HIGH_WATER_MARK = 256 * 1024;

/** How long a write may take no bytes, while output is pending, before the connection closes (30 s). */
export const DEFAULT_DRAIN_TIMEOUT_MS = 30_000;

/**
 * One connection's count of outbound bytes: the push queues add the payload
 * bytes of the frames they hold, the frame writer the framed bytes it holds
 * (queued and in flight). The count is `above` from the moment it reaches
 * `high` until it falls back to `low` or below (hysteresis, as Netty's
 * write-buffer water marks): then the one listener, the push queues, lets
 * waiting pushes in. Adding and removing are a few arithmetic operations, no
 * allocation: they run for every frame.
 */
export class WaterMarks {
  /** Bytes at which the count goes `above`. */
  readonly high: number;
  /** Bytes at or below which it stops being `above`. */
  readonly low: number;
  #bytes = 0;
  #above = false;
  #onDrained: (() => void) | undefined;
  #watcher: ((above: boolean) => void) | undefined;

  /** @param marks `low` ≤ `high`, both bytes (validated by the caller) */
  constructor(marks: { readonly highWaterMark: number; readonly lowWaterMark: number }) {
    this.high = marks.highWaterMark;
    this.low = marks.lowWaterMark;
  }

  /** Outbound bytes held now. */
  get bytes(): number {
    return this.#bytes;
  }

  /** True from reaching the high mark until back at the low mark. */
  get above(): boolean {
    return this.#above;
  }

  /** Register the one listener, called synchronously when the count falls back to the low mark. */
  onDrained(wake: () => void): void {
    this.#onDrained = wake;
  }

  /**
   * Register an observer of crossings (tracing's back-pressure events),
   * called synchronously with `true` on reaching the high mark and `false`
   * on falling back to the low one.
   */
  watch(watcher: (above: boolean) => void): void {
    this.#watcher = watcher;
  }

  /** Count `n` more bytes. */
  add(n: number): void {
    this.#bytes += n;
    if (!this.#above && this.#bytes >= this.high) {
      this.#above = true;
      this.#watcher?.(true);
    }
  }

  /** Count `n` bytes less (written, or discarded). */
  remove(n: number): void {
    this.#bytes -= n;
    if (this.#above && this.#bytes <= this.low) {
      this.#above = false;
      this.#watcher?.(false);
      this.#onDrained?.();
    }
  }
}
