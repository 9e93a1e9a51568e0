/**
 * `ConnectionConfig`: what a server hands every connection it serves, built
 * once per `listen()`. Every part of a connection takes this one object.
 *
 * @module
 */
import type { AppSpec } from "../app/app_spec.ts";
import { createRouter, type Router } from "../app/router.ts";
import type { Counters } from "../observe/stats.ts";
import type { ServerTelemetry } from "../observe/telemetry.ts";
import { TraceContextLogger } from "../observe/trace_context_logger.ts";
import { DeadLetterSink } from "../push/dead_letter.ts";

/** The server's setup, shared by all its connections. */
export interface ConnectionConfig<S> {
  /** The app being served, frozen at `listen()`. */
  readonly spec: AppSpec<S>;
  /** The app's routes and middleware, compiled once. */
  readonly router: Router<S>;
  /** The server's counters (see `WireframeServer.stats()`). */
  readonly counters: Counters;
  /** Where dropped and discarded pushes go, if the app has a dead-letter queue. */
  readonly deadLetters: DeadLetterSink | undefined;
  /** The server's tracer and meter. */
  readonly telemetry: ServerTelemetry;
  /**
   * Told, by the connection itself, when a connection has ended (its teardown
   * ran; its `done` resolves next): one callback per server, not a reaction
   * to each connection's `done`.
   */
  readonly ended: (connectionId: number) => void;
}

/**
 * Build the config of a server's connections; frames with no route are
 * counted here. The app's logger is wrapped so that records carry the trace
 * and span ids of the connection or request they are about.
 */
export function connectionConfig<S>(
  app: AppSpec<S>,
  counters: Counters,
  telemetry: ServerTelemetry,
  ended: (connectionId: number) => void,
): ConnectionConfig<S> {
  const logger = new TraceContextLogger(
    app.logger,
    (id) => telemetry.connectionById(id)?.currentSpan,
  );
  const spec: AppSpec<S> = Object.freeze({ ...app, logger });
  const router = createRouter(spec, (request, ctx) => {
    counters.unroutedFrames++;
    spec.logger.debug("dropped a frame with no route", {
      connectionId: ctx.connectionId,
      id: request.id,
    });
  });
  const deadLetters = spec.deadLetterStream &&
    DeadLetterSink.for(spec.deadLetterStream, spec.logger);
  return Object.freeze({ spec, router, counters, deadLetters, telemetry, ended });
}
