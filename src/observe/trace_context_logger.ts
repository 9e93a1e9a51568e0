/**
 * `TraceContextLogger`: log records that carry the ids of the span they
 * belong to, so a log line and its trace can be joined.
 *
 * @module
 */
import { isSpanContextValid, trace } from "@opentelemetry/api";
import type { LogFields, Logger } from "./logger.ts";
import type { OtelSpan } from "./telemetry.ts";

/**
 * Finds the span a record without an active span belongs to: the one of the
 * connection named by the record's `connectionId` field, if it is traced.
 */
export type SpanLookup = (connectionId: number) => OtelSpan | undefined;

/**
 * Wraps a logger so that every record made while a span records gets its
 * ids as fields, named as the OpenTelemetry log data model names them:
 * `trace_id`, `span_id` and `trace_flags`. The span is the active one
 * (`trace.getActiveSpan()`), else the current span of the connection named
 * by the record's `connectionId` (through `lookup`): its request's span
 * while a request runs, else the connection's. Records with no such span are
 * passed on untouched.
 *
 * A server wraps its app's logger in one of these; it costs a lookup per
 * record, and nothing when nothing is logged.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type LogFields, type Logger, TraceContextLogger } from "@wireframe/wireframe";
 * import { trace } from "@opentelemetry/api";
 *
 * const records: (LogFields | undefined)[] = [];
 * const sink: Logger = {
 *   debug: () => {},
 *   info: () => {},
 *   warn: (_message, fields) => void records.push(fields),
 *   error: () => {},
 * };
 * const span = trace.wrapSpanContext({
 *   traceId: "0af7651916cd43dd8448eb211c80319c",
 *   spanId: "b7ad6b7169203331",
 *   traceFlags: 1,
 * });
 * const logger = new TraceContextLogger(sink, (id) => id === 7 ? span : undefined);
 * logger.warn("push queue full: frame dropped", { connectionId: 7 });
 * logger.warn("push queue full: frame dropped", { connectionId: 8 });
 * assert.deepEqual(records, [
 *   {
 *     connectionId: 7,
 *     trace_id: "0af7651916cd43dd8448eb211c80319c",
 *     span_id: "b7ad6b7169203331",
 *     trace_flags: "01",
 *   },
 *   { connectionId: 8 },
 * ]);
 * ```
 */
export class TraceContextLogger implements Logger {
  readonly #inner: Logger;
  readonly #lookup: SpanLookup;

  /**
   * Wrap `inner`.
   *
   * @param inner where records go
   * @param lookup the span of a connection, by id (default: none)
   */
  constructor(inner: Logger, lookup: SpanLookup = () => undefined) {
    this.#inner = inner;
    this.#lookup = lookup;
  }

  /** Passed on, with the span's ids. */
  debug(message: string, fields?: LogFields): void {
    this.#inner.debug(message, this.#withIds(fields));
  }

  /** Passed on, with the span's ids. */
  info(message: string, fields?: LogFields): void {
    this.#inner.info(message, this.#withIds(fields));
  }

  /** Passed on, with the span's ids. */
  warn(message: string, fields?: LogFields): void {
    this.#inner.warn(message, this.#withIds(fields));
  }

  /** Passed on, with the span's ids. */
  error(message: string, fields?: LogFields): void {
    this.#inner.error(message, this.#withIds(fields));
  }

  #withIds(fields: LogFields | undefined): LogFields | undefined {
    let span = trace.getActiveSpan();
    if (span === undefined || !span.isRecording()) {
      const id = fields?.connectionId;
      span = typeof id === "number" ? this.#lookup(id) : undefined;
    }
    if (span === undefined) return fields;
    const spanContext = span.spanContext();
    if (!isSpanContextValid(spanContext)) return fields;
    return {
      ...fields,
      trace_id: spanContext.traceId,
      span_id: spanContext.spanId,
      trace_flags: spanContext.traceFlags.toString(16).padStart(2, "0"),
    };
  }
}
