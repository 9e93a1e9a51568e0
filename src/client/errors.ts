/**
 * Errors a {@link WireframeClient} rejects with.
 *
 * @module
 */
import { WireframeBaseError } from "../error.ts";

/** The connection ended while a request was waiting for its response. */
export class ConnectionLostError extends WireframeBaseError {
  /**
   * Create the error.
   *
   * @param message what was lost
   * @param cause the transport or protocol error, if any
   */
  constructor(message = "the connection was lost before the response arrived", cause?: unknown) {
    super("ERR_CONNECTION_LOST", message, { cause });
  }
}

/** A response arrived carrying a correlation id that no request is waiting for. */
export class CorrelationMismatchError extends WireframeBaseError {
  /** The correlation id of the request that was next in line. */
  readonly expected: bigint;
  /** The correlation id the response carried. */
  readonly received: bigint;

  /**
   * Create the error; each argument sets the field of the same name.
   */
  constructor(expected: bigint, received: bigint) {
    super(
      "ERR_CORRELATION_MISMATCH",
      `expected a response with correlation id ${expected}, received ${received}`,
    );
    this.expected = expected;
    this.received = received;
  }
}

/** The client was closed; no new requests are accepted. */
export class ClientClosedError extends WireframeBaseError {
  /** Create the error. */
  constructor() {
    super("ERR_CLIENT_CLOSED", "the client is closed");
  }
}
