/**
 * Routing by message id, with the middleware chain around the handler.
 *
 * Order for every decoded frame: the middleware chain (outermost first), then
 * the route for the frame's id or the fallback, then — if neither exists —
 * the "unrouted" count. Middleware therefore sees every frame, routed or not,
 * and may answer one that has no route.
 *
 * @module
 */
import type { Envelope } from "../codec/envelope.ts";
import { Response } from "../response.ts";
import type { AppSpec } from "./app_spec.ts";
import type { Context } from "./context.ts";
import { compose, type Dispatch, type Handler } from "./middleware.ts";
import { PhaseViolationError } from "./phases.ts";

/**
 * A compiled router. `route()` returns `undefined` when a frame has no route,
 * no fallback and no middleware (it is dropped, after `onUnrouted`); with
 * middleware such a frame passes through the chain, and the innermost step
 * reports it to `onUnrouted` and answers with an empty response.
 * A handler that returns synchronously yields a `Response` without a promise,
 * which keeps the per-request hot path free of microtask hops.
 */
export interface Router<S> {
  route(request: Envelope, ctx: Context<S>): Response | Promise<Response> | undefined;
}

/** Told of every frame that reached no handler (neither its route nor the fallback). */
export type UnroutedListener<S> = (request: Envelope, ctx: Context<S>) => void;

/** Compile an app's routes, fallback and middleware once, for every connection. */
export function createRouter<S>(
  spec: AppSpec<S>,
  onUnrouted: UnroutedListener<S> = () => {},
): Router<S> {
  const lookup = handlerLookup(spec);

  if (spec.middleware.length === 0) {
    return {
      route(request, ctx) {
        const handler = lookup(request, ctx);
        if (handler === undefined) return void onUnrouted(request, ctx);
        return invoke(handler, request, ctx);
      },
    };
  }

  // A middleware may rewrite the request to another id, so look up at the end.
  const chain: Dispatch<S> = compose(spec.middleware, (request, ctx) => {
    const handler = lookup(request, ctx);
    if (handler !== undefined) return handler(request, ctx);
    onUnrouted(request, ctx);
    return Response.empty();
  });
  return { route: chain };
}

/**
 * The handler of a request: its route's, else the fallback. With phases, a
 * route outside its phases, or no route outside the ready phase, throws
 * {@link PhaseViolationError}. Specialised once per app: the common case (ids,
 * no phases) is one map lookup.
 */
function handlerLookup<S>(
  spec: AppSpec<S>,
): (request: Envelope, ctx: Context<S>) => Handler<S> | undefined {
  const { routes, fallback, routeKey, phases } = spec;
  if (phases === undefined) {
    if (routeKey === undefined) return (request) => routes.get(request.id)?.handler ?? fallback;
    return (request) => routes.get(routeKey(request))?.handler ?? fallback;
  }
  const { ready } = phases;
  const allowed = new Map(
    [...routes].map(([key, route]) => [key, new Set(route.phases ?? [ready])]),
  );
  return (request, ctx) => {
    const key = routeKey === undefined ? request.id : routeKey(request);
    const phase = ctx.phase;
    const route = routes.get(key);
    if (route === undefined ? phase === ready : allowed.get(key)!.has(phase)) {
      return route?.handler ?? fallback;
    }
    throw new PhaseViolationError(key, phase);
  };
}

/** Call a handler; a synchronous result stays synchronous. May throw synchronously. */
function invoke<S>(
  handler: Handler<S>,
  request: Envelope,
  ctx: Context<S>,
): Response | Promise<Response> {
  const result = handler(request, ctx);
  return result instanceof Promise ? result.then(Response.from) : Response.from(result);
}
