/** ThrottledLogger: one warning or error per message per interval, the rest counted and summarised. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { type ThrottleClock, ThrottledLogger } from "../../src/observe/throttled_logger.ts";
import { spawn } from "node:child_process";
import process from "node:process";
import { captureLogger, deadline } from "../e2e/_helpers.ts";

/** A clock the test moves by hand, with timers it fires when their time has come. */
function manualClock(): ThrottleClock & { advance(ms: number): void; pending(): number } {
  let now = 0;
  let timers: { at: number; callback: () => void }[] = [];
  return {
    now: () => now,
    setTimeout(callback, ms) {
      timers.push({ at: now + ms, callback });
    },
    advance(ms) {
      now += ms;
      const due = timers.filter((t) => t.at <= now).sort((a, b) => a.at - b.at);
      timers = timers.filter((t) => t.at > now);
      for (const timer of due) timer.callback();
    },
    pending: () => timers.length,
  };
}

function rig(intervalMs = 10_000) {
  const { logger, records } = captureLogger();
  const clock = manualClock();
  return { logger: new ThrottledLogger(logger, { intervalMs, clock }), records, clock };
}

const lines = (records: ReturnType<typeof captureLogger>["records"]) =>
  records.map((r) => [r.level, r.message, r.fields]);

test("the first warning of a message goes through; the rest of the interval is counted, then summarised", () => {
  const { logger, records, clock } = rig();
  for (let id = 1; id <= 5; id++) logger.warn("push queue full: frame dropped", { id });
  assert.deepEqual(lines(records), [["warn", "push queue full: frame dropped", { id: 1 }]]);

  clock.advance(9_999);
  assert.equal(records.length, 1, "nothing more before the interval ends");
  clock.advance(1);
  assert.deepEqual(lines(records).slice(1), [
    ["warn", "push queue full: frame dropped (4 more in the last 10 s)", { id: 5, suppressed: 4 }],
  ]);
});

test("a steady flood yields one summary per interval, and a quiet interval ends the throttle", () => {
  const { logger, records, clock } = rig(1_000);
  logger.error("request failed", { n: 0 });
  for (let second = 0; second < 3; second++) {
    for (let i = 1; i <= 10; i++) logger.error("request failed", { n: i });
    clock.advance(1_000);
  }
  assert.deepEqual(records.map((r) => r.message), [
    "request failed",
    "request failed (10 more in the last 1 s)",
    "request failed (10 more in the last 1 s)",
    "request failed (10 more in the last 1 s)",
  ]);
  clock.advance(1_000); // a quiet interval: nothing to report, the window is forgotten
  assert.equal(records.length, 4);
  assert.equal(clock.pending(), 0, "no timer left once nothing is held back");
  logger.error("request failed", { n: 99 });
  assert.deepEqual(records.at(-1)?.fields, { n: 99 }, "after a quiet interval the next one passes");
});

test("messages are throttled independently, and the same text at warn and error are two messages", () => {
  const { logger, records, clock } = rig();
  logger.warn("a", { k: 1 });
  logger.warn("b", { k: 1 });
  logger.error("a", { k: 1 });
  logger.warn("a", { k: 2 });
  logger.warn("b", { k: 2 });
  logger.warn("b", { k: 3 });
  assert.deepEqual(lines(records), [
    ["warn", "a", { k: 1 }],
    ["warn", "b", { k: 1 }],
    ["error", "a", { k: 1 }],
  ]);
  clock.advance(10_000);
  assert.deepEqual(lines(records).slice(3), [
    ["warn", "a (1 more in the last 10 s)", { k: 2, suppressed: 1 }],
    ["warn", "b (2 more in the last 10 s)", { k: 3, suppressed: 2 }],
  ]);
});

test("a message seen once is never summarised", () => {
  const { logger, records, clock } = rig();
  logger.warn("once");
  clock.advance(60_000);
  assert.deepEqual(lines(records), [["warn", "once", undefined]]);
  assert.equal(clock.pending(), 0, "no timer for a message with nothing held back");
});

test("debug and info pass through unthrottled", () => {
  const { logger, records } = rig();
  for (let i = 0; i < 3; i++) {
    logger.debug("connection closed: protocol violation", { i });
    logger.info("listening", { i });
  }
  assert.equal(records.length, 6);
  assert.deepEqual(records.map((r) => r.level), [
    "debug",
    "info",
    "debug",
    "info",
    "debug",
    "info",
  ]);
});

test("with a timer that has not fired, the next record of the message reports what was held back", () => {
  const { logger, records } = captureLogger();
  let now = 0;
  const throttled = new ThrottledLogger(logger, {
    intervalMs: 1_000,
    clock: { now: () => now, setTimeout: () => {} }, // a timer that never fires
  });
  throttled.warn("m", { n: 1 });
  throttled.warn("m", { n: 2 });
  throttled.warn("m", { n: 3 });
  now = 1_500;
  throttled.warn("m", { n: 4 });
  assert.deepEqual(lines(records), [
    ["warn", "m", { n: 1 }],
    ["warn", "m (2 more in the last 1 s)", { n: 3, suppressed: 2 }],
  ]);
  throttled.flush();
  assert.deepEqual(lines(records).slice(2), [
    ["warn", "m (1 more in the last 1 s)", { n: 4, suppressed: 1 }],
  ]);
});

test("flush() reports everything held back at once", () => {
  const { logger, records, clock } = rig();
  logger.warn("x");
  logger.warn("x");
  logger.error("y");
  logger.error("y");
  logger.error("y");
  logger.flush();
  assert.deepEqual(records.map((r) => r.message), [
    "x",
    "y",
    "x (1 more in the last 10 s)",
    "y (2 more in the last 10 s)",
  ]);
  clock.advance(10_000);
  assert.equal(records.length, 4, "nothing is reported twice");
  logger.warn("x");
  assert.equal(records.length, 5, "after a flush the next record passes");
});

test("an interval that is not whole seconds is shown in ms", () => {
  const { logger, records, clock } = rig(250);
  logger.warn("m");
  logger.warn("m");
  clock.advance(250);
  assert.equal(records.at(-1)?.message, "m (1 more in the last 250 ms)");
});

test("the interval must be a positive integer", () => {
  const { logger } = captureLogger();
  for (const intervalMs of [0, -1, 1.5, Number.NaN]) {
    assert.throws(() => new ThrottledLogger(logger, { intervalMs }), RangeError);
  }
});

test("the default timer does not keep the process alive", async () => {
  // A child holds a record back under a 1-hour interval, then runs out of work: it must exit.
  const module = new URL("../../src/observe/throttled_logger.ts", import.meta.url).href;
  const code = `
    const { ThrottledLogger } = await import(${JSON.stringify(module)});
    const noop = () => {};
    const logger = new ThrottledLogger(
      { debug: noop, info: noop, warn: noop, error: noop },
      { intervalMs: 3_600_000 },
    );
    logger.warn("m");
    logger.warn("m");
  `;
  const argv = "Deno" in globalThis ? ["eval", code] : ["-e", code];
  const child = spawn(process.execPath, argv, { stdio: "ignore" });
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  try {
    assert.equal(await deadline(exited, "the child to exit with a timer pending", 30_000), 0);
  } finally {
    if (child.exitCode === null) child.kill("SIGKILL");
  }
});
