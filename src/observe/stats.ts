/**
 * Counters a server keeps about its connections and requests.
 *
 * @module
 */
import type { CloseReason } from "./telemetry_names.ts";

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
  /** Connections that ended (teardown ran), whatever the reason; see `closeReasons`. */
  readonly connectionsClosed: number;
  /** Connections that ended, by why (the `wireframe.close.reason` of their span). */
  readonly closeReasons: Readonly<Record<CloseReason, number>>;
  /** Bytes read from peers (preambles included). */
  readonly bytesReceived: number;
  /** Bytes written to peers (framed, preamble replies included). */
  readonly bytesSent: number;
  /** Frames decoded from peers (fragments once re-assembled count once). */
  readonly framesReceived: number;
  /** Frames written to peers (each fragment counts). */
  readonly framesSent: number;
  /** Frames the codec rejected as longer than its maximum (each closed its connection). */
  readonly framesTooLarge: number;
  /** Pushes by outcome: queued, dropped because a queue was full, refused by the rate limit. */
  readonly pushes: Readonly<{ queued: number; dropped: number; "rate-limited": number }>;
  /** Pushes offered to the dead-letter queue, by reason. */
  readonly deadLetters: Readonly<{ full: number; "connection-closed": number }>;
}

/** The names of the plain number counters of {@link ServerStats}. */
export type CounterName = {
  [K in keyof ServerStats]: ServerStats[K] extends number ? K : never;
}[keyof ServerStats];

/** Mutable counters behind {@link ServerStats}. */
export type Counters =
  & { -readonly [K in CounterName]: number }
  & {
    closeReasons: Record<CloseReason, number>;
    pushes: { queued: number; dropped: number; "rate-limited": number };
    deadLetters: { full: number; "connection-closed": number };
  };

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
    connectionsClosed: 0,
    closeReasons: {
      "peer-closed": 0,
      reset: 0,
      "protocol-violation": 0,
      "preamble-failed": 0,
      timeout: 0,
      "slow-consumer": 0,
      "shutdown-drained": 0,
      "shutdown-forced": 0,
      "closed-by-app": 0,
      "internal-error": 0,
    },
    bytesReceived: 0,
    bytesSent: 0,
    framesReceived: 0,
    framesSent: 0,
    framesTooLarge: 0,
    pushes: { queued: 0, dropped: 0, "rate-limited": 0 },
    deadLetters: { full: 0, "connection-closed": 0 },
  };
}

/** A snapshot of `counters` that later counting does not change. */
export function snapshotCounters(counters: Counters): ServerStats {
  return {
    ...counters,
    closeReasons: { ...counters.closeReasons },
    pushes: { ...counters.pushes },
    deadLetters: { ...counters.deadLetters },
  };
}
