/**
 * The error classes shared by every part of Wireframe.
 *
 * Every error Wireframe throws or rejects with is a {@link WireframeBaseError}:
 * `instanceof` picks a family, and `code` is a stable string to switch on.
 *
 * @module
 */

/**
 * Base class of every error Wireframe throws. `code` is stable across
 * releases and safe to match on; `message` is for humans.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { WireframeApp, WireframeBaseError, WireframeServer } from "@wireframe/wireframe";
 *
 * assert.throws(
 *   () => new WireframeServer(new WireframeApp(), { maxConnections: 0 }),
 *   (err) => err instanceof WireframeBaseError && err.code === "ERR_CONFIG",
 * );
 * ```
 */
export class WireframeBaseError extends Error {
  /** Stable, machine-readable error code, e.g. `"ERR_FRAME_TOO_LARGE"`. */
  readonly code: string;

  /**
   * Create the error.
   *
   * @param code stable error code
   * @param message human-readable description
   * @param options standard `ErrorOptions` (use `cause` to chain); a `cause`
   *   of `undefined` is left out, so subclasses can pass `{ cause }` as it comes
   */
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options?.cause === undefined ? undefined : options);
    this.code = code;
    this.name = new.target.name;
  }
}

/**
 * A builder or constructor was given an invalid option. The message names the
 * option and the values it accepts, e.g.
 * `FrameDecoder: option "lengthFieldLength" must be one of 1, 2, 3, 4, 8 (got 5)`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ConfigError } from "@wireframe/wireframe";
 * import { FrameDecoder } from "@wireframe/wireframe/codec";
 *
 * assert.throws(() => new FrameDecoder({ maxFrameLength: -1 }), (err) => {
 *   assert.ok(err instanceof ConfigError);
 *   assert.equal(err.option, "maxFrameLength");
 *   assert.match(err.message, /must be an integer from 1 to 2147483647 \(got -1\)/);
 *   return true;
 * });
 * ```
 */
export class ConfigError extends WireframeBaseError {
  /** Dotted path of the offending option, e.g. `"maxFrameLength"`. */
  readonly option: string;

  /**
   * Create the error; `option` sets the field of that name.
   *
   * @param message full description naming the option and its allowed values
   */
  constructor(option: string, message: string) {
    super("ERR_CONFIG", message);
    this.option = option;
  }
}

/** The two families of failure a response stream or connection can report. */
export type WireframeErrorKind = "io" | "protocol";

/**
 * A failure while producing or delivering responses, split as in the Rust
 * library's `WireframeError<E>`:
 *
 * - `kind: "io"` — the transport failed; the connection ends once the frames
 *   already produced are flushed. The underlying error is `cause`.
 * - `kind: "protocol"` — a protocol-level fault of one request, carrying your
 *   own error value in `error`; the request ends (no terminator frame) and the
 *   connection carries on.
 *
 * Throw one from a handler or a response stream to choose what happens.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { WireframeError } from "@wireframe/wireframe";
 *
 * async function* rows() {
 *   yield new Uint8Array([1]);
 *   throw WireframeError.protocol({ sqlState: "42000" }, "syntax error");
 * }
 *
 * // Served from a handler, the row goes out, then `protocol.handleError` gets the error.
 * await assert.rejects(Array.fromAsync(rows()), (err) => {
 *   assert.ok(err instanceof WireframeError);
 *   assert.equal(err.kind, "protocol");
 *   assert.deepEqual(err.error, { sqlState: "42000" });
 *   return true;
 * });
 * ```
 */
export class WireframeError<E = unknown> extends WireframeBaseError {
  /** `"io"` ends the connection; `"protocol"` ends only the current request. */
  readonly kind: WireframeErrorKind;
  /** The protocol error value (only for `kind: "protocol"`). */
  readonly error: E | undefined;

  private constructor(
    kind: WireframeErrorKind,
    message: string,
    error: E | undefined,
    cause?: unknown,
  ) {
    super(kind === "io" ? "ERR_IO" : "ERR_PROTOCOL", message, { cause });
    this.kind = kind;
    this.error = error;
  }

  /** An I/O failure; `cause` is the underlying error. */
  static io(cause: unknown, message = "I/O error"): WireframeError<never> {
    return new WireframeError<never>("io", message, undefined, cause);
  }

  /** A protocol fault of the current request carrying `error`. */
  static protocol<E>(error: E, message = "protocol error"): WireframeError<E> {
    return new WireframeError("protocol", message, error);
  }
}
