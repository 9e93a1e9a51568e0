/**
 * CloseDeadline: the socket closes at the earliest deadline asked for, and a
 * cancelled deadline lets go of the socket (its timer may outlive it).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { CloseDeadline } from "../../src/connection/close_deadline.ts";

function socket() {
  const closed = Promise.withResolvers<void>();
  let closes = 0;
  return {
    close() {
      closes++;
      closed.resolve();
    },
    closed: closed.promise,
    get closes() {
      return closes;
    },
  };
}

test("a deadline closes the socket once it passes", async () => {
  const s = socket();
  const deadline = new CloseDeadline(s);
  deadline.within(1);
  await s.closed;
  assert.equal(s.closes, 1);
});

test("a cancelled deadline no longer reaches the socket: expiring after cancel() closes nothing", () => {
  const s = socket();
  const deadline = new CloseDeadline(s);
  deadline.within(60_000);
  deadline.expire();
  assert.equal(s.closes, 1);
  deadline.cancel();
  deadline.expire();
  assert.equal(s.closes, 1);
});
