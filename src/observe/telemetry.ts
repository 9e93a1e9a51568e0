/**
 * Tracing and metrics through `@opentelemetry/api`: what a server creates
 * once (`ServerTelemetry`: the tracer, the meter, the instruments that read
 * the server's {@link Counters}), per connection (`ConnectionTelemetry`: its
 * span and events) and per request (`RequestTrace`). The connection core
 * calls a few narrow methods of these; names and units live in
 * `telemetry_names.ts`.
 *
 * Without an SDK registered (and no provider given) the API is a no-op: the
 * connection span is a non-recording span, no request span or clock read is
 * made, and every event method returns after one boolean test.
 *
 * @module
 */
import {
  type Attributes,
  type Context,
  context,
  createNoopMeter,
  type Histogram,
  type Meter,
  type MeterProvider,
  metrics,
  type ObservableResult,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
  type Tracer,
  type TracerProvider,
} from "@opentelemetry/api";
import { IdTable } from "../_internal/id_table.ts";
import type { CounterName, Counters } from "./stats.ts";
import {
  ATTR,
  CLOSE_REASONS,
  type CloseReason,
  EVENT,
  INSTRUMENTATION_SCOPE,
  METRIC,
  METRIC_UNIT,
  type RequestOutcome,
  SPAN,
} from "./telemetry_names.ts";

/** An OpenTelemetry span (`@opentelemetry/api`'s `Span`), as `ctx.span` gives it. */
export type OtelSpan = Span;
/** An OpenTelemetry tracer provider (`@opentelemetry/api`'s `TracerProvider`). */
export type OtelTracerProvider = TracerProvider;
/** An OpenTelemetry meter provider (`@opentelemetry/api`'s `MeterProvider`). */
export type OtelMeterProvider = MeterProvider;

/**
 * Where a server's spans and metrics go. Without these, the providers
 * registered globally with `@opentelemetry/api` (by an SDK, or by Deno's
 * `OTEL_DENO=true`) at `listen()`; without those, nowhere, at no cost.
 */
export interface TelemetryOptions {
  /** The tracer provider (default: the global one, `trace.getTracerProvider()`). */
  readonly tracerProvider?: OtelTracerProvider | undefined;
  /** The meter provider (default: the global one, `metrics.getMeterProvider()`). */
  readonly meterProvider?: OtelMeterProvider | undefined;
}

/** An address as transports report it. */
interface Address {
  readonly transport: string;
  readonly hostname: string;
  readonly port: number;
}

/** What a connection span starts with. */
export interface ConnectionTraceInit {
  /** The server-allocated connection id. */
  readonly connectionId: number;
  /** The peer's address. */
  readonly remoteAddr: Address;
  /** Our end's address. */
  readonly localAddr: Address;
}

/** What the push queues of one connection report (the connection's telemetry implements it). */
export interface PushTelemetry {
  /** A push was queued. */
  pushQueued(): void;
  /** A push was dropped because its queue was full (a drop policy, or `tryPush` refused). */
  pushDropped(priority: string): void;
  /** A push was refused by the rate limit. */
  pushRateLimited(priority: string): void;
  /** A push went to the dead-letter queue. */
  pushDeadLettered(priority: string, reason: "full" | "connection-closed"): void;
}

/** What a live connection reports at each metrics collection. */
export interface Gauges {
  /** High-priority pushes queued. */
  readonly high: number;
  /** Low-priority pushes queued. */
  readonly low: number;
  /** Bytes re-assembly holds for incomplete messages. */
  readonly reassemblyBytes: number;
}

/** Pushes by outcome, the server's own (not in `ServerStats`'s older fields). */
const PUSH_OUTCOMES = ["queued", "dropped", "rate-limited"] as const;

/** Faults (as `classifyFault` names them) to the close reason they mean. */
const FAULT_REASON: Readonly<Record<string, CloseReason>> = Object.freeze({
  transport: "reset",
  protocol: "protocol-violation",
  preamble: "preamble-failed",
  timeout: "timeout",
  "slow-consumer": "slow-consumer",
  internal: "internal-error",
  hook: "internal-error",
});

