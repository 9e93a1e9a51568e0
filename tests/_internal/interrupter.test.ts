/**
 * The interrupter: what a connection does when it goes away. The await on
 * user code pending settles with GONE, and `ctx.signal` fires, whether it
 * was asked for before the interrupt or only after.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { GONE, Interrupter } from "../../src/_internal/interrupter.ts";

test("an await that never settles settles with GONE at the interrupt, and the signal fires", async () => {
  const interrupter = new Interrupter(GONE);
  const signal = interrupter.signal;
  const fired = new Promise((resolve) => signal.addEventListener("abort", resolve));
  const pending = interrupter.wrap(new Promise(() => {}));
  assert.equal(signal.aborted, false);
  interrupter.interrupt();
  assert.equal(await pending, GONE);
  await fired;
  assert.equal(interrupter.interrupted, true);
});

test("a signal first asked for after the interrupt is already aborted, and later awaits are GONE", async () => {
  const interrupter = new Interrupter(GONE);
  assert.equal(await interrupter.wrap(Promise.resolve(7)), 7);
  interrupter.interrupt();
  interrupter.interrupt(); // idempotent
  assert.equal(interrupter.signal.aborted, true);
  assert.equal(interrupter.signal, interrupter.signal);
  assert.equal(await interrupter.wrap(Promise.resolve(7)), GONE);
});
