/**
 * The names Wireframe's spans, span events, metrics and attributes go by, in
 * one place: the reference of `docs/guides/observability.md`, and what tests
 * and dashboards match on. Network attributes follow the OpenTelemetry
 * semantic conventions (`network.peer.address`, `server.address`, …); what
 * is Wireframe's own is under `wireframe.`.
 *
 * @module
 */

/** The instrumentation scope of the tracer and the meter. */
export const INSTRUMENTATION_SCOPE = "@wireframe/wireframe";

/** The keys of {@link SPAN}. */
export type SpanKey =
  | "connection"
  | "request"
  | "clientRequest";

/** Span names. */
export const SPAN: Readonly<Record<SpanKey, string>> = Object.freeze({
  /** A server connection, from accept to teardown (kind SERVER). */
  connection: "wireframe.connection",
  /** One request on a server connection, through `onCommandEnd` (kind SERVER). */
  request: "wireframe.request",
  /** A client's `request()` (kind CLIENT). */
  clientRequest: "wireframe.client.request",
});

/** The keys of {@link EVENT}. */
export type EventKey =
  | "backPressureApplied"
  | "backPressureReleased"
  | "pushDropped"
  | "pushDeadLettered"
  | "pushRateLimited"
  | "frameRejected"
  | "phaseChanged"
  | "timeoutFired"
  | "preamble"
  | "conversationStarted"
  | "conversationEnded"
  | "reassemblyStarted"
  | "reassemblyCompleted"
  | "reassemblyEvicted"
  | "commandEnd";

/** Names of the events recorded on the connection and request spans. */
export const EVENT: Readonly<Record<EventKey, string>> = Object.freeze({
  /** Outbound bytes reached the high water mark: pushes are refused or wait. */
  backPressureApplied: "wireframe.backpressure.applied",
  /** Outbound bytes fell back to the low water mark. */
  backPressureReleased: "wireframe.backpressure.released",
  /** A push was refused or dropped because its queue (or the outbound bound) was full. */
  pushDropped: "wireframe.push.dropped",
  /** A push went to the dead-letter queue. */
  pushDeadLettered: "wireframe.push.dead_lettered",
  /** A push was refused by the connection's rate limit. */
  pushRateLimited: "wireframe.push.rate_limited",
  /** A frame was rejected: too large for the codec, or not a valid envelope. */
  frameRejected: "wireframe.frame.rejected",
  /** The connection's phase changed (`ctx.enterPhase`). */
  phaseChanged: "wireframe.phase.changed",
  /** A handshake, idle or slow-frame timeout fired. */
  timeoutFired: "wireframe.timeout.fired",
  /** The preamble was read (outcome in `wireframe.preamble.outcome`). */
  preamble: "wireframe.preamble",
  /** A handler began receiving its connection's next frames (`ctx.receive`). */
  conversationStarted: "wireframe.conversation.started",
  /** The command that held a conversation ended. */
  conversationEnded: "wireframe.conversation.ended",
  /** A fragmented message's first fragment arrived; re-assembly holds it. */
  reassemblyStarted: "wireframe.reassembly.started",
  /** A fragmented message is complete. */
  reassemblyCompleted: "wireframe.reassembly.completed",
  /** A partial message was dropped: its re-assembly timed out. */
  reassemblyEvicted: "wireframe.reassembly.evicted",
  /** The protocol's `onCommandEnd` ran (on the request span). */
  commandEnd: "wireframe.command.end",
});

/** The keys of {@link ATTR}. */
export type AttrKey =
  | "networkPeerAddress"
  | "networkPeerPort"
  | "networkLocalAddress"
  | "networkLocalPort"
  | "networkTransport"
  | "serverAddress"
  | "serverPort"
  | "errorType"
  | "connectionId"
  | "closeReason"
  | "errorCode"
  | "preambleOutcome"
  | "messageId"
  | "correlationId"
  | "responseKind"
  | "responseFrames"
  | "responseBytes"
  | "requestOutcome"
  | "pushPriority"
  | "pushOutcome"
  | "deadLetterReason"
  | "rejectReason"
  | "phase"
  | "timeoutReason"
  | "timeoutMs"
  | "outboundBytes"
  | "fragmentMessageId"
  | "messageBytes";

