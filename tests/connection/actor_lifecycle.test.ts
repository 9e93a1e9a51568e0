/**
 * OutboundActor back-pressure and lifecycle: a busy writer pauses the actor
 * (bounded memory), close() refuses new pushes and flushes queued ones,
 * abort() dead-letters what is left, and faults of beforeSend or the writer.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { PushError } from "../../src/push/errors.ts";
import { deadline } from "../e2e/_helpers.ts";
import { GatedSink, high, low, makeActor, response, settle, tag } from "./_actor.ts";

/** Track whether a promise has settled, without awaiting it. */
function track<T>(promise: Promise<T>): { settled: () => boolean; promise: Promise<T> } {
  let settled = false;
  const p = promise.finally(() => (settled = true));
  p.catch(() => {});
  return { settled: () => settled, promise: p };
}

test("a writer with no room pauses the actor: one frame in the writer, the rest bounded by the queues", async () => {
  const sink = new GatedSink(false);
  const rig = makeActor({ sink, highCapacity: 4, lowCapacity: 2 });
  const results = [];
  for (let n = 1; n <= 8; n++) results.push(rig.queues.tryPush(high(n), "high", true));
  for (let n = 1; n <= 3; n++) results.push(rig.queues.tryPush(low(n), "low", true));
  const reply = track(rig.actor.offerResponse(response(0)) ?? Promise.resolve());
  await settle();
  await settle();
  // h1 went to the writer at once (no room behind it), h2-h5 filled the high queue;
  // once the writer took h1 into its (blocked) write, h2 moved into the writer.
  assert.deepEqual(rig.chosen, ["h1", "h2"], "the actor stops choosing while the writer is full");
  assert.equal(sink.writes, 1);
  assert.deepEqual(results, [
    ...Array(5).fill("queued"),
    "full",
    "full",
    "full",
    "queued",
    "queued",
    "full",
  ]);
  assert.equal(reply.settled(), false, "the response frame waits too");

  sink.open();
  await deadline(reply.promise, "response frame taken");
  await deadline(rig.actor.idle(), "actor idle");
  await deadline(rig.writer.flush(), "flush");
  assert.deepEqual(sink.wire(), ["h1", "h2", "h3", "h4", "h5", "l1", "l2", "r0"]);
});

test("push() waits for room while the writer is busy and queues once the writer drains", async () => {
  const sink = new GatedSink(false);
  const rig = makeActor({ sink, highCapacity: 1 });
  rig.queues.tryPush(high(1), "high", true); // being written
  await settle();
  rig.queues.tryPush(high(2), "high", true); // waits in the writer
  rig.queues.tryPush(high(3), "high", true); // fills the queue
  const waiting = track(rig.queues.push(high(4), "high", undefined));
  await settle();
  assert.equal(waiting.settled(), false, "no room: push() waits");
  assert.equal(rig.queues.tryPush(high(5), "high", true), "full");
  sink.open();
  await deadline(waiting.promise, "push() after room");
  await deadline(rig.actor.idle(), "idle");
  await deadline(rig.writer.flush(), "flush");
  assert.deepEqual(sink.wire(), ["h1", "h2", "h3", "h4"]);
});

test("close() refuses new pushes with closed; queued pushes are flushed and idle() resolves after", async () => {
  const sink = new GatedSink(false);
  const rig = makeActor({ sink, highCapacity: 1 });
  rig.queues.tryPush(high(1), "high", true);
  await settle();
  rig.queues.tryPush(high(2), "high", true);
  rig.queues.tryPush(low(1), "low", true);
  rig.queues.tryPush(high(3), "high", true);
  const waiting = track(rig.queues.push(high(4), "high", undefined)); // no room: waits

  rig.actor.close();
  assert.equal(rig.queues.isClosed, true);
  await deadline(rig.queues.closed, "closed promise");
  await assert.rejects(waiting.promise, (e) => e instanceof PushError && e.reason === "closed");
  assert.equal(rig.queues.tryPush(high(5), "high", true), "closed");
  assert.equal(rig.queues.tryPush(low(5), "low", false), "closed");
  await assert.rejects(
    rig.queues.push(low(6), "low", undefined),
    (e) => e instanceof PushError && e.reason === "closed",
  );
  await assert.rejects(
    rig.queues.takeRateToken(undefined),
    (e) => e instanceof PushError && e.reason === "closed",
  );

  const idle = track(rig.actor.idle());
  await settle();
  assert.equal(idle.settled(), false, "queued pushes are not out yet");
  sink.open();
  await deadline(idle.promise, "idle after the flush");
  await deadline(rig.writer.flush(), "flush");
  assert.deepEqual(sink.wire(), ["h1", "h2", "h3", "l1"]);
  assert.deepEqual(rig.letters, [], "a graceful close dead-letters nothing");
});

