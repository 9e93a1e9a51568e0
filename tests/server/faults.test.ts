/** Faults in user code and WireframeError semantics, over the memory transport (DESIGN.md §8). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { WireframeApp } from "../../src/app/app.ts";
import { WireframeError } from "../../src/error.ts";
import { InvalidResponseError } from "../../src/response.ts";
import { captureLogger, concat, frame, readU32, str, text, u32, waitFor } from "../e2e/_helpers.ts";
import { connectRaw, serveMemory } from "./_memory.ts";

test("a throwing handler is logged and counted; its connection and others carry on", async () => {
  const boom = new Error("handler exploded");
  const { logger, records } = captureLogger();
  const app = new WireframeApp()
    .logger(logger, { throttleMs: 0 }) // counts every record
    .route(1, (req) => req.payload)
    .route(2, () => {
      throw boom;
    })
    .route(3, () => Promise.reject(boom));
  await using running = await serveMemory(app);
  await using other = await connectRaw(running.port);
  await using raw = await connectRaw(running.port);

  await raw.write(concat(frame(2, 1n), frame(3, 2n), frame(1, 3n, text("after"))));
  const reply = await raw.readFrame();
  assert.equal(reply.correlationId, 3n, "failed requests get no response");
  assert.equal(str(reply.payload), "after");

  const stats = running.server.stats();
  assert.equal(stats.handlerErrors, 2);
  assert.equal(stats.connectionErrors, 0);
  const errors = records.filter((r) => r.level === "error");
  assert.equal(errors.length, 2);
  assert.deepEqual(errors.map((r) => [r.fields?.error, r.fields?.id]), [[boom, 2], [boom, 3]]);

  await other.write(frame(1, 1n, text("other")));
  assert.equal(str((await other.readFrame()).payload), "other");
});

test("a throwing middleware is a request fault like a throwing handler", async () => {
  const boom = new Error("middleware exploded");
  const { logger, records } = captureLogger();
  const app = new WireframeApp()
    .logger(logger)
    .wrap((req, _ctx, next) => {
      if (req.payload[0] === 0) throw boom;
      return next();
    })
    .route(1, (req) => req.payload);
  await using running = await serveMemory(app);
  await using raw = await connectRaw(running.port);
  await raw.write(concat(frame(1, 1n, Uint8Array.of(0)), frame(1, 2n, Uint8Array.of(5))));
  const reply = await raw.readFrame();
  assert.deepEqual([reply.correlationId, [...reply.payload]], [2n, [5]]);
  assert.equal(running.server.stats().handlerErrors, 1);
  assert.ok(records.some((r) => r.level === "error" && r.fields?.error === boom));
});

test("a handler returning something that is not a response is a request fault", async () => {
  const { logger, records } = captureLogger();
  const app = new WireframeApp()
    .logger(logger)
    .route(1, (req) => req.payload)
    // @ts-expect-error: deliberately returns a number, which is not a HandlerResult
    .route(2, () => 42);
  await using running = await serveMemory(app);
  await using raw = await connectRaw(running.port);
  await raw.write(concat(frame(2, 1n), frame(1, 2n, text("ok"))));
  assert.equal((await raw.readFrame()).correlationId, 2n);
  assert.equal(running.server.stats().handlerErrors, 1);
  assert.ok(records.some((r) => r.fields?.error instanceof InvalidResponseError));
});

test("WireframeError.protocol from a stream ends that request after the frames before it", async () => {
  const app = new WireframeApp()
    .logger(captureLogger().logger)
    .route(1, (req) => req.payload)
    .route(2, async function* () {
      yield u32(0);
      yield u32(1);
      throw WireframeError.protocol({ code: 42 }, "bad row");
    });
  await using running = await serveMemory(app);
  await using raw = await connectRaw(running.port);
  await raw.write(concat(frame(2, 1n), frame(1, 2n, text("next"))));
  const frames = [await raw.readFrame(), await raw.readFrame(), await raw.readFrame()];
  assert.deepEqual(frames.map((f) => f.correlationId), [1n, 1n, 2n]);
  assert.deepEqual(frames.slice(0, 2).map((f) => readU32(f.payload)), [0, 1]);
  assert.equal(str(frames[2]!.payload), "next", "the connection carries on");
  assert.equal(running.server.stats().connectionErrors, 0);
});

test("WireframeError.io from a stream ends the connection after the frames already produced", async () => {
  let tornDown = 0;
  const app = new WireframeApp<undefined>()
    .logger(captureLogger().logger)
    .onConnectionTeardown(() => void tornDown++)
    .route(2, async function* () {
      yield u32(0);
      yield u32(1);
      throw WireframeError.io(new Error("disk gone"));
    });
  await using running = await serveMemory(app);
  await using raw = await connectRaw(running.port);
  await raw.write(frame(2, 1n));
  const { rest } = await raw.readEnd("the connection to end");
  assert.deepEqual(rest, concat(frame(2, 1n, u32(0)), frame(2, 1n, u32(1))));
  await raw.answerFin();
  await waitFor(() => tornDown === 1, "teardown");
  assert.equal(running.server.stats().handlerErrors, 0, "an I/O fault is not a handler fault");
});

test("WireframeError.io thrown by a handler ends the connection", async () => {
  const app = new WireframeApp()
    .logger(captureLogger().logger)
    .route(1, (req) => req.payload)
    .route(2, () => {
      throw WireframeError.io(new Error("upstream gone"));
    });
  await using running = await serveMemory(app);
  await using raw = await connectRaw(running.port);
  await raw.write(concat(frame(2, 1n), frame(1, 2n)));
  const { rest } = await raw.readEnd();
  assert.equal(rest.length, 0, "the request after the I/O fault is not served");
  await raw.answerFin();
  await waitFor(() => running.server.stats().connectionsActive === 0, "connection ended");
});

test("a response frame that cannot be sent is a request fault; the connection carries on", async () => {
  const { logger, records } = captureLogger();
  const app = new WireframeApp()
    .logger(logger, { throttleMs: 0 }) // counts every record
    .route(1, (req) => req.payload)
    .route(2, () => new Uint8Array(2 * 1024 * 1024)) // over the codec's 1 MiB max frame
    .route(3, () => ({ id: -1, payload: text("x") })) // not a u32 id
    .route(4, async function* () {
      yield text("a");
      yield { id: 2 ** 40, payload: text("b") }; // ends this response
      yield text("c");
    });
  await using running = await serveMemory(app);
  await using raw = await connectRaw(running.port);
  await raw.write(concat(frame(2, 1n), frame(3, 2n), frame(4, 3n), frame(1, 4n, text("after"))));
  const first = await raw.readFrame();
  assert.deepEqual([first.correlationId, str(first.payload)], [3n, "a"]);
  const next = await raw.readFrame();
  assert.deepEqual([next.correlationId, str(next.payload)], [4n, "after"]);
  assert.equal(running.server.stats().handlerErrors, 3);
  assert.equal(records.filter((r) => r.level === "error").length, 3);
});