/** Error counters read by `wireframe.server.errors`, by `error.type`. */
const ERROR_COUNTERS: readonly CounterName[] = [
  "connectionErrors",
  "protocolViolations",
  "handlerErrors",
  "preambleFailures",
  "timeouts",
  "slowConsumers",
];

/**
 * One server's tracer, meter and instruments. The counting instruments are
 * observable: at each collection they read the server's {@link Counters},
 * the numbers `server.stats()` returns, so the two never disagree and the
 * hot path pays for neither.
 */
export class ServerTelemetry {
  /** The tracer of connection and request spans. */
  readonly tracer: Tracer;
  /** True when a real meter is behind the API: durations are measured. */
  readonly metricsLive: boolean;
  readonly #counters: Counters;
  readonly #requestDuration: Histogram | undefined;
  readonly #connectionDuration: Histogram | undefined;
  // Both churn with the connections: IdTable, not Map or Set, so a replaced
  // hash table cannot keep closed connections alive (see id_table.ts).
  /** Live connections' push queue depths, by connection id (only while metrics are live). */
  readonly #depths = new IdTable<() => Gauges>();
  /** Live connections by id, for log records (only while tracing records). */
  readonly #byId = new IdTable<ConnectionTelemetry>();

  /**
   * @param counters the server's counters, which the metrics read
   * @param options providers (default: the global ones)
   */
  constructor(counters: Counters, options: TelemetryOptions = {}) {
    this.#counters = counters;
    const tracerProvider = options.tracerProvider ?? trace.getTracerProvider();
    this.tracer = tracerProvider.getTracer(INSTRUMENTATION_SCOPE);
    const meter = (options.meterProvider ?? metrics.getMeterProvider()).getMeter(
      INSTRUMENTATION_SCOPE,
    );
    this.metricsLive = meter !== createNoopMeter();
    if (!this.metricsLive) return;
    this.#requestDuration = meter.createHistogram(METRIC.requestDuration, {
      unit: METRIC_UNIT.requestDuration,
      description: "Duration of requests, from dispatch through onCommandEnd",
    });
    this.#connectionDuration = meter.createHistogram(METRIC.connectionDuration, {
      unit: METRIC_UNIT.connectionDuration,
      description: "Duration of connections, from accept to teardown",
    });
    this.#observe(meter);
  }

  /** The span, events and request traces of one new connection. */
  connection(init: ConnectionTraceInit): ConnectionTelemetry {
    return new ConnectionTelemetry(this, init);
  }

  /** The connection whose log records should carry its trace, if it is traced and alive. */
  connectionById(connectionId: number): ConnectionTelemetry | undefined {
    return this.#byId.get(connectionId);
  }

  /** @internal a connection started: track what its metrics and logs need. */
  opened(
    connection: ConnectionTelemetry,
    depth: (() => Gauges) | undefined,
  ) {
    if (connection.recording) this.#byId.set(connection.connectionId, connection);
    if (this.metricsLive && depth) this.#depths.set(connection.connectionId, depth);
  }

  /** @internal a connection ended. */
  closed(
    connection: ConnectionTelemetry,
    reason: CloseReason,
    depth: (() => Gauges) | undefined,
    startedAt: number,
  ): void {
    this.#counters.connectionsClosed++;
    this.#counters.closeReasons[reason]++;
    this.#byId.delete(connection.connectionId);
    if (depth) this.#depths.delete(connection.connectionId);
    this.#connectionDuration?.record((performance.now() - startedAt) / 1000, {
      [ATTR.closeReason]: reason,
    });
  }

  /** @internal a request ended. */
  requestEnded(id: number, outcome: RequestOutcome, startedAt: number): void {
    this.#requestDuration?.record((performance.now() - startedAt) / 1000, {
      [ATTR.messageId]: id,
      [ATTR.requestOutcome]: outcome,
    });
  }

  /** @internal count a frame rejected as too large. */
  countTooLarge(): void {
    this.#counters.framesTooLarge++;
  }

  /** @internal count a push offered to the dead-letter queue. */
  countDeadLetter(reason: "full" | "connection-closed"): void {
    this.#counters.deadLetters[reason]++;
  }

  /** @internal count a push outcome. */
  countPush(outcome: (typeof PUSH_OUTCOMES)[number]): void {
    this.#counters.pushes[outcome]++;
  }

  #observe(meter: Meter): void {
    const c = this.#counters;
    const counter = (
      key: keyof typeof METRIC,
      description: string,
      read: (result: ObservableResult) => void,
      kind: "counter" | "updown" = "counter",
    ) => {
      const options = { unit: METRIC_UNIT[key], description };
      const instrument = kind === "counter"
        ? meter.createObservableCounter(METRIC[key], options)
        : meter.createObservableUpDownCounter(METRIC[key], options);
      instrument.addCallback(read);
    };
    counter("connectionsOpened", "Connections accepted", (r) => r.observe(c.connectionsAccepted));
    counter("connectionsClosed", "Connections closed, by reason", (r) => {
      for (const reason of CLOSE_REASONS) {
        r.observe(c.closeReasons[reason], { [ATTR.closeReason]: reason });
      }
    });
    counter(
      "connectionsRejected",
      "Connections closed at accept (maxConnections)",
      (r) => r.observe(c.connectionsRejected),
    );
    counter(
      "connectionsActive",
      "Connections being served",
      (r) => r.observe(c.connectionsActive),
      "updown",
    );
    counter("requests", "Requests dispatched", (r) => r.observe(c.requests));
    counter("unroutedFrames", "Frames with no route", (r) => r.observe(c.unroutedFrames));
    counter("bytesReceived", "Bytes read from peers", (r) => r.observe(c.bytesReceived));
    counter("bytesSent", "Bytes written to peers", (r) => r.observe(c.bytesSent));
    counter("framesReceived", "Frames decoded", (r) => r.observe(c.framesReceived));
    counter("framesSent", "Frames written", (r) => r.observe(c.framesSent));
    counter("framesRejected", "Frames rejected, by reason", (r) => {
      r.observe(c.framesTooLarge, { [ATTR.rejectReason]: "too-large" });
      r.observe(c.malformedFrames, { [ATTR.rejectReason]: "malformed" });
    });
    counter("pushes", "Pushes, by outcome", (r) => {
      for (const outcome of PUSH_OUTCOMES) {
        r.observe(c.pushes[outcome], { [ATTR.pushOutcome]: outcome });
      }
    });
    counter("deadLetters", "Pushes sent to the dead-letter queue", (r) => {
      r.observe(c.deadLetters.full, { [ATTR.deadLetterReason]: "full" });
      r.observe(c.deadLetters["connection-closed"], {
        [ATTR.deadLetterReason]: "connection-closed",
      });
    });
    counter("pushQueueDepth", "Pushes queued, by priority", (r) => {
      let high = 0;
      let low = 0;
      for (const depth of this.#depths.values()) {
        const d = depth();
        high += d.high;
        low += d.low;
      }
      r.observe(high, { [ATTR.pushPriority]: "high" });
      r.observe(low, { [ATTR.pushPriority]: "low" });
    }, "updown");
    counter("reassemblyBytes", "Bytes held by re-assembly for incomplete messages", (r) => {
      let bytes = 0;
      for (const gauges of this.#depths.values()) bytes += gauges().reassemblyBytes;
      r.observe(bytes);
    }, "updown");
    counter("errors", "Faults, by kind (the ServerStats counter name)", (r) => {
      for (const key of ERROR_COUNTERS) r.observe(c[key], { [ATTR.errorType]: key });
    });
  }
}

