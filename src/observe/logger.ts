/**
 * The logger interface the library reports through, and its stock
 * implementations: the console logger (at a chosen level) and the silent one.
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
  /** Routine detail (a peer reset, a protocol violation by a peer, a connection closed). */
  debug(message: string, fields?: LogFields): void;
  /** Lifecycle events (listening, shutting down). */
  info(message: string, fields?: LogFields): void;
  /** Something was dropped or rejected, and the server carries on. */
  warn(message: string, fields?: LogFields): void;
  /** A fault in user code (handler, hook) or a bug. */
  error(message: string, fields?: LogFields): void;
}

/** The levels of a {@link Logger}, least severe first. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** Options of {@link createConsoleLogger}. */
export interface ConsoleLoggerOptions {
  /**
   * The least severe level printed (default `"warn"`). At `"debug"` an Error
   * in the fields is printed whole, with its stack; above it, as one line:
   * its name, code (if any) and message.
   */
  level?: LogLevel;
}

const LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];

const noop = (): void => {};

/** Discards everything. */
export const silentLogger: Logger = Object.freeze({
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
});

/**
 * A logger that prints to the console: each level through the console method
 * of the same name (`console.warn`, …), records below `level` dropped. This
 * and {@link consoleLogger} are the only places the library writes to the
 * console.
 *
 * Above `"debug"` a record is one line, `[wireframe] <message> key=value …`,
 * with an Error shown as `Name [code]: message` and no stack, so a flood of
 * faults costs a line each. At `"debug"` the fields go to the console as they
 * are, so Errors print with their stacks.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createConsoleLogger, WireframeApp } from "@wireframe/wireframe";
 *
 * // Every record, with stacks: for chasing a fault, not for production.
 * const app = new WireframeApp().logger(createConsoleLogger({ level: "debug" }));
 *
 * // At the default level, "warn": one line per record, and info is dropped.
 * const printed: string[] = [];
 * const { info, warn } = console;
 * console.info = console.warn = (line: string) => void printed.push(line);
 * try {
 *   const logger = createConsoleLogger();
 *   logger.info("listening");
 *   logger.warn("frame dropped", { id: 7, error: new TypeError("boom") });
 * } finally {
 *   Object.assign(console, { info, warn });
 * }
 * assert.deepEqual(printed, ['[wireframe] frame dropped id=7 error="TypeError: boom"']);
 * ```
 *
 * @throws {TypeError} for a `level` that is not one of debug, info, warn, error
 */
export function createConsoleLogger(options: ConsoleLoggerOptions = {}): Logger {
  const level = options.level ?? "warn";
  const least = LEVELS.indexOf(level);
  if (least < 0) {
    throw new TypeError(
      `createConsoleLogger: option "level" must be one of ${LEVELS.join(", ")} (got ${
        String(level)
      })`,
    );
  }
  const verbose = level === "debug";
  const at = (name: LogLevel) => {
    if (LEVELS.indexOf(name) < least) return noop;
    if (verbose) {
      return (message: string, fields?: LogFields) =>
        console[name](`[wireframe] ${message}`, fields ?? "");
    }
    return (message: string, fields?: LogFields) => console[name](formatLine(message, fields));
  };
  return Object.freeze({
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
  });
}

/**
 * The default: warnings and errors go to `console.warn` / `console.error`,
 * one line each and without stacks; debug and info are dropped. The same as
 * `createConsoleLogger({ level: "warn" })`.
 */
export const consoleLogger: Logger = createConsoleLogger();

/**
 * `logger` with the records below `level` dropped: for a logger of your own
 * that has no level of its own (`app.logger(logger, { level })` applies this).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type Logger, withLevel } from "@wireframe/wireframe";
 *
 * const lines: string[] = [];
 * const all: Logger = {
 *   debug: (m) => void lines.push(`debug ${m}`),
 *   info: (m) => void lines.push(`info ${m}`),
 *   warn: (m) => void lines.push(`warn ${m}`),
 *   error: (m) => void lines.push(`error ${m}`),
 * };
 * const logger = withLevel(all, "info");
 * logger.debug("dropped");
 * logger.info("listening");
 * assert.deepEqual(lines, ["info listening"]);
 * ```
 *
 * @throws {TypeError} for a `level` that is not one of debug, info, warn, error
 */
export function withLevel(logger: Logger, level: LogLevel): Logger {
  const least = LEVELS.indexOf(level);
  if (least < 0) {
    throw new TypeError(
      `withLevel: "level" must be one of ${LEVELS.join(", ")} (got ${String(level)})`,
    );
  }
  if (least === 0) return logger;
  const at = (name: LogLevel) =>
    LEVELS.indexOf(name) < least
      ? noop
      : (message: string, fields?: LogFields) => logger[name](message, fields);
  return Object.freeze({
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
  });
}

/** `[wireframe] message key=value …` on one line. */
function formatLine(message: string, fields?: LogFields): string {
  let line = `[wireframe] ${message}`;
  if (fields === undefined) return line;
  for (const [key, value] of Object.entries(fields)) line += ` ${key}=${formatValue(value)}`;
  return line;
}

function formatValue(value: unknown): string {
  if (value instanceof Error) return JSON.stringify(describeError(value));
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "object" && value !== null) {
    try {
      return JSON.stringify(
        value,
        (_key, inner) =>
          inner instanceof Error
            ? describeError(inner)
            : typeof inner === "bigint"
            ? `${inner}n`
            : inner,
      );
    } catch {
      return Object.prototype.toString.call(value);
    }
  }
  return String(value);
}

/** `Name [code]: message`, then the same for an Error `cause`, one level deep. */
function describeError(error: Error, depth = 0): string {
  const code = (error as { code?: unknown }).code;
  let text = `${error.name}${code === undefined ? "" : ` [${String(code)}]`}: ${error.message}`;
  if (depth === 0 && error.cause instanceof Error) {
    text += ` (cause: ${describeError(error.cause, 1)})`;
  }
  return text;
}
