/**
 * Sorting failures by who is at fault, which decides what ends and how loudly
 * it is logged.
 *
 * @module
 */
import { CodecError } from "../codec/errors.ts";
import { EnvelopeError } from "../codec/envelope.ts";
import { WireframeError } from "../error.ts";
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
  if (error instanceof CodecError || error instanceof EnvelopeError) return "protocol";
  return setupDone ? "internal" : "hook";
}

/** Count and log an error that ended a connection, as loudly as its kind deserves. */
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
  const fields = { connectionId, error };
  if (fault === "transport") logger.debug("connection ended by the transport", fields);
  else if (fault === "protocol") logger.warn("connection closed: protocol violation", fields);
  else logger.error(fault === "hook" ? "connection setup failed" : "connection failed", fields);
}
