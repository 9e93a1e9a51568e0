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
