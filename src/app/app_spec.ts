/**
 * `AppSpec`: the frozen snapshot of a `WireframeApp` that a server runs.
 *
 * @module
 */
import type { Serializer } from "../codec/envelope.ts";
import type { FrameCodec } from "../codec/types.ts";
import type { Logger } from "../observe/logger.ts";
import type { DeadLetter } from "../push/dead_letter.ts";
import type { SessionRegistry } from "../session/registry.ts";
import type { FragmentationSpec } from "../wire/fragmentation_spec.ts";
import type { AppDataKey } from "./app_data.ts";
import type {
  MalformedFrameOptions,
  OutboundOptions,
  PushQueueOptions,
  RateLimitOptions,
  SetupHook,
  TeardownHook,
} from "./app_options.ts";
import type { Handler, Middleware } from "./middleware.ts";
import type { PreambleOptions } from "./preamble.ts";
import type { WireframeProtocol } from "./protocol.ts";
import type { PhaseSpec, RouteKey, RouteKeyOf } from "./phases.ts";
import type { ResolvedTimeouts } from "./timeouts.ts";

/** A handler with the phases it is allowed in (`undefined`: the ready phase). */
export interface Route<S> {
  readonly handler: Handler<S>;
  readonly phases: readonly string[] | undefined;
}

/** The app as the server runs it: a frozen snapshot of the builder (internal). */
export interface AppSpec<S> {
  /** Handlers by message id. */
  readonly routes: ReadonlyMap<RouteKey, Route<S>>;
  /** How a request's routing key is found; `undefined`: its message id. */
  readonly routeKey: RouteKeyOf | undefined;
  /** The app's phases, if it declares any. */
  readonly phases: PhaseSpec | undefined;
  /** Connection timeouts, with defaults applied (0: off). */
  readonly timeouts: ResolvedTimeouts;
  /** Middleware, outermost first. */
  readonly middleware: readonly Middleware<S>[];
  /** Values for `ctx.appData(key)`. */
  readonly appData: ReadonlyMap<AppDataKey<unknown>, unknown>;
  /** Per-connection setup hook. */
  readonly setup: SetupHook<S> | undefined;
  /** Per-connection teardown hook. */
  readonly teardown: TeardownHook<S> | undefined;
  /** Preamble handling with defaults applied. */
  readonly preamble: Required<PreambleOptions<unknown>> | undefined;
  /** Handler for unrouted ids. */
  readonly fallback: Handler<S> | undefined;
  /** Malformed-frame policy. */
  readonly malformed: Required<MalformedFrameOptions>;
  /** Frame codec. */
  readonly codec: FrameCodec;
  /** Envelope serializer. */
  readonly serializer: Serializer;
  /** Where faults are reported. */
  readonly logger: Logger;
  /** Push queue capacities and fairness. */
  readonly pushQueues: Required<Omit<PushQueueOptions, "timeSliceMs">> & {
    timeSliceMs: number | undefined;
  };
  /** Per-connection push rate limit, if any. */
  readonly rateLimit: Required<RateLimitOptions> | undefined;
  /** The slow-consumer guard: outbound water marks in bytes and the drain timeout. */
  readonly outbound: Required<OutboundOptions>;
  /** The user's stream for frames dropped by a drop policy, if any. */
  readonly deadLetterStream: WritableStream<DeadLetter> | undefined;
  /** Protocol hooks. */
  readonly protocol: WireframeProtocol<S>;
  /** Registry of live connections, if any. */
  readonly sessions: SessionRegistry | undefined;
  /** Message fragmentation between the codec and the envelope, if any. */
  readonly fragmentation: FragmentationSpec | undefined;
}
