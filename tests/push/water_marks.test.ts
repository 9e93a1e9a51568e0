/**
 * The outbound byte bound of one connection's push queues (WaterMarks shared
 * with its frame writer): refused or waiting above the high mark, let in again
 * at the low mark, in order, and nothing left waiting once the queues close.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Envelope } from "../../src/codec/envelope.ts";
import { silentLogger } from "../../src/observe/logger.ts";
import { type DeadLetter, DeadLetterSink } from "../../src/push/dead_letter.ts";
import { PushError } from "../../src/push/errors.ts";
import { PushHandle } from "../../src/push/push_handle.ts";
import { PushQueues } from "../../src/push/push_queues.ts";
import { WaterMarks } from "../../src/_internal/water_marks.ts";

const frame = (n: number, bytes = 100): Envelope => {
  const payload = new Uint8Array(bytes);
  payload[0] = n;
  return { id: 1, payload };
};

/** Queues bounded at 1,000 bytes (low 400), with a handle and collected dead letters. */
function rig() {
  const marks = new WaterMarks({ highWaterMark: 1_000, lowWaterMark: 400 });
  const letters: DeadLetter[] = [];
  const queues = new PushQueues({
    connectionId: 3,
    highCapacity: 1_000,
    lowCapacity: 1_000,
    logger: silentLogger,
    marks,
    deadLetters: new DeadLetterSink(
      new WritableStream({ write: (letter) => void letters.push(letter) }),
      silentLogger,
    ),
  });
  /** The consumer: take `count` frames (high first), as the actor hands them to the writer. */
  const take = (count: number): number[] => {
    const out: number[] = [];
    for (let i = 0; i < count; i++) {
      const next = queues.take("high") ?? queues.take("low");
      if (next === undefined) break;
      queues.handedOff(next);
      out.push(next.payload[0]!);
    }
    return out;
  };
  return { marks, queues, handle: new PushHandle(queues), letters, take };
}

test("above the high water mark tryPush is full and drop policies dead-letter, until the bytes fall back to the low mark", async () => {
  const { marks, handle, letters, take } = rig();
  for (let n = 0; n < 10; n++) assert.equal(handle.tryPush(frame(n)), "queued");
  assert.equal(marks.bytes, 1_000);
  assert.equal(marks.above, true);
  assert.equal(handle.tryPush(frame(10), { priority: "low" }), "full");
  assert.equal(await handle.pushWithPolicy(frame(11), { policy: "drop-if-full" }), "dropped");
  await assert.rejects(
    handle.pushWithPolicy(frame(12), { policy: "error-if-full" }),
    (e) => e instanceof PushError && e.reason === "full",
  );
  take(5); // 500 bytes left: still above, the low mark is 400
  assert.equal(handle.tryPush(frame(13)), "full", "hysteresis: not below the low mark yet");
  take(1);
  assert.equal(marks.above, false);
  assert.equal(handle.tryPush(frame(14)), "queued");
  await Promise.resolve();
  assert.deepEqual(letters.map((l) => [l.connectionId, l.reason, l.frame.payload[0]]), [[
    3,
    "full",
    11,
  ]]);
});

test("push() waits above the high mark and is let in, in call order, once the bytes reach the low mark", async () => {
  const { marks, handle, take } = rig();
  for (let n = 0; n < 10; n++) handle.tryPush(frame(n));
  const order: number[] = [];
  const waiting = [20, 21, 22].map((n) => handle.push(frame(n)).then(() => order.push(n)));
  assert.equal(handle.tryPush(frame(30)), "full");
  take(5);
  await Promise.resolve();
  assert.deepEqual(order, [], "still above");
  assert.equal(handle.tryPush(frame(31)), "full", "a tryPush does not overtake waiting pushes");
  take(1); // 400 bytes: drained
  await Promise.all(waiting);
  assert.deepEqual(order, [20, 21, 22]);
  assert.equal(marks.bytes, 700);
  assert.deepEqual(take(100), [6, 7, 8, 9, 20, 21, 22], "nothing lost, nothing out of order");
});

test("let in at the low mark, waiting pushes stop at the high mark again", async () => {
  const { handle, take } = rig();
  for (let n = 0; n < 10; n++) handle.tryPush(frame(n));
  let admitted = 0;
  const waiting = Array.from(
    { length: 10 },
    (_, i) => handle.push(frame(50 + i)).then(() => admitted++),
  );
  take(6);
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(admitted, 6, "400 bytes + 6 × 100 reaches the high mark");
  take(100);
  await Promise.all(waiting);
  assert.equal(admitted, 10);
});

test("a push() waiting for bytes gives up its place when its signal fires, and rejects closed when the connection closes", async () => {
  const { handle, queues, take } = rig();
  for (let n = 0; n < 10; n++) handle.tryPush(frame(n));
  const abort = new AbortController();
  const aborted = handle.push(frame(40), { signal: abort.signal });
  const closed = handle.push(frame(41));
  abort.abort(new Error("gave up"));
  await assert.rejects(aborted, /gave up/);
  queues.close();
  await assert.rejects(closed, (e) => e instanceof PushError && e.reason === "closed");
  assert.deepEqual(
    take(100),
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    "what was queued stays for the consumer",
  );
});

test("a push() granted its slot just as the connection closes rejects closed rather than waiting for bytes", async () => {
  const marks = new WaterMarks({ highWaterMark: 1_000, lowWaterMark: 400 });
  const queues = new PushQueues({
    connectionId: 1,
    highCapacity: 1,
    lowCapacity: 1,
    logger: silentLogger,
    marks,
  });
  const handle = new PushHandle(queues);
  assert.equal(handle.tryPush(frame(0, 1_000)), "queued"); // the queue is full, the bytes above
  const late = handle.push(frame(1));
  await Promise.resolve();
  queues.take("high"); // a slot for the waiting push; the bytes stay counted until handed off
  queues.close();
  await assert.rejects(late, (e) => e instanceof PushError && e.reason === "closed");
});

test("discarding the queues uncounts their bytes", () => {
  const { marks, handle, queues } = rig();
  for (let n = 0; n < 5; n++) handle.tryPush(frame(n));
  assert.equal(queues.discard(), 5);
  assert.equal(marks.bytes, 0);
});