const NOOP_DEPTH = undefined;

/**
 * One connection's span (kind SERVER, parent of its requests' spans), its
 * events, and why it ended. Every method is cheap when nothing records: the
 * span is non-recording and events return at once.
 */
export class ConnectionTelemetry implements PushTelemetry {
  /** The connection span. */
  readonly span: Span;
  /** True if the span records (an SDK sampled it): events and request spans are made. */
  readonly recording: boolean;
  /** The connection's id. */
  readonly connectionId: number;
  readonly #server: ServerTelemetry;
  readonly #context: Context;
  readonly #startedAt: number;
  #depth: (() => Gauges) | undefined = NOOP_DEPTH;
  #request: RequestTrace | undefined;
  #reason: CloseReason | undefined;
  #ended = false;

  constructor(server: ServerTelemetry, init: ConnectionTraceInit) {
    this.#server = server;
    this.connectionId = init.connectionId;
    const { remoteAddr, localAddr } = init;
    this.span = server.tracer.startSpan(SPAN.connection, {
      kind: SpanKind.SERVER,
      attributes: {
        [ATTR.connectionId]: init.connectionId,
        [ATTR.networkTransport]: remoteAddr.transport === "memory" ? "inproc" : "tcp",
        [ATTR.networkPeerAddress]: remoteAddr.hostname,
        [ATTR.networkPeerPort]: remoteAddr.port,
        [ATTR.networkLocalAddress]: localAddr.hostname,
        [ATTR.networkLocalPort]: localAddr.port,
        [ATTR.serverAddress]: localAddr.hostname,
        [ATTR.serverPort]: localAddr.port,
      },
    }, context.active());
    this.recording = this.span.isRecording();
    // A context holding the span, for request spans: only if any will be made.
    this.#context = this.recording ? trace.setSpan(context.active(), this.span) : ROOT_CONTEXT;
    this.#startedAt = server.metricsLive ? performance.now() : 0;
  }

