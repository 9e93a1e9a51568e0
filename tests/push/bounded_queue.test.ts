/** BoundedQueue: capacity, FIFO waiters, reserved slots, abort and close. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { BoundedQueue } from "../../src/push/bounded_queue.ts";
import { deadline } from "../e2e/_helpers.ts";

/** Let promise callbacks run. */
const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

test("tryPush fills up to capacity; shift and drain return items in FIFO order", () => {
  const q = new BoundedQueue<number>(3);
  assert.deepEqual([1, 2, 3, 4].map((n) => q.tryPush(n)), [true, true, true, false]);
  assert.equal(q.size, 3);
  assert.equal(q.peek(), 1);
  assert.equal(q.shift(), 1);
  assert.equal(q.tryPush(5), true);
  assert.deepEqual(q.drain(), [2, 3, 5]);
  assert.equal(q.size, 0);
  assert.equal(q.shift(), undefined);
  assert.equal(q.peek(), undefined);
});

test("waiting producers are granted room in FIFO order, one slot per shift", async () => {
  const q = new BoundedQueue<string>(1);
  q.tryPush("held");
  const order: string[] = [];
  const waiters = ["a", "b", "c"].map((name) =>
    q.reserve().then(() => {
      order.push(name);
      q.pushGranted(name);
    })
  );
  await tick();
  assert.deepEqual(order, [], "no room: everyone waits");
  assert.equal(q.shift(), "held");
  await tick();
  assert.deepEqual(order, ["a"]);
  assert.equal(q.shift(), "a");
  assert.equal(q.shift(), undefined, "b holds a reservation but has not pushed yet");
  await tick();
  assert.equal(q.shift(), "b");
  await deadline(Promise.all(waiters), "all waiters");
  assert.deepEqual(order, ["a", "b", "c"]);
  assert.deepEqual(q.drain(), ["c"]);
});

test("reserve on a queue with room resolves at once and holds the slot until pushGranted", async () => {
  const q = new BoundedQueue<number>(2);
  await q.reserve();
  await q.reserve();
  assert.equal(q.size, 0, "reserved slots hold no item yet");
  assert.equal(q.tryPush(1), false, "both slots are reserved");
  q.pushGranted(10);
  q.pushGranted(11);
  assert.deepEqual(q.drain(), [10, 11]);
});

test("a tryPush cannot steal a slot granted to a waiter, nor jump the queue of waiters", async () => {
  const q = new BoundedQueue<string>(1);
  q.tryPush("held");
  let granted = false;
  const waiter = q.reserve().then(() => (granted = true));
  assert.equal(q.tryPush("thief"), false, "full");
  q.shift(); // room: granted to the waiter, which has not pushed yet
  assert.equal(q.tryPush("thief"), false, "the freed slot is the waiter's");
  await waiter;
  assert.equal(granted, true);
  q.pushGranted("waiter");
  assert.deepEqual(q.drain(), ["waiter"]);

  const r = new BoundedQueue<string>(2);
  r.tryPush("x");
  r.tryPush("y");
  const late = r.reserve();
  r.shift();
  await late;
  assert.equal(r.tryPush("thief"), false, "room is reserved for the waiter");
  r.pushGranted("waiter");
  assert.deepEqual(r.drain(), ["y", "waiter"]);
});

test("an aborted reserve gives up its place: later waiters are not blocked and get the room", async () => {
  const q = new BoundedQueue<string>(1);
  q.tryPush("held");
  const controller = new AbortController();
  const first = q.reserve(controller.signal);
  const second = q.reserve().then(() => q.pushGranted("second"));
  const reason = new Error("gave up");
  controller.abort(reason);
  await assert.rejects(first, (e) => e === reason);
  q.shift();
  await deadline(second, "the second waiter gets the slot");
  assert.deepEqual(q.drain(), ["second"]);
  assert.equal(q.tryPush("next"), true, "no slot stays reserved for the aborted waiter");
});

test("an aborted reserve leaves no reservation behind even when it was the only waiter", async () => {
  const q = new BoundedQueue<string>(1);
  q.tryPush("held");
  const controller = new AbortController();
  const waiting = q.reserve(controller.signal);
  controller.abort();
  await assert.rejects(waiting);
  q.shift();
  assert.equal(q.tryPush("free"), true);
});

test("reserve with an already aborted signal rejects at once and reserves nothing", async () => {
  const q = new BoundedQueue<number>(1);
  const reason = new Error("already");
  await assert.rejects(q.reserve(AbortSignal.abort(reason)), (e) => e === reason);
  assert.equal(q.tryPush(1), true);
});

test("close rejects every waiter with the reason; held items stay; later pushes throw it", async () => {
  const q = new BoundedQueue<number>(1);
  q.tryPush(1);
  const reason = new Error("closed");
  const waiters = [q.reserve(), q.reserve()];
  q.close(() => reason);
  assert.equal(q.closed, true);
  for (const w of waiters) await assert.rejects(w, (e) => e === reason);
  await assert.rejects(q.reserve(), (e) => e === reason);
  assert.throws(() => q.tryPush(2), (e) => e === reason);
  assert.equal(q.shift(), 1, "items queued before close are still delivered");
});

test("close makes its reason once, only when it is first needed", async () => {
  const q = new BoundedQueue<number>(1);
  let made = 0;
  q.close(() => new Error(`closed ${++made}`));
  assert.equal(made, 0, "nobody waited: no reason yet");
  let thrown: unknown;
  assert.throws(() => q.tryPush(1), (e) => (thrown = e) instanceof Error);
  await assert.rejects(q.reserve(), (e) => e === thrown);
  assert.equal(made, 1);
});

test("pushGranted after close throws the reason and frees the reservation", async () => {
  const q = new BoundedQueue<number>(1);
  await q.reserve();
  const reason = new Error("closed");
  q.close(() => reason);
  assert.throws(() => q.pushGranted(1), (e) => e === reason);
  assert.equal(q.size, 0);
});
