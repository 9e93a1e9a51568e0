/**
 * `ThrottledLogger`: at most one warning (or error) per message per interval,
 * with a count of the ones held back, so a flood of one fault costs a line
 * per interval instead of a line per occurrence.
 *
 * @module
 */
import type { LogFields, Logger } from "./logger.ts";
import { unrefTimeout } from "../_internal/unref_timeout.ts";

/** The default throttle interval of an app's logger, in milliseconds. */
export const DEFAULT_THROTTLE_MS = 10_000;

/**
 * The time source and timer of a {@link ThrottledLogger}; inject one to test
 * time-based behaviour without waiting.
 */
export interface ThrottleClock {
  /** The current time in milliseconds (any origin, never going backwards). */
  now(): number;
  /**
   * Call `callback` once, after `ms`. The timer must not keep the process
   * alive (the default unrefs it).
   */
  setTimeout(callback: () => void, ms: number): void;
}

/** Options of a {@link ThrottledLogger}. */
export interface ThrottleOptions {
  /** Length of a throttle window in ms (default 10 000); must be a positive integer. */
  intervalMs?: number;
  /** Time source and timer (default: `performance.now()` and an unref'd `setTimeout`). */
  clock?: ThrottleClock;
}

type Level = "warn" | "error";

/** Windows kept before the quiet ones are swept (messages are few; this bounds odd ones). */
const MAX_QUIET_WINDOWS = 1024;

/** One message's current window. */
interface Window {
  readonly level: Level;
  readonly message: string;
  startedAt: number;
  suppressed: number;
  lastFields: LogFields | undefined;
}

/**
 * Wraps a logger so that each warning or error message goes through at most
 * once per interval. The first record of a message opens a window and is
 * passed on; the same message again within the window is only counted (its
 * fields kept). When the window ends, one summary record goes out at the same
 * level — `"<message> (N more in the last 10 s)"` with the last fields plus
 * `suppressed: N` — and opens the next window, so a steady flood yields one
 * line per interval. A message is its level and text: fields do not split it.
 *
 * Summaries go out from a timer that never keeps the process alive, or at the
 * next record of the same message if that comes first, or at `flush()`.
 * `debug` and `info` pass through unthrottled.
 *
 * `app.logger(logger, { throttleMs })` wraps the app's logger in one of these
 * (10 s by default).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type Logger, ThrottledLogger } from "@wireframe/wireframe";
 *
 * const lines: string[] = [];
 * const sink: Logger = {
 *   debug: () => {},
 *   info: () => {},
 *   warn: (message, fields) => void lines.push(`${message} ${JSON.stringify(fields)}`),
 *   error: () => {},
 * };
 * let now = 0;
 * const timers: (() => void)[] = [];
 * const logger = new ThrottledLogger(sink, {
 *   intervalMs: 10_000,
 *   clock: { now: () => now, setTimeout: (callback) => void timers.push(callback) },
 * });
 * for (let id = 1; id <= 3; id++) logger.warn("frame dropped", { id });
 * now = 10_000;
 * timers.shift()!();
 * assert.deepEqual(lines, [
 *   'frame dropped {"id":1}',
 *   'frame dropped (2 more in the last 10 s) {"id":3,"suppressed":2}',
 * ]);
 * ```
 */
export class ThrottledLogger implements Logger {
  readonly #inner: Logger;
  readonly #intervalMs: number;
  readonly #clock: ThrottleClock;
  readonly #windows = new Map<string, Window>();
  /** When the pending timer fires, if one is pending. */
  #timerDue: number | undefined;

  /**
   * Wrap `inner`.
   *
   * @param inner where records go
   * @param options the interval and clock
   * @throws {RangeError} for an `intervalMs` that is not a positive integer
   */
  constructor(inner: Logger, options: ThrottleOptions = {}) {
    const intervalMs = options.intervalMs ?? DEFAULT_THROTTLE_MS;
    if (!Number.isInteger(intervalMs) || intervalMs < 1) {
      throw new RangeError(
        `ThrottledLogger: option "intervalMs" must be a positive integer (got ${intervalMs})`,
      );
    }
    this.#inner = inner;
    this.#intervalMs = intervalMs;
    this.#clock = options.clock ?? defaultClock;
  }