  /**
   * Start tracking the connection's push queue depth (for
   * `wireframe.server.push.queue.depth`); call once, when its queues exist.
   * `undefined` while metrics are not collected (see `ServerTelemetry.metricsLive`):
   * the connection is still tracked for its log records.
   */
  track(depth: (() => Gauges) | undefined): void {
    this.#depth = depth;
    this.#server.opened(this, depth);
  }

  /** The span a handler's child spans belong under: the request's, else the connection's. */
  get currentSpan(): Span {
    return this.#request?.span ?? this.span;
  }

  /** Record `name` on the current span (a request's, else the connection's), if it records. */
  event(name: string, attributes?: Attributes): void {
    if (this.recording) this.currentSpan.addEvent(name, attributes);
  }

  /** The preamble was read and accepted, or failed. */
  preamble(outcome: "accepted" | "failed"): void {
    if (!this.recording) return;
    this.span.setAttribute(ATTR.preambleOutcome, outcome);
    this.span.addEvent(EVENT.preamble, { [ATTR.preambleOutcome]: outcome });
  }

  /**
   * The connection is closing for `reason` (a shutdown, the app's
   * `ctx.close()`). A fault reported later wins; a forced shutdown overrides a
   * drain.
   */
  closing(reason: CloseReason): void {
    const current = this.#reason;
    if (
      current === undefined ||
      (reason === "shutdown-forced" &&
        (current === "shutdown-drained" || current === "closed-by-app"))
    ) this.#reason = reason;
  }

  /**
   * The connection failed: `fault` as `classifyFault` names it. The first
   * fault is the close reason (a shutdown in progress is not a fault).
   */
  failed(fault: string, error: unknown): void {
    const reason = FAULT_REASON[fault] ?? "internal-error";
    if (
      this.#reason === undefined || this.#reason.startsWith("shutdown") ||
      this.#reason === "closed-by-app"
    ) {
      this.#reason = reason;
    }
    const tooLarge = reason === "protocol-violation" && isTooLarge(error);
    if (tooLarge) this.#server.countTooLarge();
    if (!this.recording) return;
    const code = (error as { code?: unknown } | null)?.code;
    if (code !== undefined) this.span.setAttribute(ATTR.errorCode, String(code));
    if (tooLarge) this.span.addEvent(EVENT.frameRejected, { [ATTR.rejectReason]: "too-large" });
    if (error === undefined) return; // a failed preamble: its outcome says it
    this.span.setAttribute(ATTR.errorType, errorName(error));
    this.span.recordException(error instanceof Error ? error : String(error));
  }

