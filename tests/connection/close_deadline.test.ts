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

test("deadlines of one length share a timer: each due one closes its socket, a cancelled one nothing", async () => {
  const sockets = [socket(), socket(), socket(), socket()];
  const deadlines = sockets.map((s) => new CloseDeadline(s));
  for (const deadline of deadlines) deadline.within(5);
  deadlines[1]!.cancel();
  deadlines[2]!.cancel();
  await Promise.all([sockets[0]!.closed, sockets[3]!.closed]);
  assert.deepEqual(sockets.map((s) => s.closes), [1, 0, 0, 1]);
});

test("an earlier deadline stands over a later one, which then closes nothing", async () => {
  const early = socket();
  const late = socket();
  const deadline = new CloseDeadline(early);
  deadline.within(60_000);
  deadline.within(2);
  deadline.within(30_000); // later than the one that stands: ignored
  const other = new CloseDeadline(late);
  other.within(3);
  await Promise.all([early.closed, late.closed]);
  assert.equal(early.closes, 1);
  assert.equal(late.closes, 1);
});
