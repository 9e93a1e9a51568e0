/** Routing and malformed input over the memory transport (DESIGN.md §5). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { WireframeApp } from "../../src/app/app.ts";
import { EnvelopeError } from "../../src/codec/envelope.ts";
import {
  captureLogger,
  concat,
  frame,
  rawFrame,
  reservedFlagsBody,
  str,
  text,
  u32,
  waitFor,
} from "../e2e/_helpers.ts";
import { connectRaw, serveMemory } from "./_memory.ts";

function echoApp() {
  const { logger, records } = captureLogger();
  const app = new WireframeApp().logger(logger).route(1, (req) => req.payload);
  return { app, records };
}

test("an unknown message id is dropped and counted, and the connection carries on", async () => {
  const { app } = echoApp();
  await using running = await serveMemory(app);
  await using raw = await connectRaw(running.port);
  await raw.write(concat(frame(99, 1n, text("lost")), frame(1, 2n, text("kept"))));
  const reply = await raw.readFrame();
  assert.equal(reply.correlationId, 2n, "no response to the unknown id");
  assert.equal(str(reply.payload), "kept");
  const stats = running.server.stats();
  assert.equal(stats.unroutedFrames, 1);
  assert.equal(stats.requests, 1);
  assert.equal(stats.connectionErrors, 0);

  await raw.write(frame(1, 3n, text("still here")));
  assert.equal(str((await raw.readFrame()).payload), "still here");
});

test("middleware sees a frame with no route: it may answer it, else it is counted unrouted", async () => {
  const seen: number[] = [];
  const app = new WireframeApp()
    .logger(captureLogger().logger)
    .wrap(async (req, _ctx, next) => {
      seen.push(req.id);
      return req.id === 98 ? text("denied") : await next();
    })
    .route(1, (req) => req.payload);
  await using running = await serveMemory(app);
  await using raw = await connectRaw(running.port);
  await raw.write(concat(frame(98, 1n), frame(99, 2n), frame(1, 3n, text("kept"))));
  const answered = await raw.readFrame();
  assert.deepEqual([answered.id, answered.correlationId, str(answered.payload)], [
    98,
    1n,
    "denied",
  ]);
  const routed = await raw.readFrame();
  assert.deepEqual([routed.correlationId, str(routed.payload)], [3n, "kept"], "no answer to 99");
  assert.deepEqual(seen, [98, 99, 1]);
  const stats = running.server.stats();
  assert.equal(stats.unroutedFrames, 1, "99 reached no handler");
  assert.equal(stats.requests, 3, "every frame the middleware saw is a request");
});

test("a fallback handler receives the ids that have no route", async () => {
  const app = new WireframeApp()
    .logger(captureLogger().logger)
    .route(1, () => text("routed"))
    .fallback((req) => text(`fallback for ${req.id}`));
  await using running = await serveMemory(app);
  await using raw = await connectRaw(running.port);
  await raw.write(concat(frame(7, 1n), frame(1, 2n)));
  const first = await raw.readFrame();
  assert.deepEqual([first.id, first.correlationId, str(first.payload)], [7, 1n, "fallback for 7"]);
  assert.equal(str((await raw.readFrame()).payload), "routed");
  assert.equal(running.server.stats().unroutedFrames, 0);
  assert.equal(running.server.stats().requests, 2);
});

test("reserved flag bits close only that connection, logged and counted", async () => {
  const { app, records } = echoApp();
  await using running = await serveMemory(app);
  await using bystander = await connectRaw(running.port);
  await using offender = await connectRaw(running.port);
  await offender.write(frame(1, 1n, text("fine")));
  assert.equal(str((await offender.readFrame()).payload), "fine");

  await offender.write(rawFrame(reservedFlagsBody()));
  const { rest } = await offender.readEnd("the offender's connection to close");
  assert.equal(rest.length, 0, "nothing is answered to a malformed frame");

  await bystander.write(frame(1, 1n, text("unaffected")));
  assert.equal(str((await bystander.readFrame()).payload), "unaffected");
  const stats = running.server.stats();
  assert.equal(stats.malformedFrames, 1);
  assert.equal(stats.connectionErrors, 1);
  assert.equal(stats.protocolViolations, 1);
  const violation = records.find((r) => r.message === "connection closed: protocol violation");
  assert.equal(violation?.level, "debug", "a peer's violation is no warning");
  assert.ok(violation.fields?.error instanceof EnvelopeError);
  assert.equal(violation.fields.error.reason, "reserved-flags");
});

test("an envelope shorter than its header closes the connection", async () => {
  const { app } = echoApp();
  await using running = await serveMemory(app);
  // 3 bytes: shorter than id + flags; 9 bytes: flags promise a correlation id that is not there.
  for (const body of [Uint8Array.of(0, 0, 1), concat(u32(1), Uint8Array.of(1), u32(7))]) {
    await using raw = await connectRaw(running.port);
    await raw.write(rawFrame(body));
    await raw.readEnd(`close after a ${body.length}-byte body`);
  }
  assert.equal(running.server.stats().malformedFrames, 2);
  assert.equal(running.server.stats().connectionErrors, 2);
});

test("responses to requests decoded before a malformed frame are still delivered", async () => {
  const { app } = echoApp();
  await using running = await serveMemory(app);
  await using raw = await connectRaw(running.port);
  // One write: two good requests then a malformed frame.
  await raw.write(concat(frame(1, 1n, text("a")), frame(1, 2n, text("b")), rawFrame(u32(0))));
  const { rest } = await raw.readEnd();
  assert.deepEqual(rest, concat(frame(1, 1n, text("a")), frame(1, 2n, text("b"))));
});

test('policy "drop" discards malformed frames until maxConsecutive in a row', async () => {
  const { logger } = captureLogger();
  const app = new WireframeApp()
    .logger(logger)
    .malformedFrames({ policy: "drop", maxConsecutive: 3 })
    .route(1, (req) => req.payload);
  await using running = await serveMemory(app);
  await using raw = await connectRaw(running.port);
  const bad = rawFrame(reservedFlagsBody());

  // Two in a row are dropped; a good frame resets the count.
  await raw.write(concat(bad, bad, frame(1, 1n, text("one"))));
  const first = await raw.readFrame();
  assert.deepEqual([first.correlationId, str(first.payload)], [1n, "one"]);
  await raw.write(concat(bad, bad, frame(1, 2n, text("two"))));
  assert.equal(str((await raw.readFrame()).payload), "two");
  assert.equal(running.server.stats().connectionErrors, 0);

  // The third in a row closes.
  await raw.write(concat(bad, bad, bad));
  const { rest } = await raw.readEnd("close after 3 malformed frames in a row");
  assert.equal(rest.length, 0);
  await raw.answerFin();
  await waitFor(() => running.server.stats().connectionsActive === 0, "connection ended");
  assert.equal(running.server.stats().malformedFrames, 7);
  assert.equal(running.server.stats().connectionErrors, 1);
});

test("an oversize frame closes the connection before its body arrives", async () => {
  const { app } = echoApp();
  await using running = await serveMemory(app);
  await using raw = await connectRaw(running.port);
  await raw.write(u32(1024 * 1024 + 1)); // the declared length alone; no body ever follows
  await raw.readEnd("close on the length prefix alone");
  assert.equal(running.server.stats().connectionErrors, 1);
});
