/**
 * The dead-letter queue never blocks a pusher: a DLQ stream with no room (or
 * a failed one) loses letters, counted and logged with a throttle; dropped
 * and force-closed frames reach a DLQ that has room, with their connection
 * id and priority.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { type DeadLetter, DeadLetterSink } from "../../src/push/dead_letter.ts";
import { captureLogger, deadline } from "../e2e/_helpers.ts";
import { appSpec, WireframeApp } from "../../src/app/app.ts";
import { WireframeServer } from "../../src/server/server.ts";
import { memoryTransport } from "../../src/transport/memory.ts";
import { jam, pushRig, settle, small } from "./_server.ts";

/** A DLQ stream that accepts one letter and never finishes writing it. */
function stalledDeadLetters(): { stream: WritableStream<DeadLetter>; received: DeadLetter[] } {
  const received: DeadLetter[] = [];
  const stream = new WritableStream<DeadLetter>(
    {
      write: (letter) => {
        received.push(letter);
        return new Promise<void>(() => {}); // never reads on
      },
    },
    new CountQueuingStrategy({ highWaterMark: 1 }),
  );
  return { stream, received };
}

const letter = (n: number): DeadLetter => ({
  connectionId: n,
  priority: "low",
  frame: small(n),
  reason: "full",
});

test("a DLQ with no room loses letters without waiting: counted, and logged throttled", async () => {
  const { logger, records } = captureLogger();
  const dlq = stalledDeadLetters();
  const sink = new DeadLetterSink(dlq.stream, logger);
  for (let n = 1; n <= 1000; n++) sink.offer(letter(n)); // synchronous: offer() never waits
  await settle();
  assert.deepEqual(dlq.received.map((l) => l.connectionId), [1], "one letter fitted");
  assert.equal(sink.lost, 999);
  const warns = records.filter((r) => r.level === "warn");
  assert.ok(warns.length >= 1 && warns.length < 10, `throttled: ${warns.length} warnings`);
  assert.equal(warns[0]!.message, "dead-letter queue full: frames lost");
  assert.deepEqual(warns[0]!.fields, { lost: 1, lostTotal: 1, lastConnectionId: 2 });
});

test("a failed DLQ stream loses every later letter, counted", async () => {
  const { logger, records } = captureLogger();
  const stream = new WritableStream<DeadLetter>({
    write: () => Promise.reject(new Error("dlq broken")),
  });
  const sink = new DeadLetterSink(stream, logger);
  sink.offer(letter(1)); // accepted, then fails
  await settle();
  sink.offer(letter(2));
  sink.offer(letter(3));
  await settle();
  assert.equal(sink.lost, 3);
  assert.ok(records.some((r) => r.message === "dead-letter queue full: frames lost"));
});

test("through a server: drop policies resolve at once while the DLQ never reads; losses are logged", async () => {
  const dlq = stalledDeadLetters();
  await using rig = await pushRig((app) =>
    app.pushQueues({ highCapacity: 1 }).deadLetterQueue(dlq.stream)
  );
  await jam(rig.handle, "high");
  for (let n = 1; n <= 50; n++) {
    const policy = n % 2 === 0 ? "drop-if-full" : "warn-and-drop-if-full";
    assert.equal(
      await deadline(rig.handle.pushWithPolicy(small(n), { policy }), `drop ${n}`),
      "dropped",
    );
  }
  await settle();
  assert.deepEqual(dlq.received.map((l) => [l.connectionId, l.priority, l.reason, l.frame]), [
    [rig.handle.connectionId, "high", "full", small(1)],
  ]);
  const losses = rig.logs.filter((r) => r.message === "dead-letter queue full: frames lost");
  assert.ok(losses.length >= 1, "the loss is reported");
  assert.deepEqual(losses[0]!.fields, {
    lost: 1,
    lostTotal: 1,
    lastConnectionId: rig.handle.connectionId,
  });
  const dropWarnings = rig.logs.filter((r) => r.message === "push queue full: frame dropped");
  assert.equal(dropWarnings.length, 25, "one warning per warn-and-drop");
});

test("pushes still queued when a connection is force-closed go to the DLQ as connection-closed", async () => {
  await using rig = await pushRig((app) => app.pushQueues({ highCapacity: 3, lowCapacity: 3 }));
  await jam(rig.handle, "high");
  for (let n = 1; n <= 3; n++) {
    assert.equal(rig.handle.tryPush(small(100 + n), { priority: "low" }), "queued");
  }
  // The peer never reads, so the graceful part of shutdown cannot finish: it force-closes.
  await deadline(rig.running.server.shutdown({ timeoutMs: 0 }), "shutdown");
  await settle();
  const lows = rig.letters.filter((l) => l.priority === "low");
  assert.deepEqual(lows.map((l) => [l.connectionId, l.reason, l.frame]), [
    [rig.handle.connectionId, "connection-closed", small(101)],
    [rig.handle.connectionId, "connection-closed", small(102)],
    [rig.handle.connectionId, "connection-closed", small(103)],
  ]);
  const highs = rig.letters.filter((l) => l.priority === "high");
  assert.equal(highs.length, 3, "the full high queue");
  assert.ok(highs.every((l) => l.reason === "connection-closed"));
});

test("a force-close that discards queued pushes is logged with their count", async () => {
  await using rig = await pushRig((app) => app.pushQueues({ highCapacity: 2, lowCapacity: 4 }));
  await jam(rig.handle, "high");
  for (let n = 1; n <= 4; n++) rig.handle.tryPush(small(n), { priority: "low" });
  await deadline(rig.running.server.shutdown({ timeoutMs: 0 }), "shutdown");
  await settle();
  assert.equal(rig.letters.length, 6);
  const warns = rig.logs.filter((r) => r.message === "connection closed with pushes still queued");
  assert.deepEqual(warns.map((r) => r.fields), [
    { connectionId: rig.handle.connectionId, discarded: 6, deadLettered: true },
  ]);
});

test("one app served by two servers (say TCP and WebSocket) shares its dead-letter stream", async () => {
  const letters: DeadLetter[] = [];
  const app = new WireframeApp()
    .logger(captureLogger().logger)
    .deadLetterQueue(new WritableStream<DeadLetter>({ write: (l) => void letters.push(l) }));
  await using tcp = new WireframeServer(app);
  await using memory = new WireframeServer(app, { transport: memoryTransport });
  await tcp.listen({ hostname: "127.0.0.1", port: 0 }); // the second listen found the stream locked
  await memory.listen({ port: 0 });
  const stream = appSpec(app).deadLetterStream!;
  assert.equal(
    DeadLetterSink.for(stream, captureLogger().logger),
    DeadLetterSink.for(stream, captureLogger().logger),
  );
  assert.deepEqual(letters, []);
});
