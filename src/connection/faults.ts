/**
 * Sorting failures by who is at fault, which decides what ends and how loudly
 * it is logged.
 *
 * @module
 */
import { CodecError } from "../codec/errors.ts";
import { EnvelopeError } from "../codec/envelope.ts";
import { WireframeError } from "../error.ts";
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
