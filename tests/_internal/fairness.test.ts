import { test } from "node:test";
import assert from "node:assert/strict";
import { LoopBudget, yieldToEventLoop } from "../../src/_internal/fairness.ts";

test("a loop budget asks for a yield once its frames are spent, then refills", () => {
  const budget = new LoopBudget(1_000_000, 3);
  assert.equal(budget.spend(10, 1), undefined);
  assert.equal(budget.spend(10, 1), undefined);
  assert.ok(budget.spend(10, 1) instanceof Promise, "the third frame ends the slice");
  assert.equal(budget.spend(10, 1), undefined, "a new slice starts after the yield");
});

test("a loop budget asks for a yield once its bytes are spent, whatever the frame count", () => {
  const budget = new LoopBudget(100, 1_000);
  assert.equal(budget.spend(60, 1), undefined);
  assert.ok(budget.spend(60, 1) instanceof Promise);
  assert.ok(
    new LoopBudget(100, 1_000).spend(500, 1) instanceof Promise,
    "one big write is a slice",
  );
});

test("yielding lets a due timer run, which a loop of microtasks never does", async () => {
  let fired = false;
  setTimeout(() => (fired = true), 0);
  for (let i = 0; i < 1_000 && !fired; i++) await Promise.resolve();
  assert.equal(fired, false, "a microtask loop starves timers (what fairness guards against)");
  for (let i = 0; i < 10_000 && !fired; i++) await yieldToEventLoop();
  assert.ok(fired, "the timer ran while the loop yielded");
});

test("the shared park starts its timer only once the turn that took it is over", async () => {
  // Deno polls its sockets at once only after a turn in which nothing was
  // ready. A park timer armed at once expires during the rest of the turn
  // (the other busy loops' slices) and runs first thing in the next one:
  // no empty turn. Armed on the next turn, it lets every callback queued
  // meanwhile run first, then leaves the loop idle until it fires.
  // Yield as a busy loop does until the park is due (two yields in one turn
  // share it); so the park is taken in an immediate's turn, as in a server.
  let park = yieldToEventLoop();
  for (let i = 0; i < 1_000_000 && yieldToEventLoop() !== park; i++) {
    await park;
    park = yieldToEventLoop();
  }
  assert.equal(yieldToEventLoop(), park, "every busy loop of this turn joins the same park");
  const order: string[] = [];
  setImmediate(() => order.push("a callback queued after the park"));
  // The rest of the turn: long enough for a timer armed at its start to be due.
  const until = performance.now() + 3;
  while (performance.now() < until) { /* other connections' slices */ }
  await park.then(() => order.push("the park"));
  assert.deepEqual(order, ["a callback queued after the park", "the park"]);
});