test("abort() dead-letters queued pushes with reason connection-closed and fails the held response frame", async () => {
  const sink = new GatedSink(false);
  const rig = makeActor({ sink });
  rig.queues.tryPush(high(1), "high", true);
  await settle();
  rig.queues.tryPush(high(2), "high", true); // in the writer: not the actor's any more
  rig.queues.tryPush(low(1), "low", true);
  rig.queues.tryPush(high(3), "high", true);
  rig.queues.tryPush(low(2), "low", true);
  const held = rig.actor.offerResponse(response(0));
  assert.ok(held instanceof Promise);

  assert.equal(rig.actor.abort(), 3);
  await assert.rejects(held, (e) => e instanceof PushError && e.reason === "closed");
  await deadline(rig.actor.idle(), "idle after abort");
  assert.equal(rig.queues.tryPush(high(9), "high", true), "closed");
  await settle();
  assert.deepEqual(
    rig.letters.map((l) => [l.connectionId, l.priority, l.reason, tag(l.frame)]),
    [
      [7, "high", "connection-closed", "h3"],
      [7, "low", "connection-closed", "l1"],
      [7, "low", "connection-closed", "l2"],
    ],
  );
  sink.open();
  await deadline(rig.writer.flush(), "flush");
  assert.deepEqual(sink.wire(), ["h1", "h2"], "dead-lettered frames never reach the wire");
});

test("a push frame whose beforeSend throws is dropped and reported; the others go out", async () => {
  const boom = new Error("no");
  const rig = makeActor({
    beforeSend: (frame) => {
      if (tag(frame) === "h2") throw boom;
      return frame;
    },
  });
  for (let n = 1; n <= 3; n++) rig.queues.tryPush(high(n), "high", true);
  await deadline(rig.actor.idle(), "idle");
  await deadline(rig.writer.flush(), "flush");
  assert.deepEqual(rig.sink.wire(), ["h1", "h3"]);
  assert.deepEqual(rig.pushFaults.map((f) => [f.error, tag(f.frame)]), [[boom, "h2"]]);
});

test("a response frame whose beforeSend throws fails that offer, not the actor", async () => {
  const boom = new Error("no");
  const rig = makeActor({
    beforeSend: (frame) => {
      if (tag(frame) === "r1") throw boom;
      return frame;
    },
  });
  assert.equal(rig.actor.offerResponse(response(0)), undefined);
  const held = rig.actor.offerResponse(response(1));
  assert.ok(held instanceof Promise, "r0 is still in the writer");
  await assert.rejects(held, (e) => e === boom);
  await deadline(rig.actor.offerResponse(response(2)) ?? Promise.resolve(), "r2");
  rig.queues.tryPush(high(1), "high", true);
  await deadline(rig.actor.idle(), "idle");
  await deadline(rig.writer.flush(), "flush");
  assert.deepEqual(rig.sink.wire(), ["r0", "r2", "h1"]);
});

test("a failed write ends the actor: queued pushes are dead-lettered, the held response fails", async () => {
  const broken = new Error("socket gone");
  let fail!: (error: unknown) => void;
  const sink = new GatedSink(true, () => new Promise((_, reject) => (fail = reject)));
  const rig = makeActor({ sink });
  rig.queues.tryPush(high(1), "high", true);
  await settle();
  rig.queues.tryPush(high(2), "high", true);
  rig.queues.tryPush(low(1), "low", true);
  const held = rig.actor.offerResponse(response(0));
  assert.ok(held instanceof Promise);
  fail(broken);
  await assert.rejects(held, (e) => e === broken);
  await deadline(rig.actor.idle(), "idle");
  assert.equal(rig.queues.isClosed, true);
  assert.equal(rig.queues.tryPush(high(3), "high", true), "closed");
  assert.throws(() => rig.actor.offerResponse(response(1)), (e) => e === broken);
  await settle();
  assert.deepEqual(rig.letters.map((l) => [l.reason, tag(l.frame)]), [["connection-closed", "l1"]]);
  assert.equal(
    rig.actor.abort(),
    1,
    "the connection's final abort() reports what the failure discarded",
  );
  assert.equal(rig.actor.abort(), 0, "once");
});
