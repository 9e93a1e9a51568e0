import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { AsyncQueue } from "../../src/_internal/async_queue.ts";

test("AsyncQueue delivers items in FIFO order to a waiting or later consumer", async () => {
  await fc.assert(fc.asyncProperty(fc.array(fc.integer(), { maxLength: 50 }), async (items) => {
    const queue = new AsyncQueue<number>(1000);
    const consumed = (async () => {
      const out: number[] = [];
      for await (const item of queue) out.push(item);
      return out;
    })();
    for (const item of items) queue.push(item);
    queue.end();
    assert.deepEqual(await consumed, items);
  }));
});

test("AsyncQueue tells the producer to wait when full and wakes it when there is room", async () => {
  const queue = new AsyncQueue<number>(2);
  assert.equal(queue.push(1), undefined);
  const wait = queue.push(2);
  assert.ok(wait instanceof Promise);
  let woken = false;
  void wait.then(() => (woken = true));
  await Promise.resolve();
  assert.equal(woken, false);
  assert.deepEqual(await queue.next(), { done: false, value: 1 });
  await wait;
  assert.equal(woken, true);
});

test("AsyncQueue fail() delivers buffered items first, then the error", async () => {
  const queue = new AsyncQueue<number>(10);
  queue.push(1);
  queue.fail(new Error("gone"));
  assert.deepEqual(await queue.next(), { done: false, value: 1 });
  await assert.rejects(queue.next(), /gone/);
});

test("AsyncQueue runs onCancel once when the consumer breaks out", async () => {
  const queue = new AsyncQueue<number>(10);
  let cancelled = 0;
  queue.onCancel = () => cancelled++;
  queue.push(1);
  queue.push(2);
  for await (const _ of queue) break;
  assert.equal(cancelled, 1);
  assert.equal(queue.ended, true);
  assert.equal(queue.push(3), undefined);
});