/** Attribute names. */
export const ATTR: Readonly<Record<AttrKey, string>> = Object.freeze({
  // OpenTelemetry semantic conventions (network, server, error).
  networkPeerAddress: "network.peer.address",
  networkPeerPort: "network.peer.port",
  networkLocalAddress: "network.local.address",
  networkLocalPort: "network.local.port",
  networkTransport: "network.transport",
  serverAddress: "server.address",
  serverPort: "server.port",
  errorType: "error.type",
  // Wireframe's own.
  connectionId: "wireframe.connection.id",
  closeReason: "wireframe.close.reason",
  errorCode: "wireframe.error.code",
  preambleOutcome: "wireframe.preamble.outcome",
  messageId: "wireframe.message.id",
  correlationId: "wireframe.correlation.id",
  responseKind: "wireframe.response.kind",
  responseFrames: "wireframe.response.frames",
  responseBytes: "wireframe.response.payload_bytes",
  requestOutcome: "wireframe.request.outcome",
  pushPriority: "wireframe.push.priority",
  pushOutcome: "wireframe.push.outcome",
  deadLetterReason: "wireframe.dead_letter.reason",
  rejectReason: "wireframe.frame.reject_reason",
  phase: "wireframe.phase",
  timeoutReason: "wireframe.timeout.reason",
  timeoutMs: "wireframe.timeout.ms",
  outboundBytes: "wireframe.outbound.bytes",
  fragmentMessageId: "wireframe.fragment.message_id",
  messageBytes: "wireframe.message.bytes",
});

/** The keys of {@link METRIC}. */
export type MetricKey =
  | "connectionsOpened"
  | "connectionsClosed"
  | "connectionsRejected"
  | "connectionsActive"
  | "connectionDuration"
  | "requests"
  | "requestDuration"
  | "unroutedFrames"
  | "bytesReceived"
  | "bytesSent"
  | "framesReceived"
  | "framesSent"
  | "framesRejected"
  | "pushes"
  | "pushQueueDepth"
  | "reassemblyBytes"
  | "deadLetters"
  | "errors";

/** Metric names (units in {@link METRIC_UNIT}). */
export const METRIC: Readonly<Record<MetricKey, string>> = Object.freeze({
  connectionsOpened: "wireframe.server.connection.opened",
  connectionsClosed: "wireframe.server.connection.closed",
  connectionsRejected: "wireframe.server.connection.rejected",
  connectionsActive: "wireframe.server.connection.active",
  connectionDuration: "wireframe.server.connection.duration",
  requests: "wireframe.server.requests",
  requestDuration: "wireframe.server.request.duration",
  unroutedFrames: "wireframe.server.frames.unrouted",
  bytesReceived: "wireframe.server.bytes.received",
  bytesSent: "wireframe.server.bytes.sent",
  framesReceived: "wireframe.server.frames.received",
  framesSent: "wireframe.server.frames.sent",
  framesRejected: "wireframe.server.frames.rejected",
  pushes: "wireframe.server.pushes",
  pushQueueDepth: "wireframe.server.push.queue.depth",
  reassemblyBytes: "wireframe.server.reassembly.bytes",
  deadLetters: "wireframe.server.dead_letters",
  errors: "wireframe.server.errors",
});

/** The unit of each metric, in UCUM as OpenTelemetry writes them. */
export const METRIC_UNIT: Readonly<Record<keyof typeof METRIC, string>> = Object.freeze({
  connectionsOpened: "{connection}",
  connectionsClosed: "{connection}",
  connectionsRejected: "{connection}",
  connectionsActive: "{connection}",
  connectionDuration: "s",
  requests: "{request}",
  requestDuration: "s",
  unroutedFrames: "{frame}",
  bytesReceived: "By",
  bytesSent: "By",
  framesReceived: "{frame}",
  framesSent: "{frame}",
  framesRejected: "{frame}",
  pushes: "{push}",
  pushQueueDepth: "{frame}",
  reassemblyBytes: "By",
  deadLetters: "{frame}",
  errors: "{error}",
});

/**
 * Why a connection ended (`wireframe.close.reason`): the peer closed it, it
 * was reset or its socket failed, the peer broke the protocol (the error's
 * code in `wireframe.error.code`), its preamble failed, a timeout fired, it
 * was a slow consumer, the server's shutdown drained or forced it, the app
 * closed it (`ctx.close()`), or user code or the library failed.
 */
export type CloseReason =
  | "peer-closed"
  | "reset"
  | "protocol-violation"
  | "preamble-failed"
  | "timeout"
  | "slow-consumer"
  | "shutdown-drained"
  | "shutdown-forced"
  | "closed-by-app"
  | "internal-error";

/** Every {@link CloseReason}, in the order the docs list them. */
export const CLOSE_REASONS: readonly CloseReason[] = Object.freeze([
  "peer-closed",
  "reset",
  "protocol-violation",
  "preamble-failed",
  "timeout",
  "slow-consumer",
  "shutdown-drained",
  "shutdown-forced",
  "closed-by-app",
  "internal-error",
]);

/**
 * How a request ended (`wireframe.request.outcome`): its response went out
 * (`ok`), it failed (a handler, middleware or stream threw: `error`), it was
 * cut short because the connection went away (`cancelled`), or its frame was
 * refused by the connection's phase (`refused`), or no route took it
 * (`unrouted`).
 */
export type RequestOutcome = "ok" | "error" | "cancelled" | "refused" | "unrouted";
