/**
 * Counters a server keeps about its connections and requests.
 *
 * @module
 */

/** A snapshot of a server's counters (see `WireframeServer.stats()`). */
export interface ServerStats {
  /** Connections accepted and served. */
  readonly connectionsAccepted: number;
  /** Connections being served right now. */
  readonly connectionsActive: number;
  /** Connections closed at once because `maxConnections` was reached. */
  readonly connectionsRejected: number;
  /** Connections that ended with an error (protocol violation, reset, fault). */
  readonly connectionErrors: number;
  /**
   * Connections closed because the peer broke the protocol: a frame the codec
   * rejected, a malformed envelope or fragment, a failed preamble. A peer's
   * fault, not the server's, so logged at debug only; those that end after
   * the preamble also count in `connectionErrors`, failed preambles in
   * `preambleFailures`.
   */
  readonly protocolViolations: number;
  /**
   * Requests decoded and dispatched: to the middleware chain when the app has
   * middleware (every frame), else to a handler or the fallback.
   */
  readonly requests: number;
  /**
   * Frames that reached no handler: their id has no route and there is no
   * fallback. Without middleware they are dropped; with middleware they went
   * through it (which may have answered them) first.
   */
  readonly unroutedFrames: number;
  /** Frame bodies that were not valid envelopes. */
  readonly malformedFrames: number;
  /** Handler, middleware or hook failures. */
  readonly handlerErrors: number;
  /** Connections whose preamble failed (invalid, timed out, too long, closed early). */
  readonly preambleFailures: number;
  /** Connections closed by a timeout (handshake, idle, slow frame); also in `connectionErrors`. */
  readonly timeouts: number;
  /**
   * Connections closed as slow consumers: the peer took no bytes for the
   * drain timeout while output was pending (`DrainTimeoutError`, see
   * `WireframeApp.outbound()`). Also in `connectionErrors`.
   */
  readonly slowConsumers: number;
}

/** Mutable counters behind {@link ServerStats}. */
export type Counters = { -readonly [K in keyof ServerStats]: ServerStats[K] };

/** Fresh zeroed counters. */
export function newCounters(): Counters {
  return {
    connectionsAccepted: 0,
    connectionsActive: 0,
    connectionsRejected: 0,
    connectionErrors: 0,
    protocolViolations: 0,
    requests: 0,
    unroutedFrames: 0,
    malformedFrames: 0,
    handlerErrors: 0,
    preambleFailures: 0,
    timeouts: 0,
    slowConsumers: 0,
  };
}
