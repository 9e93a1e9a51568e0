/**
 * Errors raised by the transports. Readers and writers reject with these,
 * never with a runtime's own error: the original is kept as `cause`.
 *
 * @module
 */
import { WireframeBaseError } from "../error.ts";

/**
 * Base class of every transport failure. Switch on `code`, or on the
 * subclasses below.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect, TransportError } from "@wireframe/wireframe/memory";
 *
 * // Each transport entry (`/deno`, `/bun`, `/memory`) exports the same error classes.
 * await assert.rejects(
 *   connect({ port: 1 }), // nobody listens there
 *   (err) => err instanceof TransportError && err.code === "ERR_CONNECTION_REFUSED",
 * );
 * ```
 */
export class TransportError extends WireframeBaseError {
  /**
   * Create a transport error with an explicit code.
   *
   * @param code stable error code, e.g. `"ERR_TRANSPORT"`
   * @param message human-readable description
   * @param options standard `ErrorOptions`; `cause` holds the runtime's error
   */
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(code, message, options);
  }
}

/**
 * `"ERR_CONNECTION_CLOSED"`: the connection was closed on this side
 * (`close()` was called, or the writable was aborted), so the read or write
 * cannot proceed.
 */
export class ConnectionClosedError extends TransportError {
  /**
   * Create the error; the default message suits most uses. The arguments
   * are those of {@link TransportError} but the code.
   */
  constructor(message = "the connection is closed", options?: ErrorOptions) {
    super("ERR_CONNECTION_CLOSED", message, options);
  }
}

/**
 * `"ERR_CONNECTION_RESET"`: the peer reset or abandoned the connection
 * (TCP RST, broken pipe, or `close()` on an in-memory peer).
 */
export class ConnectionResetError extends TransportError {
  /**
   * Create the error; the default message suits most uses. The arguments
   * are those of {@link TransportError} but the code.
   */
  constructor(message = "the connection was reset by the peer", options?: ErrorOptions) {
    super("ERR_CONNECTION_RESET", message, options);
  }
}

/** `"ERR_CONNECTION_REFUSED"`: nothing is listening at the address `connect()` was given. */
export class ConnectionRefusedError extends TransportError {
  /**
   * Create the error; the default message suits most uses. The arguments
   * are those of {@link TransportError} but the code.
   */
  constructor(message = "connection refused", options?: ErrorOptions) {
    super("ERR_CONNECTION_REFUSED", message, options);
  }
}

/** `"ERR_ADDRESS_IN_USE"`: `listen()` was asked for an address something else holds. */
export class AddressInUseError extends TransportError {
  /**
   * Create the error; the default message suits most uses. The arguments
   * are those of {@link TransportError} but the code.
   */
  constructor(message = "address already in use", options?: ErrorOptions) {
    super("ERR_ADDRESS_IN_USE", message, options);
  }
}

/** `"ERR_UNSUPPORTED_RUNTIME"`: the transport needs a runtime API that is not present here. */
export class UnsupportedRuntimeError extends TransportError {
  /**
   * Create the error; the default message suits most uses. The arguments
   * are those of {@link TransportError} but the code.
   */
  constructor(message = "unsupported runtime", options?: ErrorOptions) {
    super("ERR_UNSUPPORTED_RUNTIME", message, options);
  }
}

/**
 * `"ERR_TLS"`: a TLS handshake or certificate check failed (an untrusted or
 * expired certificate, a name that does not match `serverName`, a peer that
 * does not speak TLS), or the certificate and key given to `listen()` were
 * refused. The runtime's error is the `cause`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TlsError, TransportError } from "@wireframe/wireframe/memory";
 *
 * const error = new TlsError("certificate not valid for name \"example.com\"");
 * assert.ok(error instanceof TransportError);
 * assert.equal(error.code, "ERR_TLS");
 * ```
 */
export class TlsError extends TransportError {
  /**
   * Create the error. The arguments are those of {@link TransportError} but the code.
   */
  constructor(message = "TLS failed", options?: ErrorOptions) {
    super("ERR_TLS", message, options);
  }
}

/**
 * `"ERR_WEBSOCKET"`: a WebSocket connection was closed with a code other
 * than a normal one (1000, 1001, or none): by the peer, or by us for a text
 * message (1003), a message over `maxPayload` (1009), a reader too slow
 * where reading cannot pause (1008) or a missed heartbeat pong (1001).
 * `closeCode` is the code (1006: the socket went without a close frame).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TransportError, WebSocketError } from "@wireframe/wireframe/websocket";
 *
 * const error = new WebSocketError(1009, "closed with 1009: message over maxPayload");
 * assert.ok(error instanceof TransportError);
 * assert.deepEqual([error.code, error.closeCode], ["ERR_WEBSOCKET", 1009]);
 * ```
 */
export class WebSocketError extends TransportError {
  /** The WebSocket close code (RFC 6455 §7.4). */
  readonly closeCode: number;

  /**
   * Create the error.
   *
   * @param closeCode the WebSocket close code
   * @param message what happened
   */
  constructor(closeCode: number, message: string, options?: ErrorOptions) {
    super("ERR_WEBSOCKET", message, options);
    this.closeCode = closeCode;
  }
}
