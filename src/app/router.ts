/**
 * Routing by message id, with the middleware chain around the handler.
 *
 * @module
 */
import type { Envelope } from "../codec/envelope.ts";
import { Response } from "../response.ts";
import type { AppSpec } from "./app.ts";
import type { Context } from "./context.ts";
import { compose, type Dispatch, type Handler } from "./middleware.ts";

/**
 * A compiled router: `route()` returns `undefined` when the message id has
 * no handler and there is no fallback (the frame is dropped and counted).
 * A handler that returns synchronously yields a `Response` without a promise,
 * which keeps the per-request hot path free of microtask hops.
 */
export interface Router<S> {
  route(request: Envelope, ctx: Context<S>): Response | Promise<Response> | undefined;
}

/** Compile an app's routes, fallback and middleware once, for every connection. */
export function createRouter<S>(spec: AppSpec<S>): Router<S> {
  const { routes, fallback, middleware } = spec;
  const lookup = (id: number): Handler<S> | undefined => routes.get(id) ?? fallback;

  if (middleware.length === 0) {
    return {
      route(request, ctx) {
        const handler = lookup(request.id);
        return handler === undefined ? undefined : invoke(handler, request, ctx);
      },
    };
  }

  // A middleware may rewrite the request to another id, so look up again at the end.
  const chain: Dispatch<S> = compose(middleware, (request, ctx) => {
    const handler = lookup(request.id);
    return handler === undefined ? Response.empty() : handler(request, ctx);
  });
  return {
    route(request, ctx) {
      return lookup(request.id) === undefined ? undefined : chain(request, ctx);
    },
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
