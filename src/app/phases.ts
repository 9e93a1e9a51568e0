/**
 * Phases: routing that depends on where a connection is in its protocol
 * (before MQTT's CONNECT or MySQL's authentication nothing else is allowed),
 * and routing keys that may be strings (Redis commands, SMTP verbs).
 *
 * @module
 */
import type { Envelope } from "../codec/envelope.ts";
import { ConfigError, WireframeBaseError } from "../error.ts";

/** What a route is found by: a message id (u32), or a string such as a command name. */
export type RouteKey = number | string;

/** Options of `app.route()`. */
export interface RouteOptions {
  /**
   * The phases the route is allowed in; default: the ready phase (see
   * `app.phases()`). Without `app.phases()`, routes are allowed always.
   */
  phase?: string | readonly string[];
}

/** Options of `app.phases()`. */
export interface PhaseOptions {
  /** The phase a connection starts in, e.g. `"handshake"`. */
  initial: string;
  /** The phase of routes declared without a `phase` option, and of the fallback. Default `"ready"`. */
  ready?: string;
}

/** The phases of an app, as a connection uses them (internal). */
export interface PhaseSpec {
  readonly initial: string;
  readonly ready: string;
  /** Every phase the app names: initial, ready, and those of its routes. */
  readonly names: ReadonlySet<string>;
}

/**
 * A frame that the connection's phase does not allow: its route belongs to
 * other phases, or it has no route and the connection is not in the ready
 * phase (where the fallback applies). The protocol may answer it
 * (`WireframeProtocol.phaseViolation`); then the connection closes. Counted
 * as a protocol violation.
 */
export class PhaseViolationError extends WireframeBaseError {
  /** The routing key of the frame. */
  readonly key: RouteKey;
  /** The phase the connection was in. */
  readonly phase: string;

  /**
   * Create the error.
   *
   * @param key the routing key of the frame
   * @param phase the phase the connection was in
   */
  constructor(key: RouteKey, phase: string) {
    super(
      "ERR_PHASE_VIOLATION",
      `${
        typeof key === "string" ? `"${key}"` : `message id ${key}`
      } is not allowed in phase "${phase}"`,
    );
    this.key = key;
    this.phase = phase;
  }
}

/** How the routing key of a request is found; default: its message id. */
export type RouteKeyOf = (request: Envelope) => RouteKey;

const U32_MAX = 0xffff_ffff;
const MAX_KEY_LENGTH = 1024;

/**
 * Check a routing key given to `route()`.
 * @throws {ConfigError} unless a u32 or a non-empty string of at most 1,024 characters
 */
export function checkRouteKey(key: RouteKey): void {
  if (typeof key === "string") {
    if (key.length >= 1 && key.length <= MAX_KEY_LENGTH) return;
    throw new ConfigError(
      "id",
      `route: option "id" as a string must have 1 to ${MAX_KEY_LENGTH} characters (got ${key.length})`,
    );
  }
  if (!Number.isInteger(key) || key < 0 || key > U32_MAX) {
    throw new ConfigError(
      "id",
      `route: option "id" must be an integer from 0 to ${U32_MAX} (got ${key})`,
    );
  }
}

/**
 * Check a phase name.
 * @throws {ConfigError} unless a non-empty string
 */
export function checkPhaseName(owner: string, option: string, name: unknown): string {
  if (typeof name === "string" && name.length > 0) return name;
  throw new ConfigError(option, `${owner}: option "${option}" must be a non-empty string`);
}
