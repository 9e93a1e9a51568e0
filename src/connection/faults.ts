/**
 * Sorting failures by who is at fault, which decides what ends and how loudly
 * it is logged.
 *
 * @module
 */
import { CodecError } from "../codec/errors.ts";
import { EnvelopeError } from "../codec/envelope.ts";
import { WireframeError } from "../error.ts";
import { FragmentError } from "../fragment/errors.ts";
import type { Logger } from "../observe/logger.ts";
import type { Counters } from "../observe/stats.ts";
import { TransportError } from "../transport/errors.ts";

/** Who caused a connection to end. */
export type Fault = "transport" | "protocol" | "hook" | "internal";

/** True for failures that must end the connection rather than one request. */
export function isIoFault(error: unknown): boolean {
  return (error instanceof WireframeError && error.kind === "io") ||
    error instanceof TransportError;
}

/** Classify an error that ended a connection. */
export function classifyFault(error: unknown, setupDone: boolean): Fault {
  if (isIoFault(error)) return "transport";
  if (
    error instanceof CodecError || error instanceof EnvelopeError || error instanceof FragmentError
  ) return "protocol";
  return setupDone ? "internal" : "hook";
}

/**
 * Count and log an error that ended a connection, as loudly as its kind
 * deserves: a transport failure or a peer's protocol violation at debug (the
 * peer's doing, and a hostile peer can cause any number of them), a fault in
 * a hook or in the library at error.
 */
export function reportConnectionFault(
  error: unknown,
  setupDone: boolean,
  connectionId: number,
  deps: { readonly spec: { readonly logger: Logger }; readonly counters: Counters },
): void {
  const { spec: { logger }, counters } = deps;
  const fault = classifyFault(error, setupDone);
  if (fault === "hook") counters.handlerErrors++;
  else counters.connectionErrors++;
  if (fault === "protocol") counters.protocolViolations++;
  const fields = { connectionId, error };
  if (fault === "transport") logger.debug("connection ended by the transport", fields);
  else if (fault === "protocol") logger.debug("connection closed: protocol violation", fields);
  else logger.error(fault === "hook" ? "connection setup failed" : "connection failed", fields);
}
