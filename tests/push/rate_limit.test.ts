/**
 * The per-connection rate limit through a real server: one token bucket for
 * both priorities, enforced on every kind of push, and an abandoned waiting
 * push() keeps neither its token nor its queue slot.
 *
 * "No refill" tests use 0.001 tokens/s (one per 1000 s): the bucket holds
 * exactly its burst for the whole test. The one test that needs refills
 * uses 1000/s and asserts order and counts only.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { deadline } from "../e2e/_helpers.ts";
import { big, jam, pushRig, readPushes, settle, small } from "./_server.ts";

const NO_REFILL = 0.001;

/** Count tryPush("low") successes until the bucket says rate-limited. */
function drainTokens(push: (n: number) => string): number {
  let n = 0;
  while (true) {
    const result = push(n);
    if (result === "rate-limited") return n;
    assert.equal(result, "queued");
    n++;
  }
}

test("one bucket is shared by both priorities; tryPush reports rate-limited for either", async () => {
  await using rig = await pushRig((app) => app.rateLimit({ perSecond: NO_REFILL, burst: 3 }));
  const { handle } = rig;
  assert.equal(handle.tryPush(small(1)), "queued");
  assert.equal(handle.tryPush(small(2), { priority: "low" }), "queued");
  assert.equal(handle.tryPush(small(3)), "queued");
  assert.equal(handle.tryPush(small(4)), "rate-limited");
  assert.equal(handle.tryPush(small(5), { priority: "low" }), "rate-limited");
  const got = await readPushes(rig.reader(), 3);
  assert.deepEqual(got.map(([, , n]) => n), [1, 2, 3]);
});

test("push() and every pushWithPolicy policy wait for a token instead of failing or dropping", async () => {
  await using rig = await pushRig((app) => app.rateLimit({ perSecond: NO_REFILL, burst: 1 }));
  const { handle } = rig;
  assert.equal(handle.tryPush(small(1), { priority: "low" }), "queued");
  const controller = new AbortController();
  const { signal } = controller;
  const outcomes: string[] = [];
  const waiting = [
    handle.push(small(2), { signal }),
    handle.push(small(3), { signal, priority: "low" }),
    ...(["error-if-full", "drop-if-full", "warn-and-drop-if-full"] as const).map((policy) =>
      handle.pushWithPolicy(small(4), { policy, signal })
    ),
  ].map((p) => p.then((v) => void outcomes.push(`resolved ${v}`), (e) => void outcomes.push(e)));
  await settle();
  await settle();
  assert.deepEqual(outcomes, [], "all five wait for a token");
  assert.equal(handle.tryPush(small(5)), "rate-limited");
  const reason = new Error("gave up");
  controller.abort(reason);
  await deadline(Promise.all(waiting), "aborted pushes settle");
  assert.deepEqual(outcomes, Array(5).fill(reason));
  await settle();
  assert.deepEqual(rig.letters, [], "a rate-limited policy push is not dropped");
});

test("with refills, waiting pushes of both priorities get tokens in call order", async () => {
  await using rig = await pushRig((app) => app.rateLimit({ perSecond: 1000, burst: 1 }));
  const { handle } = rig;
  const pushes = Array.from(
    { length: 30 },
    (_, n) => handle.push(small(n), { priority: n % 3 === 0 ? "low" : "high" }),
  );
  assert.equal(handle.tryPush(small(99)), "rate-limited", "tryPush cannot jump the waiters");
  await deadline(Promise.all(pushes), "30 pushes at 1000/s");
  const got = await readPushes(rig.reader(), 30);
  assert.deepEqual(got.map(([, , n]) => n), Array.from({ length: 30 }, (_, n) => n));
});

test("a waiting push() whose signal aborts gives back its token and its place in the queue", async () => {
  const burst = 50;
  await using rig = await pushRig((app) =>
    app
      .pushQueues({ highCapacity: 1, lowCapacity: 100 })
      .rateLimit({ perSecond: NO_REFILL, burst })
  );
  const { handle } = rig;
  const jammed = await jam(handle, "high"); // one token each; "full" attempts give theirs back
  const controller = new AbortController();
  const abandoned = handle.push(big(900), { signal: controller.signal });
  const behind = handle.push(big(901));
  await settle();
  const reason = new Error("gave up");
  controller.abort(reason);
  await assert.rejects(abandoned, (e) => e === reason);

  // Tokens: `jammed` + one for the push still waiting; the abandoned one came back.
  const lows = drainTokens((n) => handle.tryPush(small(1000 + n), { priority: "low" }));
  assert.equal(lows, burst - jammed - 1);

  // Its queue slot: the push behind it gets the room once the peer reads; 900 never appears.
  const got = await readPushes(rig.reader(), jammed + 1 + lows);
  await deadline(behind, "the push behind the abandoned one is queued");
  const highs = got.map(([, , n]) => n).filter((n) => n < 1000);
  assert.deepEqual(highs, [...Array.from({ length: jammed }, (_, i) => i + 1), 901]);
  const lowSeqs = got.map(([, , n]) => n).filter((n) => n >= 1000);
  assert.deepEqual(lowSeqs, Array.from({ length: lows }, (_, i) => 1000 + i));
});

test("tryPush on a full queue gives its token back", async () => {
  const burst = 40;
  await using rig = await pushRig((app) =>
    app
      .pushQueues({ highCapacity: 1, lowCapacity: 100 })
      .rateLimit({ perSecond: NO_REFILL, burst })
  );
  const { handle } = rig;
  const jammed = await jam(handle, "high");
  for (let i = 0; i < 5; i++) assert.equal(handle.tryPush(small(i)), "full");
  const lows = drainTokens((n) => handle.tryPush(small(1000 + n), { priority: "low" }));
  assert.equal(lows, burst - jammed, "five full tryPush calls kept no token");
});
