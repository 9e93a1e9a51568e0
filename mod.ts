/**
 * Wireframe: build servers and clients for custom binary protocols over TCP —
 * MySQL-, MQTT-, Redis- or game-style — on Deno, Bun and Node.js, with WHATWG streams.
 *
 * You declare framing, message ids and handlers; the library owns framing
 * limits, back-pressure, streaming responses, graceful shutdown and the
 * connection lifecycle.
 *
 * Default wire format (DESIGN.md §5): `length:u32be` then
 * `id:u32be flags:u8 [correlation:u64be] payload`.
 *
 * @example An echo server and a client
 * ```ts
 * import assert from "node:assert/strict";
 * import { WireframeApp, WireframeClient, WireframeServer } from "@wireframe/wireframe";
 *
 * const app = new WireframeApp()
 *   .route(1, (req) => req.payload) // echo
 *   .route(2, async function* () { // a streamed response
 *     for (let i = 0; i < 3; i++) yield Uint8Array.of(i);
 *   });
 *
 * await using server = new WireframeServer(app); // shut down at the end of the scope
 * const { hostname, port } = await server.listen({ port: 0 }); // 127.0.0.1, a free port
 *
 * await using client = await WireframeClient.connect({ hostname, port });
 * const reply = await client.request(1, new TextEncoder().encode("hi"));
 * assert.equal(new TextDecoder().decode(reply.payload), "hi");
 *
 * const frames = client.stream(2, new Uint8Array(0), { isEnd: (frame) => frame.payload[0] === 2 });
 * const counted = (await Array.fromAsync(frames)).map((frame) => frame.payload[0]);
 * assert.deepEqual(counted, [0, 1, 2]);
 * ```
 *
 * @module
 */
export {
  ConfigError,
  WireframeBaseError,
  WireframeError,
  type WireframeErrorKind,
} from "./src/error.ts";
export {
  type FrameInit,
  type FrameSource,
  type HandlerResult,
  InvalidResponseError,
  Response,
  type ResponseFrame,
  type ResponseKind,
} from "./src/response.ts";
export {
  defaultSerializer,
  type Envelope,
  EnvelopeError,
  type EnvelopeErrorReason,
  type Serializer,
} from "./src/codec/envelope.ts";
export { DuplicateRouteError, WireframeApp } from "./src/app/app.ts";
export type {
  LoggerOptions,
  MalformedFrameOptions,
  OutboundOptions,
  PushQueueOptions,
  RateLimitOptions,
  SetupHook,
  TeardownHook,
} from "./src/app/app_options.ts";
export { type AppDataKey, appDataKey, MissingAppDataError } from "./src/app/app_data.ts";
export type { ConnectionInfo, Context, UpgradeTlsOptions } from "./src/app/context.ts";
export {
  type PhaseOptions,
  PhaseViolationError,
  type RouteKey,
  type RouteKeyOf,
  type RouteOptions,
} from "./src/app/phases.ts";
export {
  ConnectionTimeoutError,
  DEFAULT_HANDSHAKE_MS,
  DEFAULT_SLOW_FRAME_MS,
  type TimeoutOptions,
  type TimeoutReason,
} from "./src/app/timeouts.ts";
export {
  ConversationError,
  type ConversationFailure,
  type ReceiveOptions,
} from "./src/app/conversation.ts";
export {
  type Handler,
  type Middleware,
  type Next,
  NextCalledTwiceError,
} from "./src/app/middleware.ts";
export {
  type PreambleConnection,
  type PreambleDecoded,
  PreambleError,
  type PreambleFailure,
  type PreambleOptions,
} from "./src/app/preamble.ts";
export type { WireframeProtocol } from "./src/app/protocol.ts";
export {
  type ServeOptions,
  type ServerOptions,
  ServerStateError,
  type ShutdownOptions,
  WireframeServer,
} from "./src/server/server.ts";
export type { ServerStats } from "./src/observe/stats.ts";
export {
  type PolicyPushOptions,
  type PolicyPushResult,
  PushHandle,
  type PushOptions,
  type PushPolicy,
  type PushPriority,
  type TryPushResult,
} from "./src/push/push_handle.ts";
export { PushError, type PushFailure } from "./src/push/errors.ts";
export { DrainTimeoutError } from "./src/wire/errors.ts";
export type { DeadLetter } from "./src/push/dead_letter.ts";
export { SessionRegistry } from "./src/session/registry.ts";
export {
  consoleLogger,
  type ConsoleLoggerOptions,
  createConsoleLogger,
  type LogFields,
  type Logger,
  type LogLevel,
  silentLogger,
  withLevel,
} from "./src/observe/logger.ts";
export { type SpanLookup, TraceContextLogger } from "./src/observe/trace_context_logger.ts";
export type {
  OtelMeterProvider,
  OtelSpan,
  OtelTracerProvider,
  TelemetryOptions,
} from "./src/observe/telemetry.ts";
export {
  ATTR,
  type AttrKey,
  CLOSE_REASONS,
  type CloseReason,
  EVENT,
  type EventKey,
  INSTRUMENTATION_SCOPE,
  METRIC,
  METRIC_UNIT,
  type MetricKey,
  type RequestOutcome,
  SPAN,
  type SpanKey,
} from "./src/observe/telemetry_names.ts";

export {
  type ThrottleClock,
  ThrottledLogger,
  type ThrottleOptions,
} from "./src/observe/throttled_logger.ts";
export {
  type ClientOptions,
  type RequestOptions,
  type StreamOptions,
  WireframeClient,
} from "./src/client/client.ts";
export {
  ClientClosedError,
  ConnectionLostError,
  CorrelationMismatchError,
} from "./src/client/errors.ts";
export type {
  Connection,
  ConnectOptions,
  Listener,
  ListenOptions,
  NetAddr,
  TlsConnectOptions,
  TlsListenOptions,
  Transport,
} from "./src/transport/types.ts";
export { TlsError } from "./src/transport/errors.ts";
