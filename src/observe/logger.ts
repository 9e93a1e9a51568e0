/**
 * The logger interface the library reports through, and its two stock
 * implementations.
 *
 * @module
 */

/** Structured fields attached to a log record. */
export type LogFields = Record<string, unknown>;

/**
 * Where Wireframe reports what it cannot throw to a caller: a failed
 * connection, a throwing handler, a dropped frame. Plug in your own (pino,
 * OpenTelemetry logs, …) with `app.logger(...)`.
 */
export interface Logger {
  /** Routine detail (a peer reset, a connection closed). */
  debug(message: string, fields?: LogFields): void;
  /** Lifecycle events (listening, shutting down). */
  info(message: string, fields?: LogFields): void;
  /** Something was dropped or rejected, and the server carries on. */
  warn(message: string, fields?: LogFields): void;
  /** A fault in user code (handler, hook) or a bug. */
  error(message: string, fields?: LogFields): void;
}

const noop = (): void => {};

/** Discards everything. */
export const silentLogger: Logger = Object.freeze({
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
});

/**
 * The default: warnings and errors go to the console's stderr methods;
 * debug and info are dropped. This is the only place the library writes to
 * the console.
 */
export const consoleLogger: Logger = Object.freeze({
  debug: noop,
  info: noop,
  warn: (message: string, fields?: LogFields) =>
    console.warn(`[wireframe] ${message}`, fields ?? ""),
  error: (message: string, fields?: LogFields) =>
    console.error(`[wireframe] ${message}`, fields ?? ""),
});
