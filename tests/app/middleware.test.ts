import { test } from "node:test";
import assert from "node:assert/strict";
import { type Middleware, NextCalledTwiceError } from "../../src/app/middleware.ts";
import { createRouter } from "../../src/app/router.ts";
import { appSpec, DuplicateRouteError, WireframeApp } from "../../src/app/app.ts";
import { ConnectionContext } from "../../src/app/context.ts";
import type { Envelope } from "../../src/codec/envelope.ts";
import { ConfigError } from "../../src/error.ts";
import { PushHandle } from "../../src/push/push_handle.ts";
import { Response } from "../../src/response.ts";

const addr = { transport: "memory" as const, hostname: "test", port: 1 };
// Routing never pushes, so a handle that refuses everything is enough here.
const noPush = new PushHandle({
  connectionId: 1,
  closed: Promise.resolve(),
  isClosed: true,
  tryPush: () => "closed",
  push: () => Promise.reject(new Error("closed")),
  takeRateToken: () => Promise.reject(new Error("closed")),
  tryTakeRateToken: () => false,
  deadLetter: () => {},
});
const ctx = () =>
  new ConnectionContext<undefined>({
    connectionId: 1,
    remoteAddr: addr,
    localAddr: addr,
    abort: new AbortController(),
    push: noPush,
    appData: new Map(),
  });
const req = (id: number, payload: number[] = []): Envelope => ({
  id,
  correlationId: 1n,
  payload: Uint8Array.from(payload),
});

function route(app: WireframeApp, request: Envelope) {
  return createRouter(appSpec(app)).route(request, ctx());
}

test("middleware is an onion: the first registered is outermost", async () => {
  const order: string[] = [];
  const layer = (name: string): Middleware => async (_req, _ctx, next) => {
    order.push(`${name} in`);
    const res = await next();
    order.push(`${name} out`);
    return res;
  };
  const app = new WireframeApp().wrap(layer("a")).wrap(layer("b")).route(1, () => {
    order.push("handler");
  });
  await route(app, req(1));
  assert.deepEqual(order, ["a in", "b in", "handler", "b out", "a out"]);
});

test("middleware can short-circuit, rewrite the request and replace the response", async () => {
  const app = new WireframeApp()
    .wrap((request, _ctx, next) => request.payload[0] === 0 ? Uint8Array.of(0xde, 0xad) : next())
    .wrap((request, _ctx, next) => next({ ...request, id: 2 }))
    .wrap(async (_request, _ctx, next) =>
      Response.vec([...(await next()).frames, Uint8Array.of(0xff)])
    )
    .route(1, () => Uint8Array.of(1))
    .route(2, (request) => request.payload);
  assert.deepEqual((await route(app, req(1, [0])))!.frames, [Uint8Array.of(0xde, 0xad)]);
  assert.deepEqual((await route(app, req(1, [7])))!.frames, [
    Uint8Array.of(7),
    Uint8Array.of(0xff),
  ]);
});

test("middleware observes handler errors", async () => {
  const seen: unknown[] = [];
  const boom = new Error("boom");
  const app = new WireframeApp()
    .wrap(async (_req, _ctx, next) => {
      try {
        return await next();
      } catch (err) {
        seen.push(err);
        return Uint8Array.of(0xee);
      }
    })
    .route(1, () => {
      throw boom;
    });
  assert.deepEqual((await route(app, req(1)))!.frames, [Uint8Array.of(0xee)]);
  assert.deepEqual(seen, [boom]);
});

test("calling next() twice is a typed error", async () => {
  const app = new WireframeApp()
    .wrap(async (_req, _ctx, next) => {
      await next();
      return next();
    })
    .route(1, () => {});
  await assert.rejects(Promise.resolve().then(() => route(app, req(1))), NextCalledTwiceError);
});

test("an unknown id is unrouted unless a fallback is set", async () => {
  const app = new WireframeApp().route(1, () => {});
  assert.equal(route(app, req(9)), undefined);
  app.fallback((request) => Uint8Array.of(request.id));
  assert.deepEqual((await route(app, req(9)))!.frames, [Uint8Array.of(9)]);
});

test("middleware sees a frame with no route, and may answer it", async () => {
  const seen: number[] = [];
  const unrouted: number[] = [];
  const app = new WireframeApp()
    .wrap(async (request, _ctx, next) => {
      seen.push(request.id);
      if (request.id === 8) return Response.single(Uint8Array.of(0xaa)); // answered here
      return await next();
    })
    .route(1, () => Uint8Array.of(1));
  const router = createRouter(appSpec(app), (request) => void unrouted.push(request.id));
  assert.deepEqual((await router.route(req(8), ctx()))!.frames, [Uint8Array.of(0xaa)]);
  assert.deepEqual((await router.route(req(9), ctx()))!.frames, [], "passed through: no answer");
  assert.deepEqual((await router.route(req(1), ctx()))!.frames, [Uint8Array.of(1)]);
  assert.deepEqual(seen, [8, 9, 1], "every frame went through the middleware");
  assert.deepEqual(unrouted, [9], "only the frame nobody handled counts as unrouted");
});

test("without middleware an unrouted frame is dropped and reported once", () => {
  const unrouted: number[] = [];
  const router = createRouter(
    appSpec(new WireframeApp().route(1, () => {})),
    (request) => void unrouted.push(request.id),
  );
  assert.equal(router.route(req(9), ctx()), undefined);
  assert.deepEqual(unrouted, [9]);
});

test("route rejects duplicate ids and ids that are not u32", () => {
  const app = new WireframeApp().route(1, () => {});
  assert.throws(
    () => app.route(1, () => {}),
    (err: unknown) => err instanceof DuplicateRouteError && err.id === 1,
  );
  for (const id of [-1, 2 ** 32, 1.5]) assert.throws(() => app.route(id, () => {}), ConfigError);
  assert.throws(() => app.route(2, "nope" as never), ConfigError);
});

test("builder options are validated with errors that name the option", () => {
  assert.throws(
    () => new WireframeApp().malformedFrames({ policy: "ignore" as never }),
    /option "policy" must be one of "close", "drop"/,
  );
  assert.throws(
    () => new WireframeApp().malformedFrames({ maxConsecutive: 0 }),
    /option "maxConsecutive" must be an integer from 1/,
  );
  assert.throws(
    () => new WireframeApp().withPreamble({ decode: () => undefined, timeoutMs: 0 }),
    /option "timeoutMs" must be an integer from 1/,
  );
});
