/**
 * `WireframeApp`: the fluent builder that declares a protocol application —
 * routes, middleware, app data, lifecycle hooks, preamble and codec.
 *
 * @module
 */
import { parseOptions } from "../_internal/options.ts";
import { defaultSerializer, type Serializer } from "../codec/envelope.ts";
import { LengthDelimitedCodec } from "../codec/length_delimited.ts";
import { type FrameCodecOrOptions, toFrameCodec } from "../codec/to_frame_codec.ts";
import type { FrameCodec } from "../codec/types.ts";
import { ConfigError, WireframeBaseError } from "../error.ts";
import { consoleLogger, type Logger, withLevel } from "../observe/logger.ts";
import { ThrottledLogger } from "../observe/throttled_logger.ts";
import type { AppDataKey } from "./app_data.ts";
import {
  type LoggerOptions,
  loggerSchema,
  type MalformedFrameOptions,
  malformedSchema,
  type OutboundOptions,
  outboundSchema,
  preambleLimitsSchema,
  type PushQueueOptions,
  pushQueuesSchema,
  type RateLimitOptions,
  rateLimitSchema,
  type SetupHook,
  type TeardownHook,
} from "./app_options.ts";
import type { Handler, Middleware } from "./middleware.ts";
import type { PreambleOptions } from "./preamble.ts";
import type { WireframeProtocol } from "./protocol.ts";
import type { AppSpec, Route } from "./app_spec.ts";
import {
  checkPhaseName,
  checkRouteKey,
  type PhaseOptions,
  type PhaseSpec,
  type RouteKey,
  type RouteKeyOf,
  type RouteOptions,
} from "./phases.ts";
import {
  DEFAULT_HANDSHAKE_MS,
  DEFAULT_SLOW_FRAME_MS,
  type ResolvedTimeouts,
  type TimeoutOptions,
  timeoutsSchema,
} from "./timeouts.ts";
import type { DeadLetter } from "../push/dead_letter.ts";
import type { SessionRegistry } from "../session/registry.ts";
import { type FragmentationSpec, fragmentationSpec } from "../wire/fragmentation_spec.ts";
import type { ReassemblyOptions } from "../fragment/options.ts";
import type { FragmentStrategy } from "../fragment/types.ts";

/** `route()` was called twice for the same routing key. */
export class DuplicateRouteError extends WireframeBaseError {
  /** The routing key registered twice. */
  readonly id: RouteKey;
  /**
   * Create the error.
   *
   * @param id the routing key registered twice
   */
  constructor(id: RouteKey) {
    super(
      "ERR_DUPLICATE_ROUTE",
      `a handler for ${typeof id === "string" ? `route "${id}"` : `message id ${id}`} ` +
        "is already registered",
    );
    this.id = id;
  }
}

let readSpec: <S>(app: WireframeApp<S>) => AppSpec<S>;

/**
 * Declares a protocol application. Every method returns the app, so calls
 * chain; the app is immutable once a server runs it (later changes apply to
 * connections accepted afterwards).
 *
 * `S` is the per-connection state that `onConnectionSetup` returns.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { WireframeApp, WireframeClient, WireframeServer } from "@wireframe/wireframe";
 *
 * const seen: number[] = [];
 * const app = new WireframeApp()
 *   .route(1, (req) => req.payload) // echo
 *   .wrap(async (req, _ctx, next) => {
 *     seen.push(req.id);
 *     return await next();
 *   });
 * const server = new WireframeServer(app);
 * const addr = await server.listen({ hostname: "127.0.0.1", port: 0 });
 *
 * const client = await WireframeClient.connect({ hostname: addr.hostname, port: addr.port });
 * const reply = await client.request(1, new TextEncoder().encode("hi"));
 * assert.equal(new TextDecoder().decode(reply.payload), "hi");
 * assert.deepEqual(seen, [1]);
 * await client.close();
 * await server.shutdown();
 * ```
 */
