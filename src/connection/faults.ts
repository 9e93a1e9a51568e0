/**
 * Sorting failures by who is at fault, which decides what ends, what is
 * counted and how loudly it is logged. The only place the fault counters of
 * {@link ServerStats} move.
 *
 * @module
 */
import { PhaseViolationError } from "../app/phases.ts";
import { ConnectionTimeoutError } from "../app/timeouts.ts";
import { CodecError } from "../codec/errors.ts";
import { EnvelopeError } from "../codec/envelope.ts";
import { WireframeError } from "../error.ts";
import { FragmentError } from "../fragment/errors.ts";
import type { CounterName, Counters } from "../observe/stats.ts";
import { TransportError } from "../transport/errors.ts";
import { DrainTimeoutError } from "../wire/errors.ts";

/**
 * Who failed, and so what is counted:
 *
 * | fault       | what happened                                  | counted in                                |
 * | ----------- | ---------------------------------------------- | ----------------------------------------- |
 * | `transport` | the socket failed; the connection ends         | `connectionErrors`                        |
 * | `protocol`  | the peer broke the protocol; the connection ends | `connectionErrors`, `protocolViolations` |
 * | `preamble`  | the peer's preamble failed; the connection ends | `preambleFailures`, `protocolViolations` |
 * | `timeout`   | the peer was too slow; the connection ends     | `connectionErrors`, `timeouts`            |
 * | `slow-consumer` | the peer took no bytes for the drain timeout; the connection ends | `connectionErrors`, `slowConsumers` |
 * | `internal`  | user code or the library failed after setup; the connection ends | `connectionErrors` |
 * | `hook`      | a handler, middleware or hook failed           | `handlerErrors`                           |
 */
export type Fault =
  | "transport"
  | "protocol"
  | "preamble"
  | "timeout"
  | "slow-consumer"
  | "internal"
  | "hook";

/** True for failures that must end the connection rather than one request. */
export function isIoFault(error: unknown): boolean {
  return (error instanceof WireframeError && error.kind === "io") ||
    error instanceof TransportError;
}

/** Classify an error that ended a connection (`setupDone`: it ended after setup). */
export function classifyFault(error: unknown, setupDone: boolean): Fault {
  if (isIoFault(error)) return "transport";
  if (error instanceof DrainTimeoutError) return "slow-consumer";
  if (error instanceof ConnectionTimeoutError) return "timeout";
  if (
    error instanceof CodecError || error instanceof EnvelopeError ||
    error instanceof FragmentError || error instanceof PhaseViolationError
  ) return "protocol";
  return setupDone ? "internal" : "hook";
}

const COUNTED: Record<Fault, readonly CounterName[]> = {
  transport: ["connectionErrors"],
  protocol: ["connectionErrors", "protocolViolations"],
  preamble: ["preambleFailures", "protocolViolations"],
  timeout: ["connectionErrors", "timeouts"],
  "slow-consumer": ["connectionErrors", "slowConsumers"],
  internal: ["connectionErrors"],
  hook: ["handlerErrors"],
};

/** Count one fault of `fault`'s kind. */
export function countFault(counters: Counters, fault: Fault): void {
  for (const counter of COUNTED[fault]) counters[counter]++;
}
