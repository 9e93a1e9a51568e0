/**
 * Why a frame writer gave up on its peer.
 *
 * @module
 */
import { WireframeBaseError } from "../error.ts";

/**
 * `"ERR_DRAIN_TIMEOUT"`: a slow consumer. The peer took none of the bytes
 * written to it for `timeoutMs` while output was pending, so the connection
 * was closed (the slow-consumer guard, `WireframeApp.outbound()`): pushes
 * still queued went to the dead-letter queue, waiting `push()` calls rejected
 * with `PushError("closed")`. Counted in `ServerStats.slowConsumers`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DrainTimeoutError } from "@wireframe/wireframe";
 *
 * const error = new DrainTimeoutError({ connectionId: 7, timeoutMs: 30_000, pendingBytes: 65_536 });
 * assert.equal(error.code, "ERR_DRAIN_TIMEOUT");
 * assert.match(error.message, /connection 7 .* 30000 ms .* 65536 bytes/);
 * ```
 */
export class DrainTimeoutError extends WireframeBaseError {
  /** The connection that was closed. */
  readonly connectionId: number;
  /** How long the write was stalled before the connection was closed, in ms (the drain timeout). */
  readonly timeoutMs: number;
  /** Outbound bytes the writer held (in flight and queued) when it gave up. */
  readonly pendingBytes: number;

  /**
   * Create the error; each fact sets the field of that name.
   *
   * @param facts the connection, the timeout and the bytes held
   */
  constructor(facts: { connectionId: number; timeoutMs: number; pendingBytes: number }) {
    super(
      "ERR_DRAIN_TIMEOUT",
      `connection ${facts.connectionId} took no outbound bytes for ${facts.timeoutMs} ms ` +
        `(drain timeout) with ${facts.pendingBytes} bytes pending: closed as a slow consumer`,
    );
    this.connectionId = facts.connectionId;
    this.timeoutMs = facts.timeoutMs;
    this.pendingBytes = facts.pendingBytes;
  }
}