export class WireframeApp<S = undefined> {
  #routes = new Map<RouteKey, Route<S>>();
  #routeKey: RouteKeyOf | undefined;
  #phases: Omit<PhaseSpec, "names"> | undefined;
  #timeouts: TimeoutOptions = {};
  #middleware: Middleware<S>[] = [];
  #appData = new Map<AppDataKey<unknown>, unknown>();
  #setup: SetupHook<S> | undefined;
  #teardown: TeardownHook<S> | undefined;
  #preamble: Required<PreambleOptions<unknown>> | undefined;
  #fallback: Handler<S> | undefined;
  #malformed: Required<MalformedFrameOptions> = { policy: "close", maxConsecutive: 8 };
  #codec: FrameCodec = new LengthDelimitedCodec();
  #serializer: Serializer = defaultSerializer;
  #logger: Logger = new ThrottledLogger(consoleLogger);
  #pushQueues: AppSpec<S>["pushQueues"] = parseOptions(
    "pushQueues",
    pushQueuesSchema,
    {},
  ) as AppSpec<
    S
  >["pushQueues"];
  #rateLimit: Required<RateLimitOptions> | undefined;
  #outbound: Required<OutboundOptions> = parseOptions("outbound", outboundSchema, {});
  #deadLetters: WritableStream<DeadLetter> | undefined;
  #protocol: WireframeProtocol<S> = {};
  #sessions: SessionRegistry | undefined;
  #fragmentation: FragmentationSpec | undefined;

  static {
    readSpec = <S>(app: WireframeApp<S>): AppSpec<S> =>
      Object.freeze({
        routes: new Map(app.#routes),
        routeKey: app.#routeKey,
        phases: app.#phaseSpec(),
        timeouts: app.#resolvedTimeouts(),
        middleware: [...app.#middleware],
        appData: new Map(app.#appData),
        setup: app.#setup,
        teardown: app.#teardown,
        preamble: app.#preamble,
        fallback: app.#fallback,
        malformed: app.#malformed,
        codec: app.#codec,
        serializer: app.#serializer,
        logger: app.#logger,
        pushQueues: app.#pushQueues,
        rateLimit: app.#rateLimit,
        outbound: app.#outbound,
        deadLetterStream: app.#deadLetters,
        protocol: app.#protocol,
        sessions: app.#sessions,
        fragmentation: app.#fragmentation,
      });
  }

  /**
   * Handle the requests whose routing key is `id` with `handler`: a message
   * id (u32), or a string when `routeKey()` maps requests to strings (a
   * text protocol's commands). `options.phase` limits the route to phases
   * (see {@link WireframeApp.phases}).
   * @throws {DuplicateRouteError} if `id` already has a handler
   * @throws {ConfigError} if `id` is neither a u32 nor a non-empty string, or a phase is empty
   */
  route(id: RouteKey, handler: Handler<S>, options: RouteOptions = {}): this {
    checkRouteKey(id);
    requireFunction("route", "handler", handler);
    const phase = options.phase;
    const phases = phase === undefined
      ? undefined
      : (typeof phase === "string" ? [phase] : [...phase]).map((name) =>
        checkPhaseName("route", "phase", name)
      );
    if (this.#routes.has(id)) throw new DuplicateRouteError(id);
    this.#routes.set(id, { handler, phases });
    return this;
  }

  /**
   * Find each request's routing key with `key` instead of taking its message
   * id, e.g. the command word of a text protocol's line, so routes can be
   * declared by name (`app.route("PING", ...)`). Runs for every request.
   */
  routeKey(key: RouteKeyOf): this {
    requireFunction("routeKey", "key", key);
    this.#routeKey = key;
    return this;
  }

  /**
   * Route by phase: a connection starts in `initial` and moves on with
   * `ctx.enterPhase(name)` (e.g. after a successful handshake). A route
   * declared with `{ phase }` is allowed only in those phases, every other
   * route (and the fallback) only in the `ready` phase. A frame its phase
   * does not allow gets the protocol's `phaseViolation` answer, then the
   * connection closes (`PhaseViolationError`, counted as a protocol
   * violation).
   *
   * @throws {ConfigError} for an empty phase name
   */
  phases(options: PhaseOptions): this {
    this.#phases = {
      initial: checkPhaseName("phases", "initial", options.initial),
      ready: checkPhaseName("phases", "ready", options.ready ?? "ready"),
    };
    return this;
  }

  /**
   * Drop silent peers (see {@link TimeoutOptions}; every value in ms, 0 =
   * off): `handshakeMs` (default 30,000 with phases, off without),
   * `idleMs` (default off; per connection `ctx.setIdleTimeout(ms)`),
   * `slowFrameMs` (default 30,000). On expiry the protocol's
   * `closingFrames` may answer, then the connection closes with a
   * `ConnectionTimeoutError`, counted in `stats().timeouts` and logged at
   * debug.
   *
   * @throws {ConfigError} for a value out of range
   */
  timeouts(options: TimeoutOptions): this {
    this.#timeouts = parseOptions("timeouts", timeoutsSchema, options);
    return this;
  }

  #resolvedTimeouts(): ResolvedTimeouts {
    const { handshakeMs, idleMs, slowFrameMs } = this.#timeouts;
    return Object.freeze({
      handshakeMs: handshakeMs ?? (this.#phases ? DEFAULT_HANDSHAKE_MS : 0),
      idleMs: idleMs ?? 0,
      slowFrameMs: slowFrameMs ?? DEFAULT_SLOW_FRAME_MS,
    });
  }

  #phaseSpec(): PhaseSpec | undefined {
    if (this.#phases === undefined) return undefined;
    const names = new Set([this.#phases.initial, this.#phases.ready]);
    for (const route of this.#routes.values()) {
      for (const name of route.phases ?? []) names.add(name);
    }
    return Object.freeze({ ...this.#phases, names });
  }

  /**
   * Add a middleware; the first registered is the outermost layer.
   *
   * Middleware sees every decoded frame, routed or not. The order is: the
   * middleware chain, then the route for the (possibly rewritten) id or the
   * fallback, then — if there is neither — the frame counts as unrouted
   * (`stats().unroutedFrames`) and gets no answer unless a middleware gave one.
   */
  wrap(middleware: Middleware<S>): this {
    requireFunction("wrap", "middleware", middleware);
    this.#middleware.push(middleware);
    return this;
  }

  /** Share `value` with every handler and hook as `ctx.appData(key)`. */
  appData<T>(key: AppDataKey<T>, value: T): this {
    this.#appData.set(key, value);
    return this;
  }

  /** Build per-connection state before the first request. A throw closes the connection. */
  onConnectionSetup(setup: SetupHook<S>): this {
    requireFunction("onConnectionSetup", "setup", setup);
    this.#setup = setup;
    return this;
  }

  /** Clean up per-connection state; runs exactly once per connection whose setup completed. */
  onConnectionTeardown(teardown: TeardownHook<S>): this {
    requireFunction("onConnectionTeardown", "teardown", teardown);
    this.#teardown = teardown;
    return this;
  }

  /** Require a preamble before the first frame (see {@link PreambleOptions}). */
  withPreamble<P>(options: PreambleOptions<P>): this {
    requireFunction("withPreamble", "decode", options.decode);
    const limits = parseOptions("withPreamble", preambleLimitsSchema, {
      timeoutMs: options.timeoutMs,
      maxBytes: options.maxBytes,
    });
    this.#preamble = {
      decode: options.decode,
      onSuccess: (options.onSuccess ?? noop) as Required<PreambleOptions<unknown>>["onSuccess"],
      onFailure: options.onFailure ?? noop,
      ...limits,
    };
    return this;
  }

  /** Handle message ids that have no route (default: drop and count). */
  fallback(handler: Handler<S>): this {
    requireFunction("fallback", "handler", handler);
    this.#fallback = handler;
    return this;
  }

  /** Choose the policy for frames that are not valid envelopes (default: close). */
  malformedFrames(options: MalformedFrameOptions): this {
    this.#malformed = parseOptions("malformedFrames", malformedSchema, options);
    return this;
  }

  /** Use another frame codec, or the length-delimited one with other options. */
  codec(codec: FrameCodecOrOptions): this {
    this.#codec = toFrameCodec(codec);
    return this;
  }

  /** Use another envelope format (default: DESIGN.md §5). */
  serializer(serializer: Serializer): this {
    requireFunction("serializer", "decode", serializer.decode);
    requireFunction("serializer", "encode", serializer.encode);
    this.#serializer = serializer;
    return this;
  }

  /** Size the per-connection push queues and tune the actor's fairness (see {@link PushQueueOptions}). */
  pushQueues(options: PushQueueOptions): this {
    const parsed = parseOptions("pushQueues", pushQueuesSchema, options);
    this.#pushQueues = { ...parsed, timeSliceMs: parsed.timeSliceMs };
    return this;
  }

  /**
   * Bound the outbound bytes of each connection and close the ones whose peer
   * stops reading: the slow-consumer guard (see {@link OutboundOptions};
   * defaults: high water mark 256 KiB, low a quarter of it, drain timeout
   * 30 s). A broadcast with `tryPush` or a drop policy never waits for a
   * stalled connection; a `push()` to one waits until its drain timeout
   * closes it, then rejects with `PushError("closed")`.
   * @throws {ConfigError} for a value out of range, or a low mark above the high one
   */
  outbound(options: OutboundOptions): this {
    this.#outbound = parseOptions("outbound", outboundSchema, options);
    return this;
  }

  /** Limit pushes per connection with a token bucket shared by both priorities. */
  rateLimit(options: RateLimitOptions): this {
    const parsed = parseOptions("rateLimit", rateLimitSchema, options);
    this.#rateLimit = {
      perSecond: parsed.perSecond,
      burst: parsed.burst ?? Math.max(1, Math.floor(parsed.perSecond)),
    };
    return this;
  }

  /**
   * Send frames dropped by a drop policy (and pushes still queued when a
   * connection is force-closed) to `stream`, never blocking the pusher: when
   * the stream has no room the loss is counted and logged, throttled.
   */
  deadLetterQueue(stream: WritableStream<DeadLetter>): this {
    if (!(stream instanceof WritableStream)) {
      throw new ConfigError("stream", 'deadLetterQueue: option "stream" must be a WritableStream');
    }
    this.#deadLetters = stream;
    return this;
  }

  /** Use `protocol`'s hooks (see {@link WireframeProtocol}). */
  withProtocol(protocol: WireframeProtocol<S>): this {
    for (
      const hook of [
        "onConnectionSetup",
        "greeting",
        "phaseViolation",
        "closingFrames",
        "beforeSend",
        "onCommandEnd",
        "handleError",
        "streamEndFrame",
      ] as const
    ) {
      if (protocol[hook] !== undefined) requireFunction("withProtocol", hook, protocol[hook]);
    }
    this.#protocol = protocol;
    return this;
  }

  /**
   * Fragment messages larger than the strategy allows into several frames,
   * and re-assemble incoming fragments, between the frame codec and the
   * envelope. Re-assembly limits are mandatory and default to safe values
   * (see `ReassemblyOptions`); a breach closes the connection.
   *
   * @throws {ConfigError} for invalid limits
   */
  fragmentation(strategy: FragmentStrategy, limits: ReassemblyOptions = {}): this {
    this.#fragmentation = fragmentationSpec("fragmentation", strategy, limits);
    return this;
  }

  /** Keep every live connection's push handle in `registry`. */
  sessions(registry: SessionRegistry): this {
    this.#sessions = registry;
    return this;
  }

  /**
   * Report through `logger` instead of the console. Warnings and errors go
   * through a {@link ThrottledLogger}: each message at most once per
   * `throttleMs` (default 10 s), then one summary with the count held back;
   * `throttleMs: 0` passes every record on (for a logger that samples or
   * rate-limits by itself). Debug and info are never throttled. `level`
   * drops the records below it (`{ level: "info" }`: no debug).
   *
   * The default is `consoleLogger` (warn and error, one line each, no
   * stacks), throttled at 10 s.
   *
   * @throws {ConfigError} if `logger` lacks a method, `throttleMs` is out of range or `level` unknown
   */
  logger(logger: Logger, options: LoggerOptions = {}): this {
    for (const level of ["debug", "info", "warn", "error"] as const) {
      requireFunction("logger", level, logger?.[level]);
    }
    const { throttleMs, level } = parseOptions("logger", loggerSchema, options);
    const leveled = level === undefined ? logger : withLevel(logger, level);
    this.#logger = throttleMs === 0
      ? leveled
      : new ThrottledLogger(leveled, { intervalMs: throttleMs });
    return this;
  }
}

/** The frozen spec of `app`, for the server and tests. Not part of the public API. */
export function appSpec<S>(app: WireframeApp<S>): AppSpec<S> {
  return readSpec(app);
}

function requireFunction(owner: string, option: string, value: unknown): void {
  if (typeof value !== "function") {
    throw new ConfigError(
      option,
      `${owner}: option "${option}" must be a function (got ${typeof value})`,
    );
  }
}

function noop(): void {}
