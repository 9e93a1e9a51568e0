/** `WireframeApp.outbound()`: the slow-consumer guard's published defaults and its validation. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { appSpec, WireframeApp } from "../../src/app/app.ts";
import { ConfigError } from "../../src/error.ts";

test("defaults: high water mark 256 KiB, low a quarter of the high, drain timeout 30 s", () => {
  assert.deepEqual(appSpec(new WireframeApp()).outbound, {
    highWaterMark: 256 * 1024,
    lowWaterMark: 64 * 1024,
    drainTimeoutMs: 30_000,
  });
  assert.deepEqual(appSpec(new WireframeApp().outbound({ highWaterMark: 1_000 })).outbound, {
    highWaterMark: 1_000,
    lowWaterMark: 250,
    drainTimeoutMs: 30_000,
  });
  assert.equal(
    appSpec(new WireframeApp().outbound({ drainTimeoutMs: 0 })).outbound.drainTimeoutMs,
    0,
  );
});

test("a low mark above the high one, a negative or fractional value, or an unknown option is a ConfigError naming it", () => {
  const fails = (options: object, option: string, message: RegExp) =>
    assert.throws(() => new WireframeApp().outbound(options), (e) => {
      assert.ok(e instanceof ConfigError);
      assert.equal(e.option, option);
      assert.match(e.message, message);
      return true;
    });
  fails(
    { highWaterMark: 100, lowWaterMark: 101 },
    "lowWaterMark",
    /must be at most highWaterMark \(got 101\)/,
  );
  fails({ highWaterMark: 0 }, "highWaterMark", /must be an integer from 1/);
  fails({ drainTimeoutMs: -1 }, "drainTimeoutMs", /must be an integer from 0 to 3600000/);
  fails({ drainTimeoutMs: 1.5 }, "drainTimeoutMs", /integer/);
  fails({ bogus: 1 }, "bogus", /is not a known option/);
});
