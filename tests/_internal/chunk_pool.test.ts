// ChunkPool keeps as many write buffers as writers need at once, so a round of
// writes by more busy connections than `maxFree` allocates nothing, and drops
// the surplus only once it has gone unused for a whole trim period.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ChunkPool } from "../../src/_internal/chunk_pool.ts";

/** A pool whose trim timer is fired by hand. */
function poolWithManualTimer(maxFree: number) {
  const timers: (() => void)[] = [];
  const pool = new ChunkPool({
    size: 16,
    maxFree,
    schedule: (callback) => void timers.push(callback),
  });
  const fire = () => {
    const pending = timers.splice(0);
    for (const callback of pending) callback();
    return pending.length;
  };
  return { pool, fire, timers };
}

const takeMany = (pool: ChunkPool, n: number) => Array.from({ length: n }, () => pool.take());

test("more writers than maxFree, round after round: every buffer is reused, none allocated again", () => {
  const { pool } = poolWithManualTimer(4);
  const first = takeMany(pool, 50);
  for (const buffer of first) pool.give(buffer);
  assert.equal(pool.free, 50, "every buffer given back is kept while it may be needed");
  for (let round = 0; round < 3; round++) {
    const again = takeMany(pool, 50);
    assert.equal(new Set([...again, ...first]).size, 50, "the same 50 buffers, no new one");
    for (const buffer of again) pool.give(buffer);
  }
});

test("free buffers beyond maxFree that stayed free for a whole trim period are dropped, the least recently given back first", () => {
  const { pool, fire, timers } = poolWithManualTimer(4);
  const buffers = takeMany(pool, 10);
  for (const buffer of buffers) pool.give(buffer);
  assert.equal(timers.length, 1, "one trim timer, armed once the pool holds more than maxFree");
  // Armed at the 5th buffer given back: only the one beyond maxFree then was free all period.
  assert.equal(fire(), 1);
  assert.equal(pool.free, 9);
  // This period, 3 were taken and given back: the pool never fell below 6 free.
  const busy = takeMany(pool, 3);
  for (const buffer of busy) pool.give(buffer);
  assert.equal(fire(), 1, "re-armed while above maxFree");
  assert.equal(pool.free, 7, "the 2 free all period beyond maxFree are dropped");
  const kept = takeMany(pool, 7);
  assert.deepEqual(new Set(kept), new Set(buffers.slice(3)), "the oldest free ones went");
  for (const buffer of kept) pool.give(buffer);
  // All of them were needed this period: none goes. A quiet period then trims down to
  // maxFree, and no timer is left.
  assert.equal(fire(), 1);
  assert.equal(pool.free, 7);
  assert.equal(fire(), 1);
  assert.equal(pool.free, 4);
  assert.equal(timers.length, 0, "no timer while the pool holds maxFree or fewer");
});

test("a pool that needed every free buffer during the period keeps them all", () => {
  const { pool, fire } = poolWithManualTimer(2);
  const buffers = takeMany(pool, 6);
  for (const buffer of buffers) pool.give(buffer);
  const all = takeMany(pool, 6);
  for (const buffer of all) pool.give(buffer);
  fire();
  assert.equal(pool.free, 6);
});
