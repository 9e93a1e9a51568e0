/**
 * Re-assembly limits and fragmenter options: defaults, ranges and validation.
 *
 * @module
 */
import { z } from "zod";
import { intInRange, oneOf, parseOptions } from "../_internal/options.ts";

const MiB = 1024 * 1024;

/** Default `maxMessageSize`: 16 MiB (16 × the default 1 MiB max frame). */
export const DEFAULT_MAX_MESSAGE_SIZE: number = 16 * MiB;
/** Default `reassemblyTimeoutMs`: 30 s from a message's first fragment. */
export const DEFAULT_REASSEMBLY_TIMEOUT_MS = 30_000;
/** Default `maxConcurrentMessages` partial messages per connection. */
export const DEFAULT_MAX_CONCURRENT_MESSAGES = 16;
/** Default `maxBufferedBytes` per connection: 32 MiB. */
export const DEFAULT_MAX_BUFFERED_BYTES: number = 32 * MiB;
/** Default `fragmentOverhead`: bytes charged per held fragment on top of its data. */
export const DEFAULT_FRAGMENT_OVERHEAD = 64;

const MAX_MESSAGE_LIMIT = 2 ** 31 - 1;
const MAX_TIMER_MS = 2 ** 31 - 1; // setTimeout's largest delay

/** What a reassembler does after it throws for a protocol violation. */
export type ViolationPolicy = "fail" | "drop";

/**
 * Limits of a {@link Reassembler}; all optional, all enforced. Ranges are
 * checked when the reassembler is built (`ConfigError` names the option).
 */
export interface ReassemblyOptions {
  /**
   * Largest re-assembled message in bytes, 1 to 2^31−1. Checked before a
   * fragment is appended (a message never exceeds it) and against a declared
   * `totalLen` at once. Default 16 MiB.
   */
  maxMessageSize?: number;
  /**
   * Milliseconds a partial message may take, counted from its first fragment,
   * 1 to 2^31−1. Default 30 000.
   */
  reassemblyTimeoutMs?: number;
  /** Partial messages held at once (multiplexed strategies), 1 to 65 536. Default 16. */
  maxConcurrentMessages?: number;
  /**
   * Per-connection budget for held fragments: the memory they retain plus
   * `fragmentOverhead` each. At least `maxMessageSize`, at most 2^53−1.
   * Default 32 MiB.
   */
  maxBufferedBytes?: number;
  /** Bytes charged per held fragment on top of its data, 1 to 65 536. Default 64. */
  fragmentOverhead?: number;
  /**
   * After a violation: `"fail"` (default) frees every partial message and
   * makes every later call rethrow the error — close the connection;
   * `"drop"` frees only the offending partial message and carries on.
   */
  onViolation?: ViolationPolicy;
}

/** Resolved {@link ReassemblyOptions}: every limit with its value. */
export interface ReassemblyLimits {
  /** Largest re-assembled message in bytes. */
  readonly maxMessageSize: number;
  /** Milliseconds from a message's first fragment to its eviction. */
  readonly reassemblyTimeoutMs: number;
  /** Partial messages held at once. */
  readonly maxConcurrentMessages: number;
  /** Per-connection budget for held fragments. */
  readonly maxBufferedBytes: number;
  /** Bytes charged per held fragment on top of its data. */
  readonly fragmentOverhead: number;
  /** What happens after a violation. */
  readonly onViolation: ViolationPolicy;
}

const reassemblySchema = z.strictObject({
  maxMessageSize: intInRange(1, MAX_MESSAGE_LIMIT).default(DEFAULT_MAX_MESSAGE_SIZE),
  reassemblyTimeoutMs: intInRange(1, MAX_TIMER_MS).default(DEFAULT_REASSEMBLY_TIMEOUT_MS),
  maxConcurrentMessages: intInRange(1, 65_536).default(DEFAULT_MAX_CONCURRENT_MESSAGES),
  maxBufferedBytes: intInRange(1, Number.MAX_SAFE_INTEGER).default(DEFAULT_MAX_BUFFERED_BYTES),
  fragmentOverhead: intInRange(1, 65_536).default(DEFAULT_FRAGMENT_OVERHEAD),
  onViolation: oneOf(["fail", "drop"]).default("fail"),
}).superRefine((o, ctx) => {
  if (o.maxBufferedBytes < o.maxMessageSize) {
    ctx.addIssue({
      code: "custom",
      path: ["maxBufferedBytes"],
      message: `must be at least maxMessageSize (${o.maxMessageSize})`,
    });
  }
});

/** Validate and complete reassembly options; throws `ConfigError`. */
export function resolveReassemblyOptions(
  owner: string,
  options: ReassemblyOptions | undefined,
): ReassemblyLimits {
  return Object.freeze(parseOptions(owner, reassemblySchema, options));
}

/** Options of a {@link Fragmenter}. */
export interface FragmenterOptions {
  /**
   * Largest message `split` accepts, 1 to 2^31−1; a larger one throws
   * `MessageTooLargeError` before any fragment is emitted (a peer with the
   * same limit would reject it). Default 16 MiB.
   */
  maxMessageSize?: number;
}

const fragmenterSchema = z.strictObject({
  maxMessageSize: intInRange(1, MAX_MESSAGE_LIMIT).default(DEFAULT_MAX_MESSAGE_SIZE),
});

/** Validate and complete fragmenter options; throws `ConfigError`. */
export function resolveFragmenterOptions(
  owner: string,
  options: FragmenterOptions | undefined,
): Required<FragmenterOptions> {
  return parseOptions(owner, fragmenterSchema, options);
}
