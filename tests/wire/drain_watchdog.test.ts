/**
 * The drain watchdog: one timer for every writer of one drain timeout, and a
 * writer is checked only while it says it must be.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { DrainWatchdog } from "../../src/wire/drain_watchdog.ts";

test("writers of one drain timeout share one watchdog and are checked at the same ticks", async () => {
  const watchdog = DrainWatchdog.of(4);
  assert.equal(DrainWatchdog.of(4), watchdog);
  assert.notEqual(DrainWatchdog.of(8), watchdog);
  const seenByA: number[] = [];
  const seenByB: number[] = [];
  const twoTicks = Promise.withResolvers<void>();
  watchdog.watch((now) => {
    seenByA.push(now);
    return seenByA.length < 2;
  });
  watchdog.watch((now) => {
    seenByB.push(now);
    if (seenByB.length === 2) twoTicks.resolve();
    return seenByB.length < 2;
  });
  await twoTicks.promise;
  assert.deepEqual(seenByA, seenByB);
});

test("a writer whose check returns false, or that is unwatched, is not checked again", async () => {
  const watchdog = DrainWatchdog.of(5);
  let idleChecks = 0;
  let unwatchedChecks = 0;
  const unwatched = () => {
    unwatchedChecks++;
    return true;
  };
  watchdog.watch(() => { // no write in flight: leaves at its first check
    idleChecks++;
    return false;
  });
  watchdog.watch(unwatched);
  watchdog.unwatch(unwatched);
  const threeTicks = Promise.withResolvers<void>();
  let ticks = 0;
  watchdog.watch(() => {
    if (++ticks === 3) threeTicks.resolve();
    return ticks < 3;
  });
  await threeTicks.promise;
  assert.equal(idleChecks, 1);
  assert.equal(unwatchedChecks, 0);
});
