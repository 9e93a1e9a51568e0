/**
 * The options of `WireframeApp`'s builder methods, and their validation.
 *
 * @module
 */
import { z } from "zod";
import { intInRange, numberInRange, oneOf } from "../_internal/options.ts";
import type { LogLevel } from "../observe/logger.ts";
import { DEFAULT_THROTTLE_MS } from "../observe/throttled_logger.ts";
import {
  DEFAULT_DRAIN_TIMEOUT_MS,
  DEFAULT_OUTBOUND_HIGH_WATER_MARK,
} from "../_internal/water_marks.ts";
import type { ConnectionInfo } from "./context.ts";

/** What to do with a frame body that is not a valid envelope. */
export interface MalformedFrameOptions {
  /** `"close"` (default) ends the connection; `"drop"` discards the frame. */
  policy?: "close" | "drop";
  /** With `"drop"`: close after this many malformed frames in a row (default 8). */
  maxConsecutive?: number;
}

/** Per-connection push queues and the fairness of the outbound actor. */
export interface PushQueueOptions {
  /** Capacity of the high-priority queue (default 128). */
  highCapacity?: number;
  /** Capacity of the low-priority queue (default 128). */
  lowCapacity?: number;
  /** Consecutive high frames after which one waiting low frame goes (default 8; 0 = strict). */
  maxHighBeforeLow?: number;
  /** Also yield to a waiting low frame after this many ms of consecutive high frames (default off). */
  timeSliceMs?: number;
}

/**
 * The slow-consumer guard: how many outbound bytes one connection may hold
 * for its peer, and how long its peer may take none of them.
 *
 * The bytes counted are the payloads of the pushes queued plus the framed
 * bytes the connection's writer holds (queued and in flight). From the
 * moment they reach `highWaterMark` until they fall back to `lowWaterMark`,
 * `tryPush` returns `"full"`, the drop policies dead-letter, and `push()`
 * waits; one frame may take the count past the high mark. A connection whose
 * peer takes no bytes for `drainTimeoutMs` while output is pending is closed
 * with a `DrainTimeoutError` (counted in `ServerStats.slowConsumers`); its
 * waiting `push()` calls then reject with `PushError("closed")`.
 */
export interface OutboundOptions {
  /** Outbound bytes at which pushes are refused or wait (default 262 144, 256 KiB). */
  highWaterMark?: number;
  /** Outbound bytes to drain back to before they flow again (default: a quarter of `highWaterMark`). */
  lowWaterMark?: number;
  /** Close a connection whose peer took no bytes for this many ms while output was pending (default 30 000; 0 = never). */
  drainTimeoutMs?: number;
}

/** A per-connection token bucket shared by both push priorities. */
export interface RateLimitOptions {
  /** Tokens added per second. */
  perSecond: number;
  /** Bucket size: pushes allowed at once (default: `perSecond`, at least 1). */
  burst?: number;
}

/** How `app.logger()` treats the logger it is given. */
export interface LoggerOptions {
  /**
   * Pass each warning or error message on at most once per this many ms,
   * with a count of the ones held back (default 10 000; 0 = every record).
   * See `ThrottledLogger`. Debug and info records are never throttled.
   */
  throttleMs?: number;
  /**
   * The least severe level passed on (`"debug"`, `"info"`, `"warn"` or
   * `"error"`; default: every record, the logger's own level decides). See
   * `withLevel`.
   */
  level?: LogLevel;
}

/** Runs once per connection before any request; its result is `ctx.state`. */
export type SetupHook<S> = (info: ConnectionInfo) => S | Promise<S>;

/** Runs exactly once for every connection whose setup completed. */
export type TeardownHook<S> = (state: S, info: ConnectionInfo) => void | Promise<void>;

/** Validation of `malformedFrames()` options. */
export const malformedSchema = z.strictObject({
  policy: oneOf(["close", "drop"]).default("close"),
  maxConsecutive: intInRange(1, 1_000_000).default(8),
});

/** Validation of `logger()` options. */
export const loggerSchema = z.strictObject({
  throttleMs: intInRange(0, 3_600_000).default(DEFAULT_THROTTLE_MS),
  level: oneOf(["debug", "info", "warn", "error"]).optional(),
});

/** Validation of `withPreamble()` limits. */
export const preambleLimitsSchema = z.object({
  timeoutMs: intInRange(1, 3_600_000).default(5_000),
  maxBytes: intInRange(1, 16 * 1024 * 1024).default(4_096),
});

/** Validation of `pushQueues()` options. */
export const pushQueuesSchema = z.strictObject({
  highCapacity: intInRange(1, 1_000_000).default(128),
  lowCapacity: intInRange(1, 1_000_000).default(128),
  maxHighBeforeLow: intInRange(0, 1_000_000).default(8),
  timeSliceMs: intInRange(1, 3_600_000).optional(),
});

/** Validation of `outbound()` options; the low mark defaults to a quarter of the high one. */
export const outboundSchema = z.strictObject({
  highWaterMark: intInRange(1, 0x7fff_ffff).default(DEFAULT_OUTBOUND_HIGH_WATER_MARK),
  lowWaterMark: intInRange(0, 0x7fff_ffff).optional(),
  drainTimeoutMs: intInRange(0, 3_600_000).default(DEFAULT_DRAIN_TIMEOUT_MS),
}).refine((o) => o.lowWaterMark === undefined || o.lowWaterMark <= o.highWaterMark, {
  path: ["lowWaterMark"],
  error: "must be at most highWaterMark",
}).transform((o) => ({
  highWaterMark: o.highWaterMark,
  lowWaterMark: o.lowWaterMark ?? Math.floor(o.highWaterMark / 4),
  drainTimeoutMs: o.drainTimeoutMs,
}));

/** Validation of `rateLimit()` options. */
export const rateLimitSchema = z.strictObject({
  perSecond: numberInRange(0.001, 1_000_000_000),
  burst: intInRange(1, 1_000_000_000).optional(),
});
