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
 * import { WireframeBaseError } from "@wireframe/wireframe";
 *
 * try {
 *   // ... use the library
 * } catch (err) {
 *   if (err instanceof WireframeBaseError) console.error(err.code, err.message);
 *   else throw err;
 * }
 * ```
 */
export class WireframeBaseError extends Error {
  /** Stable, machine-readable error code, e.g. `"ERR_FRAME_TOO_LARGE"`. */
  readonly code: string;

  /**
   * @param code stable error code
   * @param message human-readable description
   * @param options standard `ErrorOptions` (use `cause` to chain)
   */
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
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
 * import { ConfigError, FrameDecoder } from "@wireframe/wireframe";
 *
 * try {
 *   new FrameDecoder({ maxFrameLength: -1 });
 * } catch (err) {
 *   if (err instanceof ConfigError) console.error(err.option, err.message);
 * }
 * ```
 */
export class ConfigError extends WireframeBaseError {
  /** Dotted path of the offending option, e.g. `"maxFrameLength"`. */
  readonly option: string;

  /**
   * @param option dotted path of the offending option
   * @param message full description naming the option and its allowed values
   */
  constructor(option: string, message: string) {
    super("ERR_CONFIG", message);
    this.option = option;
  }
}
