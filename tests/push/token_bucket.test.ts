/**
 * TokenBucket: burst, tryTake, FIFO take, abort, giveBack, close.
 *
 * Refill is driven by an injected clock. The bucket's own wake-up timer is
 * real; where a test needs it, tokens are made available on the fake clock
 * first, so the timer only decides *when* a waiter is served, never *whether*
 * or in what order.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { TokenBucket } from "../../src/push/token_bucket.ts";
import { deadline } from "../e2e/_helpers.ts";

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

/** A manual clock in ms. */
function manualClock() {
  let now = 0;
  return { clock: () => now, advance: (ms: number) => void (now += ms) };
}

test("a bucket starts full: burst tokens now, then none until the clock refills it", () => {
  const time = manualClock();
  const bucket = new TokenBucket(10, 3, time.clock); // one token every 100 ms
  assert.deepEqual([1, 2, 3, 4].map(() => bucket.tryTake()), [true, true, true, false]);
  time.advance(99);
  assert.equal(bucket.tryTake(), false);
  time.advance(1);
  assert.equal(bucket.tryTake(), true);
  time.advance(10_000);
  assert.equal(bucket.available, 3, "refill is capped at the burst");
});

test("take() resolves at once while tokens last, then waiters are served in FIFO order", async () => {
  const time = manualClock();
  const bucket = new TokenBucket(1000, 1, time.clock); // 1 token per ms
  await bucket.take();
  const order: number[] = [];
  const waiters = [1, 2, 3].map((n) => bucket.take().then(() => void order.push(n)));
  await tick();
  assert.deepEqual(order, [], "no token yet on the fake clock");
  assert.equal(bucket.tryTake(), false, "tryTake cannot jump the queue of waiters");
  for (const served of [[1], [1, 2], [1, 2, 3]]) {
    time.advance(1); // one more token
    await deadline(waiters[served.length - 1]!, `waiter ${served.length}`);
    await tick();
    assert.deepEqual(order, served, "one token serves exactly one waiter, the oldest");
  }
  assert.equal(bucket.tryTake(), false, "each waiter took exactly one token");
});

test("an aborted take() rejects with the signal's reason, takes nothing and leaves the queue", async () => {
  const time = manualClock();
  const bucket = new TokenBucket(1000, 1, time.clock);
  assert.equal(bucket.tryTake(), true);
  const controller = new AbortController();
  const reason = new Error("gave up");
  const first = bucket.take(controller.signal);
  const second = bucket.take();
  controller.abort(reason);
  await assert.rejects(first, (e) => e === reason);
  time.advance(1); // exactly one token: it must go to the second waiter
  await deadline(second, "the waiter behind the aborted one");
  assert.equal(bucket.tryTake(), false, "the one token went to the second waiter");
  time.advance(1);
  assert.equal(bucket.tryTake(), true, "nothing was held back for the aborted waiter");
});

test("take() with an already aborted signal rejects and takes nothing", async () => {
  const bucket = new TokenBucket(1, 1, () => 0);
  const reason = new Error("already");
  await assert.rejects(bucket.take(AbortSignal.abort(reason)), (e) => e === reason);
  assert.equal(bucket.tryTake(), true);
});

test("giveBack returns a token, serving a waiter first, and never exceeds the burst", async () => {
  const bucket = new TokenBucket(0.001, 2, () => 0); // no refill during the test
  assert.equal(bucket.tryTake(), true);
  assert.equal(bucket.tryTake(), true);
  assert.equal(bucket.tryTake(), false);
  bucket.giveBack();
  assert.equal(bucket.tryTake(), true);

  const waiter = bucket.take();
  bucket.giveBack();
  await deadline(waiter, "the waiter gets the returned token");
  assert.equal(bucket.tryTake(), false);

  bucket.giveBack();
  bucket.giveBack();
  bucket.giveBack();
  assert.equal(bucket.available, 2, "capped at the burst");
});

test("close rejects every waiter with the reason", async () => {
  const bucket = new TokenBucket(0.001, 1, () => 0);
  bucket.tryTake();
  const reason = new Error("closed");
  const waiters = [bucket.take(), bucket.take()];
  bucket.close(() => reason);
  for (const w of waiters) await assert.rejects(w, (e) => e === reason);
});

test("close with no waiter makes no reason", () => {
  const bucket = new TokenBucket(1, 1, () => 0);
  bucket.close(() => assert.fail("no waiter is rejected, so no reason is needed"));
});

test("with the real clock, a fast bucket serves many waiters in order and each gets one token", async () => {
  const bucket = new TokenBucket(1000, 1);
  bucket.tryTake();
  const order: number[] = [];
  const all = Array.from({ length: 20 }, (_, n) => bucket.take().then(() => void order.push(n)));
  await deadline(Promise.all(all), "20 tokens at 1000/s");
  assert.deepEqual(order, Array.from({ length: 20 }, (_, n) => n));
});
