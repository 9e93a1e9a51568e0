import { test } from "node:test";
import assert from "node:assert/strict";
import { BufferPool } from "../../src/_internal/buffer_pool.ts";

test("a buffer given back is handed out again for a request of its size class", () => {
  const pool = new BufferPool();
  const first = pool.take(5_000);
  assert.equal(first.length, 5_000);
  assert.equal(first.buffer.byteLength, 8 * 1024, "5,000 bytes come from the 8 KiB class");
  pool.give(first);
  const second = pool.take(7_000);
  assert.equal(second.buffer, first.buffer, "the same memory, reused");
  assert.equal(second.length, 7_000);
  assert.notEqual(pool.take(7_000).buffer, first.buffer, "a buffer is handed out once");
});

test("requests above the largest class get an exact buffer the pool never keeps", () => {
  const pool = new BufferPool();
  const big = pool.take(300 * 1024);
  assert.equal(big.buffer.byteLength, 300 * 1024);
  pool.give(big);
  assert.notEqual(pool.take(300 * 1024).buffer, big.buffer);
});

test("tiny requests share the smallest class, and foreign buffers are not taken in", () => {
  const pool = new BufferPool();
  assert.equal(pool.take(1).buffer.byteLength, 4 * 1024);
  assert.equal(pool.take(0).buffer.byteLength, 4 * 1024);
  const foreign = new Uint8Array(5_000);
  pool.give(foreign);
  assert.notEqual(pool.take(5_000).buffer, foreign.buffer, "not a class size: left to the GC");
});

test("the pool keeps a bounded number of free buffers per class", () => {
  const pool = new BufferPool();
  // The 256 KiB class keeps 1 MiB: four buffers; a fifth given back is dropped.
  const taken = Array.from({ length: 5 }, () => pool.take(256 * 1024));
  for (const buffer of taken) pool.give(buffer);
  const again = new Set(Array.from({ length: 5 }, () => pool.take(256 * 1024).buffer));
  const reused = taken.filter((buffer) => again.has(buffer.buffer)).length;
  assert.equal(reused, 4);
});