  /** End the span with the close reason (peer-closed if nothing else was reported). */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    const reason = this.#reason ?? "peer-closed";
    this.#server.closed(this, reason, this.#depth, this.#startedAt);
    if (!this.recording) return this.span.end();
    this.span.setAttribute(ATTR.closeReason, reason);
    const fault = reason !== "peer-closed" && !reason.startsWith("shutdown") &&
      reason !== "closed-by-app";
    if (fault) this.span.setStatus({ code: SpanStatusCode.ERROR, message: reason });
    this.span.end();
  }

  /**
   * A request was dispatched: its trace (a child span of the connection's
   * when it records; its start time when metrics are live), or undefined when
   * neither: then nothing is measured.
   */
  requestStarted(id: number, correlationId: bigint | undefined): RequestTrace | undefined {
    if (!this.recording && !this.#server.metricsLive) return undefined;
    let span: Span | undefined;
    if (this.recording) {
      const attributes: Attributes = { [ATTR.messageId]: id };
      if (correlationId !== undefined) attributes[ATTR.correlationId] = String(correlationId);
      span = this.#server.tracer.startSpan(
        SPAN.request,
        { kind: SpanKind.SERVER, attributes },
        this.#context,
      );
    }
    const request = new RequestTrace(this, id, span);
    this.#request = request;
    return request;
  }

  /** Run `fn` with `request`'s span as the active context (for handlers' child spans). */
  within<T>(request: RequestTrace | undefined, fn: () => T): T {
    const span = request?.span;
    if (span === undefined) return fn();
    return context.with(trace.setSpan(this.#context, span), fn);
  }

  /** @internal a request trace ended. */
  requestEnded(request: RequestTrace, outcome: RequestOutcome): void {
    if (this.#request === request) this.#request = undefined;
    this.#server.requestEnded(request.id, outcome, request.startedAt);
  }

  // --- the push queues' reports ---

  pushQueued(): void {
    this.#server.countPush("queued");
  }

  pushDropped(priority: string): void {
    this.#server.countPush("dropped");
    this.event(EVENT.pushDropped, { [ATTR.pushPriority]: priority });
  }

  pushRateLimited(priority: string): void {
    this.#server.countPush("rate-limited");
    this.event(EVENT.pushRateLimited, { [ATTR.pushPriority]: priority });
  }

  pushDeadLettered(priority: string, reason: "full" | "connection-closed"): void {
    this.#server.countDeadLetter(reason);
    this.event(EVENT.pushDeadLettered, {
      [ATTR.pushPriority]: priority,
      [ATTR.deadLetterReason]: reason,
    });
  }

  /** The request in flight began a conversation (`ctx.receive`). */
  conversationStarted(): void {
    if (!this.recording) return;
    this.#request?.conversing();
    this.event(EVENT.conversationStarted);
  }

  /** The command that conversed ended (its request span, if still open, records it at its end). */
  conversationEnded(): void {
    if (this.recording && this.#request === undefined) return; // recorded by the request's end
    this.event(EVENT.conversationEnded);
  }

  // --- re-assembly's reports (a ReassemblyWatcher; only set while the span records) ---

  /** A fragmented message began. */
  started(msgId: number): void {
    this.event(EVENT.reassemblyStarted, { [ATTR.fragmentMessageId]: msgId });
  }

  /** A fragmented message completed. */
  completed(msgId: number, bytes: number): void {
    this.event(EVENT.reassemblyCompleted, {
      [ATTR.fragmentMessageId]: msgId,
      [ATTR.messageBytes]: bytes,
    });
  }

  /** A partial message timed out. */
  evicted(msgId: number): void {
    this.event(EVENT.reassemblyEvicted, { [ATTR.fragmentMessageId]: msgId });
  }

  /** The outbound bytes crossed a water mark (`above`: the high one, else back to the low one). */
  backPressure(above: boolean, bytes: number): void {
    if (!this.recording) return;
    this.span.addEvent(above ? EVENT.backPressureApplied : EVENT.backPressureReleased, {
      [ATTR.outboundBytes]: bytes,
    });
  }
}

/**
 * One request: its span (when its connection's records), its start time
 * (when metrics are live), and what its response was.
 */
export class RequestTrace {
  /** The request span, if its connection's span records. */
  readonly span: Span | undefined;
  /** The request's message id. */
  readonly id: number;
  /** `performance.now()` at dispatch. */
  readonly startedAt: number;
  readonly #connection: ConnectionTelemetry;
  #outcome: RequestOutcome = "ok";
  #kind: string | undefined;
  #frames = 0;
  #bytes = 0;
  #conversing = false;
  #ended = false;

  constructor(connection: ConnectionTelemetry, id: number, span: Span | undefined) {
    this.#connection = connection;
    this.id = id;
    this.span = span;
    this.startedAt = performance.now();
  }

  /** The handler's response had this shape (`Response.kind`: single, vec, stream, empty). */
  response(kind: string): void {
    this.#kind = kind;
  }

  /** One response frame of `payloadBytes` was queued. */
  frame(payloadBytes: number): void {
    this.#frames++;
    this.#bytes += payloadBytes;
  }

  /** The request failed with `error` (the first outcome other than ok wins). */
  fail(error: unknown, outcome: RequestOutcome = "error"): void {
    if (this.#outcome === "ok") this.#outcome = outcome;
    if (this.span === undefined) return;
    this.span.recordException(error instanceof Error ? error : String(error));
    this.span.setAttribute(ATTR.errorType, errorName(error));
  }

  /** No route and no fallback took the frame: end the trace (outcome `unrouted`). */
  unrouted(): void {
    this.#outcome = "unrouted";
    this.end();
  }

  /** The request was abandoned because the connection went away. */
  cancel(): void {
    if (this.#outcome === "ok") this.#outcome = "cancelled";
  }

  /** The request's handler began a conversation. */
  conversing(): void {
    this.#conversing = true;
  }

  /** `onCommandEnd` ran (records an event on the span). */
  commandEnd(): void {
    if (this.#conversing) {
      this.#conversing = false;
      this.span?.addEvent(EVENT.conversationEnded);
    }
    this.span?.addEvent(EVENT.commandEnd);
  }

  /** End the span and record the duration. Idempotent. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#connection.requestEnded(this, this.#outcome);
    const span = this.span;
    if (span === undefined) return;
    span.setAttributes({
      [ATTR.requestOutcome]: this.#outcome,
      [ATTR.responseFrames]: this.#frames,
      [ATTR.responseBytes]: this.#bytes,
    });
    if (this.#kind !== undefined) span.setAttribute(ATTR.responseKind, this.#kind);
    if (this.#outcome === "error" || this.#outcome === "refused") {
      span.setStatus({ code: SpanStatusCode.ERROR, message: this.#outcome });
    }
    span.end();
  }
}

/**
 * A client's tracing: a CLIENT span per `request()` (message and correlation
 * id, the server's address), ended when the response arrives or the request
 * fails. Nothing is made unless the tracer records.
 */
export class ClientTelemetry {
  readonly #tracer: Tracer;
  readonly #peer: Attributes;

  /**
   * @param server the server's address
   * @param options the tracer provider (default: the global one)
   */
  constructor(server: Address, options: TelemetryOptions = {}) {
    this.#tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer(
      INSTRUMENTATION_SCOPE,
    );
    this.#peer = {
      [ATTR.serverAddress]: server.hostname,
      [ATTR.serverPort]: server.port,
      [ATTR.networkTransport]: server.transport === "memory" ? "inproc" : "tcp",
    };
  }

  /** The span of one request, under the active context; undefined if it does not record. */
  request(id: number, correlationId: bigint): Span | undefined {
    const span = this.#tracer.startSpan(SPAN.clientRequest, {
      kind: SpanKind.CLIENT,
      attributes: {
        ...this.#peer,
        [ATTR.messageId]: id,
        [ATTR.correlationId]: String(correlationId),
      },
    }, context.active());
    return span.isRecording() ? span : undefined;
  }

  /** End a request's span: answered, or failed with `error`. */
  static end(span: Span, error?: unknown): void {
    if (error !== undefined) {
      span.recordException(error instanceof Error ? error : String(error));
      span.setAttribute(ATTR.errorType, errorName(error));
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end();
  }
}

function errorName(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === "string" ? code : error.name;
  }
  return typeof error;
}

function isTooLarge(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === "ERR_FRAME_TOO_LARGE";
}
