/**
 * Handlers, middleware and their onion composition.
 *
 * @module
 */
import type { Envelope } from "../codec/envelope.ts";
import { WireframeBaseError } from "../error.ts";
import { type HandlerResult, Response } from "../response.ts";
import type { Context } from "./context.ts";

/**
 * Handles one request. Return a {@link Response}, a frame, an array of frames,
 * an async generator, a `ReadableStream` or nothing.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import {
 *   type Handler,
 *   WireframeApp,
 *   WireframeClient,
 *   WireframeServer,
 * } from "@wireframe/wireframe";
 *
 * const echo: Handler = (req) => req.payload;
 *
 * await using server = new WireframeServer(new WireframeApp().route(1, echo));
 * await using client = await WireframeClient.connect({ port: (await server.listen()).port });
 * assert.deepEqual((await client.request(1, Uint8Array.of(42))).payload, Uint8Array.of(42));
 * ```
 */
export type Handler<S = undefined> = (
  request: Envelope,
  ctx: Context<S>,
) => HandlerResult | Promise<HandlerResult>;

/** Calls the rest of the chain, optionally with a rewritten request. */
export type Next = (request?: Envelope) => Promise<Response>;

/**
 * Wraps every routed request. Registered with `app.wrap()`; the first
 * registered is outermost. A middleware may short-circuit (not call `next`),
 * rewrite the request (`next(other)`), rewrite or replace the response, and
 * observe errors (`try { await next() } catch ...`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import {
 *   type Middleware,
 *   WireframeApp,
 *   WireframeClient,
 *   WireframeServer,
 * } from "@wireframe/wireframe";
 *
 * const timings: { id: number; ms: number }[] = [];
 * const timing: Middleware = async (req, _ctx, next) => {
 *   const started = performance.now();
 *   try {
 *     return await next();
 *   } finally {
 *     timings.push({ id: req.id, ms: performance.now() - started });
 *   }
 * };
 *
 * const app = new WireframeApp().wrap(timing).route(1, (req) => req.payload);
 * await using server = new WireframeServer(app);
 * await using client = await WireframeClient.connect({ port: (await server.listen()).port });
 * await client.request(1, new Uint8Array(0));
 * assert.deepEqual(timings.map((t) => t.id), [1]);
 * ```
 */
export type Middleware<S = undefined> = (
  request: Envelope,
  ctx: Context<S>,
  next: Next,
) => HandlerResult | Promise<HandlerResult>;

/** A middleware called `next()` more than once. */
export class NextCalledTwiceError extends WireframeBaseError {
  constructor() {
    super("ERR_NEXT_CALLED_TWICE", "a middleware called next() more than once");
  }
}

/** A composed chain: request in, normalised response out. */
export type Dispatch<S> = (request: Envelope, ctx: Context<S>) => Promise<Response>;

/** Compose middleware around `endpoint` into one {@link Dispatch}. */
export function compose<S>(
  middleware: readonly Middleware<S>[],
  endpoint: Handler<S>,
): Dispatch<S> {
  const run = async (index: number, request: Envelope, ctx: Context<S>): Promise<Response> => {
    const layer = middleware[index];
    if (layer === undefined) return Response.from(await endpoint(request, ctx));
    let called = false;
    const next: Next = (rewritten) => {
      if (called) return Promise.reject(new NextCalledTwiceError());
      called = true;
      return run(index + 1, rewritten ?? request, ctx);
    };
    return Response.from(await layer(request, ctx, next));
  };
  return (request, ctx) => run(0, request, ctx);
}
