/**
 * A runtime's socket errors as ours, the same for the Deno and Bun
 * transports: each runtime only says which case an error is and describes it.
 *
 * @module
 */
import {
  AddressInUseError,
  ConnectionRefusedError,
  ConnectionResetError,
  TransportError,
} from "./errors.ts";

/** An error the runtime raised, with its description for our message. */
export interface RuntimeFailure {
  /** The runtime's error, kept as `cause`. */
  readonly cause: unknown;
  /** What it says, e.g. `"NotConnected: socket is not connected"`. */
  readonly detail: string;
}

/** A runtime's error from listening on, or connecting to, an address. */
export interface AddressFailure extends RuntimeFailure {
  /** The host asked for. */
  readonly hostname: string;
  /** The port asked for. */
  readonly port: number;
}

/** {@link AddressInUseError} if `inUse`, else a `TransportError` `"ERR_LISTEN"`. */
export function listenError(failure: AddressFailure, inUse: boolean): TransportError {
  const { hostname, port, cause, detail } = failure;
  const what = `cannot listen on ${hostname}:${port}`;
  return inUse
    ? new AddressInUseError(`${what}: address in use`, { cause })
    : new TransportError("ERR_LISTEN", `${what}: ${detail}`, { cause });
}

/** {@link ConnectionRefusedError} if `refused`, else a `TransportError` `"ERR_CONNECT"`. */
export function connectError(failure: AddressFailure, refused: boolean): TransportError {
  const { hostname, port, cause, detail } = failure;
  const what = `cannot connect to ${hostname}:${port}`;
  return refused
    ? new ConnectionRefusedError(`${what}: connection refused`, { cause })
    : new TransportError("ERR_CONNECT", `${what}: ${detail}`, { cause });
}

/**
 * A failed read, write or shutdown: {@link ConnectionResetError} if the peer
 * reset or abandoned the connection, else a `TransportError` `"ERR_TRANSPORT"`.
 */
export function socketError(failure: RuntimeFailure, peerGone: boolean): TransportError {
  const { cause, detail } = failure;
  return peerGone
    ? new ConnectionResetError(undefined, { cause })
    : new TransportError("ERR_TRANSPORT", `socket I/O failed: ${detail}`, { cause });
}
