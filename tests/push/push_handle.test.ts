/**
 * PushHandle through a real server (memory transport): typed results of
 * tryPush, push() back-pressure, the three pushWithPolicy policies, and
 * pushes to a closing or closed connection.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { PushError } from "../../src/push/errors.ts";
import { PushHandle } from "../../src/push/push_handle.ts";
import { deadline } from "../e2e/_helpers.ts";
import { big, jam, PUSH_ID, pushRig, readPushes, settle, small } from "./_server.ts";

const isPushError = (reason: PushError["reason"]) => (e: unknown) =>
  e instanceof PushError && e.reason === reason &&
  e.code === `ERR_PUSH_${reason.toUpperCase().replace("-", "_")}`;

test("pushed frames reach the peer in order, without a correlation id, high by default", async () => {
  await using rig = await pushRig();
  assert.ok(rig.handle instanceof PushHandle);
  assert.equal(rig.handle.isClosed, false);
  assert.equal(rig.handle.tryPush(small(1)), "queued");
  await rig.handle.push(small(2));
  assert.equal(await rig.handle.pushWithPolicy(small(3), { policy: "error-if-full" }), "queued");
  assert.equal(rig.handle.tryPush(small(4), { priority: "low" }), "queued");
  assert.deepEqual(await readPushes(rig.reader(), 4), [
    [PUSH_ID, undefined, 1],
    [PUSH_ID, undefined, 2],
    [PUSH_ID, undefined, 3],
    [PUSH_ID, undefined, 4],
  ]);
});

test('tryPush reports "full" per priority once a queue is at capacity, and never waits', async () => {
  await using rig = await pushRig((app) => app.pushQueues({ highCapacity: 2, lowCapacity: 3 }));
  const highQueued = await jam(rig.handle, "high");
  assert.ok(highQueued >= 2, `the writer holds a frame or two, the queue 2 (${highQueued})`);
  assert.equal(rig.handle.tryPush(small(100)), "full");
  const lows = [1, 2, 3, 4].map((n) => rig.handle.tryPush(small(200 + n), { priority: "low" }));
  assert.deepEqual(lows, ["queued", "queued", "queued", "full"], "the low queue is separate");
  // Everything queued is delivered once the peer reads: highs first, then lows.
  const got = await readPushes(rig.reader(), highQueued + 3);
  assert.deepEqual(got.map(([, , n]) => n), [
    ...Array.from({ length: highQueued }, (_, i) => i + 1),
    201,
    202,
    203,
  ]);
});

test("push() waits while the queue is full and queues once the peer reads", async () => {
  await using rig = await pushRig((app) => app.pushQueues({ highCapacity: 1 }));
  const queued = await jam(rig.handle, "high");
  let done = false;
  const waiting = rig.handle.push(big(1000)).then(() => (done = true));
  await settle();
  assert.equal(done, false, "no room: push() waits");
  const got = await readPushes(rig.reader(), queued + 1);
  await deadline(waiting, "push() resolves once there is room");
  assert.deepEqual(got.map(([, , n]) => n), [
    ...Array.from({ length: queued }, (_, i) => i + 1),
    1000,
  ]);
});

test('pushWithPolicy "error-if-full" throws PushError full; the frame is not dead-lettered', async () => {
  await using rig = await pushRig((app) => app.pushQueues({ highCapacity: 1 }));
  await jam(rig.handle, "high");
  await assert.rejects(
    rig.handle.pushWithPolicy(small(7), { policy: "error-if-full" }),
    isPushError("full"),
  );
  await settle();
  assert.deepEqual(rig.letters, []);
  assert.deepEqual(rig.logs.filter((r) => r.level === "warn"), []);
});

test('"drop-if-full" resolves "dropped" and dead-letters the frame quietly', async () => {
  await using rig = await pushRig((app) => app.pushQueues({ lowCapacity: 1 }));
  await jam(rig.handle, "high");
  rig.handle.tryPush(small(1), { priority: "low" });
  const result = await rig.handle.pushWithPolicy(small(2), {
    policy: "drop-if-full",
    priority: "low",
  });
  assert.equal(result, "dropped");
  await settle();
  assert.deepEqual(
    rig.letters.map((l) => [l.connectionId, l.priority, l.reason, l.frame.id]),
    [[rig.handle.connectionId, "low", "full", PUSH_ID]],
  );
  assert.deepEqual(rig.letters[0]!.frame, small(2));
  assert.deepEqual(rig.logs.filter((r) => r.level === "warn"), [], "no warning for drop-if-full");
});

test('"warn-and-drop-if-full" dead-letters the frame and logs a warning naming the connection', async () => {
  await using rig = await pushRig((app) => app.pushQueues({ highCapacity: 1 }));
  await jam(rig.handle, "high");
  const result = await rig.handle.pushWithPolicy(small(9), { policy: "warn-and-drop-if-full" });
  assert.equal(result, "dropped");
  await settle();
  assert.deepEqual(rig.letters.map((l) => [l.priority, l.reason, l.frame]), [
    ["high", "full", small(9)],
  ]);
  const warns = rig.logs.filter((r) => r.level === "warn");
  assert.equal(warns.length, 1);
  assert.equal(warns[0]!.message, "push queue full: frame dropped");
  assert.deepEqual(warns[0]!.fields, { connectionId: rig.handle.connectionId, priority: "high" });
});

test("dropped frames never reach the wire; frames queued before and after do", async () => {
  await using rig = await pushRig((app) => app.pushQueues({ highCapacity: 1 }));
  const queued = await jam(rig.handle, "high");
  for (const policy of ["drop-if-full", "warn-and-drop-if-full"] as const) {
    assert.equal(await rig.handle.pushWithPolicy(small(500), { policy }), "dropped");
  }
  const raw = rig.reader();
  const got = await readPushes(raw, queued);
  await rig.handle.push(small(600));
  got.push(...await readPushes(raw, 1));
  assert.deepEqual(got.map(([, , n]) => n), [
    ...Array.from({ length: queued }, (_, i) => i + 1),
    600,
  ]);
});

test("a push to a closed connection fails with closed under every kind of push and policy", async () => {
  await using rig = await pushRig();
  rig.peer.close();
  await deadline(rig.handle.closed, "handle.closed after the peer left");
  assert.equal(rig.handle.isClosed, true);
  for (const priority of ["high", "low"] as const) {
    assert.equal(rig.handle.tryPush(small(1), { priority }), "closed");
    await assert.rejects(rig.handle.push(small(1), { priority }), isPushError("closed"));
    for (const policy of ["error-if-full", "drop-if-full", "warn-and-drop-if-full"] as const) {
      await assert.rejects(
        rig.handle.pushWithPolicy(small(1), { policy, priority }),
        isPushError("closed"),
      );
    }
  }
  await settle();
  assert.deepEqual(rig.letters, [], "a refused push is not a dead letter");
});

test("pushes fail with closed as soon as a graceful shutdown starts; queued ones are still delivered", async () => {
  await using rig = await pushRig((app) => app.pushQueues({ highCapacity: 2 }));
  const queued = await jam(rig.handle, "high");
  const shutdown = rig.running.server.shutdown({ timeoutMs: 10_000 });
  await deadline(rig.handle.closed, "closing");
  assert.equal(rig.handle.tryPush(small(1)), "closed");
  await assert.rejects(rig.handle.push(small(2)), isPushError("closed"));
  await assert.rejects(
    rig.handle.pushWithPolicy(small(3), { policy: "drop-if-full" }),
    isPushError("closed"),
  );
  const raw = rig.reader();
  const got = await readPushes(raw, queued);
  assert.deepEqual(got.map(([, , n]) => n), Array.from({ length: queued }, (_, i) => i + 1));
  await raw.answerFin();
  assert.equal((await raw.readEnd()).how, "eof");
  await deadline(shutdown, "shutdown");
});

test("a push() waiting for room when the connection closes fails with closed", async () => {
  await using rig = await pushRig((app) => app.pushQueues({ highCapacity: 1 }));
  await jam(rig.handle, "high");
  const waiting = [rig.handle.push(small(1)), rig.handle.push(small(2))];
  rig.peer.close();
  for (const push of waiting) await assert.rejects(push, isPushError("closed"));
});

test("pushWithPolicyNow answers at once when nothing has to wait: queued, dropped (dead-lettered), full, closed", async () => {
  await using rig = await pushRig((app) => app.pushQueues({ highCapacity: 1 }));
  const { handle } = rig;
  assert.equal(handle.pushWithPolicyNow(small(1), { policy: "drop-if-full" }), "queued");
  await jam(handle, "high");
  assert.equal(handle.pushWithPolicyNow(small(2), { policy: "drop-if-full" }), "dropped");
  assert.equal(handle.pushWithPolicyNow(small(3), { policy: "error-if-full" }), "full");
  assert.deepEqual(rig.letters.map((l) => [l.reason, l.frame]), [["full", small(2)]]);
  rig.peer.close();
  await deadline(handle.closed, "closed");
  assert.equal(handle.pushWithPolicyNow(small(4), { policy: "drop-if-full" }), "closed");
});

test("pushWithPolicyNow returns a promise only to wait for a rate token, and then queues", async () => {
  await using rig = await pushRig((app) => app.rateLimit({ perSecond: 1000, burst: 1 }));
  const { handle } = rig;
  assert.equal(handle.pushWithPolicyNow(small(1), { policy: "drop-if-full" }), "queued");
  const later = handle.pushWithPolicyNow(small(2), { policy: "drop-if-full" });
  assert.ok(later instanceof Promise, "the bucket is empty: wait for a token");
  assert.equal(await deadline(later, "a token at 1000/s"), "queued");
  assert.deepEqual((await readPushes(rig.reader(), 2)).map(([, , n]) => n), [1, 2]);
});
