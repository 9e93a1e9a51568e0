/** app.logger(logger, { throttleMs }): the app's warnings and errors are throttled unless told not to. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { WireframeApp } from "../../src/app/app.ts";
import { ConfigError } from "../../src/error.ts";
import type { Logger } from "../../src/observe/logger.ts";
import { type ThrottleClock, ThrottledLogger } from "../../src/observe/throttled_logger.ts";
import { captureLogger, concat, frame, text, waitFor } from "../e2e/_helpers.ts";
import { connectRaw, serveMemory } from "../server/_memory.ts";

const failing = (logger: Logger, options?: { throttleMs?: number }) =>
  new WireframeApp().logger(logger, options).route(1, () => {
    throw new Error("boom");
  }).route(2, (req) => req.payload);

/** Three failing requests, then an echo that proves they have all been handled. */
async function threeFaults(app: WireframeApp): Promise<void> {
  await using running = await serveMemory(app);
  await using raw = await connectRaw(running.port);
  await raw.write(concat(frame(1, 1n), frame(1, 2n), frame(1, 3n), frame(2, 4n, text("done"))));
  assert.equal((await raw.readFrame()).correlationId, 4n);
  await waitFor(() => running.server.stats().handlerErrors === 3, "three faults counted");
}

test("by default the app passes one error per message per interval to its logger", async () => {
  const { logger, records } = captureLogger();
  await threeFaults(failing(logger));
  const errors = records.filter((r) => r.level === "error");
  assert.deepEqual(errors.map((r) => [r.message, r.fields?.correlationId]), [
    ["request failed", 1n],
  ], "the first goes through, the other two are held back");
});

test("throttleMs: 0 passes every record on", async () => {
  const { logger, records } = captureLogger();
  await threeFaults(failing(logger, { throttleMs: 0 }));
  assert.equal(records.filter((r) => r.level === "error").length, 3);
});

test("what the app holds back is summarised when the interval ends (a ThrottledLogger with a test clock)", async () => {
  const { logger, records } = captureLogger();
  let now = 0;
  const timers: (() => void)[] = [];
  const clock: ThrottleClock = {
    now: () => now,
    setTimeout: (callback) => void timers.push(callback),
  };
  const throttled = new ThrottledLogger(logger, { intervalMs: 5_000, clock });
  await threeFaults(failing(throttled, { throttleMs: 0 }));
  assert.equal(records.filter((r) => r.level === "error").length, 1);
  now = 5_000;
  for (const timer of timers.splice(0)) timer();
  const errors = records.filter((r) => r.level === "error");
  assert.equal(errors.length, 2);
  assert.match(errors[1]!.message, /^request failed \(2 more in the last 5 s\)$/);
  assert.equal(errors[1]!.fields?.suppressed, 2);
  assert.equal(errors[1]!.fields?.correlationId, 3n, "the last record's fields come along");
});

test("logger options are validated with errors that name the option and the range", () => {
  const { logger } = captureLogger();
  const app = new WireframeApp();
  for (const throttleMs of [-1, 1.5, 3_600_001, "10" as unknown as number]) {
    assert.throws(
      () => app.logger(logger, { throttleMs }),
      (error: unknown) =>
        error instanceof ConfigError && error.option === "throttleMs" &&
        /must be an integer from 0 to 3600000/.test(error.message),
      String(throttleMs),
    );
  }
  assert.throws(
    () => app.logger(logger, { throttle: 5 } as never),
    /logger: option "throttle" is not a known option \(known: throttleMs, level\)/,
  );
  assert.throws(
    () => app.logger({ ...logger, warn: undefined } as unknown as Logger),
    /logger: option "warn" must be a function/,
  );
});
