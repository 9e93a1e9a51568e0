import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ConfigError,
  DEFAULT_FRAGMENT_OVERHEAD,
  DEFAULT_MAX_BUFFERED_BYTES,
  DEFAULT_MAX_CONCURRENT_MESSAGES,
  DEFAULT_MAX_MESSAGE_SIZE,
  DEFAULT_REASSEMBLY_TIMEOUT_MS,
  FragmentAdapter,
  type FragmentStrategy,
  LenFlag32K,
} from "../../src/fragment/mod.ts";
import { Fragmenter, Reassembler, thrown } from "./_helpers.ts";

const strategy = new LenFlag32K();

test("every limit has a default", () => {
  const expected = {
    maxMessageSize: 16 * 1024 * 1024,
    reassemblyTimeoutMs: 30_000,
    maxConcurrentMessages: 16,
    maxBufferedBytes: 32 * 1024 * 1024,
    fragmentOverhead: 64,
    onViolation: "fail",
  };
  assert.deepEqual({ ...new Reassembler(strategy).limits }, expected);
  assert.deepEqual({ ...new FragmentAdapter(strategy).limits }, expected);
  assert.deepEqual(
    [
      DEFAULT_MAX_MESSAGE_SIZE,
      DEFAULT_REASSEMBLY_TIMEOUT_MS,
      DEFAULT_MAX_CONCURRENT_MESSAGES,
      DEFAULT_MAX_BUFFERED_BYTES,
      DEFAULT_FRAGMENT_OVERHEAD,
    ],
    [16 * 1024 * 1024, 30_000, 16, 32 * 1024 * 1024, 64],
  );
  assert.equal(new Fragmenter(strategy).maxMessageSize, DEFAULT_MAX_MESSAGE_SIZE);
  assert.ok(Object.isFrozen(new Reassembler(strategy).limits));
});

test("an out-of-range limit is a ConfigError naming the option and its range", () => {
  const cases: [Record<string, unknown>, string, RegExp][] = [
    [{ maxMessageSize: 0 }, "maxMessageSize", /integer from 1 to 2147483647 \(got 0\)/],
    [{ reassemblyTimeoutMs: 0 }, "reassemblyTimeoutMs", /integer from 1 to 2147483647/],
    [{ reassemblyTimeoutMs: 1.5 }, "reassemblyTimeoutMs", /integer from 1/],
    [{ maxConcurrentMessages: 65_537 }, "maxConcurrentMessages", /integer from 1 to 65536/],
    [{ maxBufferedBytes: -1 }, "maxBufferedBytes", /integer from 1 to/],
    [{ fragmentOverhead: 0 }, "fragmentOverhead", /integer from 1 to 65536/],
    [{ onViolation: "ignore" }, "onViolation", /must be one of "fail", "drop" \(got "ignore"\)/],
    [
      { maxMessageSize: 100, maxBufferedBytes: 99 },
      "maxBufferedBytes",
      /at least maxMessageSize \(100\)/,
    ],
    [{ maxMesageSize: 1 }, "maxMesageSize", /is not a known option/],
  ];
  for (const [options, option, rule] of cases) {
    for (
      const build of [
        () => new Reassembler(strategy, options),
        () => new FragmentAdapter(strategy, options),
      ]
    ) {
      const err = thrown(build);
      assert.ok(err instanceof ConfigError, option);
      assert.equal(err.option, option);
      assert.equal(err.code, "ERR_CONFIG");
      assert.match(err.message, new RegExp(`option "${option}" `));
      assert.match(err.message, rule);
    }
  }
});

test("Fragmenter validates maxMessageSize and the strategy's maxMsgId", () => {
  const err = thrown(() => new Fragmenter(strategy, { maxMessageSize: 2 ** 31 }));
  assert.ok(err instanceof ConfigError);
  assert.match(err.message, /^Fragmenter: option "maxMessageSize" must be an integer from 1 to/);
  const bad: FragmentStrategy = {
    ...strategy,
    multiplexed: true,
    maxMsgId: -1,
    decodeHeader: strategy.decodeHeader,
    headerLength: strategy.headerLength,
    encodeHeaderInto: strategy.encodeHeaderInto,
    maxFragmentPayload: () => 1,
  };
  const e2 = thrown(() => new Fragmenter(bad));
  assert.ok(e2 instanceof ConfigError);
  assert.equal(e2.option, "strategy.maxMsgId");
});

test("FragmentAdapter.inbound validates its options", () => {
  const adapter = new FragmentAdapter(strategy);
  for (const options of [{ clock: 5 }, { onDropped: "x" }, { timer: 1 }]) {
    const err = thrown(() => adapter.inbound(options as never));
    assert.ok(err instanceof ConfigError);
    assert.match(err.message, /^FragmentAdapter\.inbound: option "(clock|onDropped|timer)"/);
  }
});
