/**
 * Connection timeouts: silent peers are dropped (a handshake that never
 * comes, a client that stops talking, slowloris — a frame begun and never
 * finished).
 *
 * @module
 */
import { z } from "zod";
import { intInRange } from "../_internal/options.ts";
import { WireframeBaseError } from "../error.ts";

/** Options of `app.timeouts()`; every one is in ms, and 0 switches it off. */
export interface TimeoutOptions {
  /**
   * From accept until the connection leaves its initial phase (with
   * `app.phases()`), or until its first complete frame (without). Default:
   * 30,000 with phases, off without.
   */
  handshakeMs?: number;
  /**
   * No complete inbound frame for this long while the server waits for the
   * peer (not while a command runs). Default off; a connection may set its
   * own with `ctx.setIdleTimeout(ms)` (MQTT: 1.5 × the client's keepalive).
   */
  idleMs?: number;
  /** A frame that has begun and not completed for this long (slowloris). Default 30,000. */
  slowFrameMs?: number;
}

/** The default of {@link TimeoutOptions.slowFrameMs}. */
export const DEFAULT_SLOW_FRAME_MS = 30_000;
/** The default of {@link TimeoutOptions.handshakeMs} for an app with phases. */
export const DEFAULT_HANDSHAKE_MS = 30_000;

const MAX_TIMEOUT_MS = 2 ** 31 - 1;
const timeoutMs = () => intInRange(0, MAX_TIMEOUT_MS).optional();

/** Validation of `timeouts()` options. */
export const timeoutsSchema = z.strictObject({
  handshakeMs: timeoutMs(),
  idleMs: timeoutMs(),
  slowFrameMs: timeoutMs(),
});

/** The timeouts of a connection, resolved (0: off). */
export interface ResolvedTimeouts {
  readonly handshakeMs: number;
  readonly idleMs: number;
  readonly slowFrameMs: number;
}

/** Which timeout expired. */
export type TimeoutReason = "handshake" | "idle" | "slow-frame";

/**
 * A connection was closed because the peer was too slow: no handshake
 * within `handshakeMs`, no frame within `idleMs`, or a frame not completed
 * within `slowFrameMs`. The protocol's `closingFrames` hook may answer it
 * first. Counted in `stats().timeouts`.
 */
export class ConnectionTimeoutError extends WireframeBaseError {
  /** Which timeout expired. */
  readonly reason: TimeoutReason;
  /** Its length in ms. */
  readonly timeoutMs: number;
  /** The connection it closed. */
  readonly connectionId: number;

  /**
   * Create the error; the arguments set the fields of those names.
   *
   * @param reason which timeout expired
   * @param timeoutMs its length
   * @param connectionId the connection it closed
   */
  constructor(reason: TimeoutReason, timeoutMs: number, connectionId: number) {
    const what = reason === "handshake"
      ? "no handshake"
      : reason === "idle"
      ? "no frame"
      : "a frame begun and not completed";
    super("ERR_CONNECTION_TIMEOUT", `connection ${connectionId}: ${what} within ${timeoutMs} ms`);
    this.reason = reason;
    this.timeoutMs = timeoutMs;
    this.connectionId = connectionId;
  }
}