  /** Passed on unthrottled. */
  debug(message: string, fields?: LogFields): void {
    this.#inner.debug(message, fields);
  }

  /** Passed on unthrottled. */
  info(message: string, fields?: LogFields): void {
    this.#inner.info(message, fields);
  }

  /** Passed on, unless `message` was already warned within the interval: then counted. */
  warn(message: string, fields?: LogFields): void {
    this.#record("warn", message, fields);
  }

  /** Passed on, unless `message` was already logged as an error within the interval: then counted. */
  error(message: string, fields?: LogFields): void {
    this.#record("error", message, fields);
  }

  /** Send the summary of every message with records held back now, without waiting for its window to end. */
  flush(): void {
    for (const [key, window] of this.#windows) {
      this.#windows.delete(key);
      if (window.suppressed > 0) this.#summarise(window);
    }
  }

  #record(level: Level, message: string, fields: LogFields | undefined): void {
    const now = this.#clock.now();
    const key = `${level}\u0000${message}`;
    const window = this.#windows.get(key);
    if (window === undefined || now - window.startedAt >= this.#intervalMs) {
      if (window === undefined || window.suppressed === 0) {
        if (this.#windows.size >= MAX_QUIET_WINDOWS) this.#forgetQuiet(now);
        this.#windows.set(key, {
          level,
          message,
          startedAt: now,
          suppressed: 0,
          lastFields: fields,
        });
        this.#inner[level](message, fields);
        return;
      }
      // The window ended with records held back and its timer has not run yet:
      // report them, and this record belongs to the window the summary opens.
      this.#summarise(window);
      window.startedAt = now;
      window.suppressed = 0;
    }
    window.suppressed++;
    window.lastFields = fields;
    this.#schedule(window.startedAt + this.#intervalMs, now);
  }

  /**
   * Drop the windows that ended with nothing held back. The timer only runs
   * while something is held back, so without this, messages that vary (a
   * user's, with an id in them) would grow the map for good.
   */
  #forgetQuiet(now: number): void {
    for (const [key, window] of this.#windows) {
      if (window.suppressed === 0 && now - window.startedAt >= this.#intervalMs) {
        this.#windows.delete(key);
      }
    }
  }

  #schedule(due: number, now: number): void {
    if (this.#timerDue !== undefined && this.#timerDue <= due) return;
    this.#timerDue = due;
    this.#clock.setTimeout(() => {
      if (this.#timerDue === due) this.#timerDue = undefined;
      this.#onTimer();
    }, Math.max(1, due - now));
  }

  /** Summarise every window that has ended; forget the quiet ones; wait for the next. */
  #onTimer(): void {
    const now = this.#clock.now();
    let next: number | undefined;
    for (const [key, window] of this.#windows) {
      const due = window.startedAt + this.#intervalMs;
      if (now < due) {
        if (window.suppressed > 0 && (next === undefined || due < next)) next = due;
      } else if (window.suppressed === 0) {
        this.#windows.delete(key);
      } else {
        this.#summarise(window);
        window.startedAt = now;
        window.suppressed = 0;
      }
    }
    if (next !== undefined) this.#schedule(next, now);
  }

  #summarise(window: Window): void {
    const n = window.suppressed;
    this.#inner[window.level](
      `${window.message} (${n} more in the last ${formatInterval(this.#intervalMs)})`,
      { ...window.lastFields, suppressed: n },
    );
  }
}

function formatInterval(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

/** `performance.now()`, and a `setTimeout` that is unref'd on every runtime. */
const defaultClock: ThrottleClock = {
  now: () => performance.now(),
  setTimeout: unrefTimeout,
};
