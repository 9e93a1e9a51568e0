// The one-fragment fast path (`FragmentStrategy.singleFragment`): it must
// write and accept exactly what the general path does, and never let a
// fragment around a limit or a partial message.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { concatBytes as concat } from "../../src/_internal/bytes.ts";
import { ConfigError } from "../../src/error.ts";
import {
  FragmentError,
  type FragmentStrategy,
  LenFlag32K,
  MessageTooLargeError,
  type SingleFragmentCodec,
} from "../../src/fragment/mod.ts";
import {
  Fragmenter,
  fragmentsOf,
  MuxFragmentStrategy,
  pattern,
  pushAll,
  Reassembler,
} from "./_helpers.ts";

const strategies: { label: string; make: (limit: number) => FragmentStrategy }[] = [
  { label: "LenFlag32K", make: (limit) => new LenFlag32K({ maxFragmentPayload: limit }) },
  { label: "Mux", make: (limit) => new MuxFragmentStrategy({ maxFragmentPayload: limit }) },
];

/** One fragment written through the fast path, as a writer does it. */
function fastFragment(fragmenter: Fragmenter, message: Uint8Array): Uint8Array | undefined {
  const msgId = fragmenter.planSingleLength(message.length);
  if (msgId < 0) return undefined;
  const headerLen = fragmenter.strategy.singleFragment!.headerLength;
  const out = new Uint8Array(headerLen + message.length);
  fragmenter.writeSingleHeader(message.length, msgId, out, 0);
  out.set(message, headerLen);
  return out;
}

for (const { label, make } of strategies) {
  test(`${label}: the fast path writes the bytes split() writes, message ids in step`, () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 64 }),
        fc.array(fc.uint8Array({ maxLength: 150 }), { maxLength: 12 }),
        (limit, messages) => {
          const strategy = make(limit);
          const general = new Fragmenter(strategy);
          const fast = new Fragmenter(strategy);
          for (const message of messages) {
            const expected = fragmentsOf(general, message);
            const got = fastFragment(fast, message);
            if (message.length <= limit) {
              assert.deepEqual(got, expected[0]);
              assert.equal(expected.length, 1);
            } else {
              // Too long for one fragment: no id taken, the caller splits.
              assert.equal(got, undefined);
              assert.deepEqual(fragmentsOf(fast, message), expected);
            }
            assert.equal(fast.nextMsgId, general.nextMsgId);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  test(`${label}: isWholeMessage accepts every fast-path fragment and nothing decodeHeader rejects`, () => {
    const strategy = make(64);
    const single = strategy.singleFragment!;
    // Real one-fragment messages with a few bytes overwritten, at an offset in a bigger buffer.
    const fragmentArb = fc.tuple(
      fc.uint8Array({ maxLength: 80 }),
      fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 2 }),
      fc.nat(5),
      fc.nat(5),
    ).map(([message, flips, before, after]) => {
      const fragment = fragmentsOf(new Fragmenter(strategy), message)[0]!;
      for (const [at, value] of flips) fragment[at % fragment.length] = value;
      const bytes = concat([new Uint8Array(before), fragment, new Uint8Array(after)]);
      return { bytes, before, end: before + fragment.length, intact: flips.length === 0 };
    });
    fc.assert(
      fc.property(fragmentArb, ({ bytes, before, end, intact }) => {
        const fragment = bytes.subarray(before, end);
        let whole = false;
        try {
          const decoded = strategy.decodeHeader(fragment);
          whole = decoded.kind === "header" && decoded.meta.isFinal && decoded.meta.seq === 0 &&
            decoded.headerLen === single.headerLength &&
            decoded.meta.payloadLen === fragment.length - decoded.headerLen &&
            (decoded.meta.totalLen ?? decoded.meta.payloadLen) === decoded.meta.payloadLen;
        } catch (error) {
          assert.ok(error instanceof FragmentError);
        }
        const accepted = single.isWholeMessage(bytes, before, end);
        // Sound: never accepts what the general path would not read as a whole
        // message. Complete on its own output (a false merely takes the slow path).
        if (accepted) assert.ok(whole);
        if (intact) assert.ok(accepted);
      }),
      { numRuns: 300 },
    );
  });

  test(`${label}: pushSpan emits what push of the same bytes emits, and fails alike`, () => {
    const strategy = make(8);
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 30 }), { maxLength: 8 }),
        fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 2 }),
        fc.integer({ min: 1, max: 40 }),
        (messages, flips, maxMessageSize) => {
          const fragmenter = new Fragmenter(strategy);
          const fragments = messages.flatMap((m) => fragmentsOf(fragmenter, m));
          const wire = concat(fragments);
          for (const [at, value] of flips) if (wire.length > 0) wire[at % wire.length] = value;
          const limits = { maxMessageSize, onViolation: "drop" as const };
          const byView = new Reassembler(strategy, limits);
          const bySpan = new Reassembler(strategy, limits);
          let at = 0;
          for (const fragment of fragments) {
            const end = at + fragment.length;
            const outcome = (push: (emit: (m: Uint8Array) => void) => void) => {
              const out: number[][] = [];
              try {
                push((m) => out.push(Array.from(m)));
                return { out };
              } catch (error) {
                return { out, error: (error as Error).constructor };
              }
            };
            const view = outcome((emit) => byView.push(wire.slice(at, end), 0, emit));
            const span = outcome((emit) => bySpan.pushSpan(wire, at, end, 0, emit));
            assert.deepEqual(span, view);
            at = end;
          }
        },
      ),
      { numRuns: 200 },
    );
  });
}

test("a final fragment during a LenFlag32K message completes it; it is not a message of its own", () => {
  const strategy = new LenFlag32K({ maxFragmentPayload: 4 });
  const [first, last] = fragmentsOf(new Fragmenter(strategy), pattern(6));
  const whole = fragmentsOf(new Fragmenter(strategy), pattern(2, 9))[0]!;
  assert.ok(strategy.singleFragment!.isWholeMessage(whole, 0, whole.length));
  const reassembler = new Reassembler(strategy);
  assert.deepEqual(pushAll(reassembler, [first!, whole]), [
    concat([pattern(6).subarray(0, 4), pattern(2, 9)]),
  ]);
  assert.deepEqual(pushAll(reassembler, [last!]), [pattern(6).subarray(4)]);
});

test("the fast path still enforces maxMessageSize, on both sides", () => {
  const strategy = new LenFlag32K();
  const fragment = fragmentsOf(new Fragmenter(strategy), pattern(100))[0]!;
  const reassembler = new Reassembler(strategy, { maxMessageSize: 99 });
  assert.throws(() => pushAll(reassembler, [fragment]), MessageTooLargeError);
  const fragmenter = new Fragmenter(strategy, { maxMessageSize: 99 });
  assert.throws(() => fragmenter.planSingleLength(100), MessageTooLargeError);
  assert.equal(fragmenter.nextMsgId, 0);
});

test("no fast path for a context-aware limit or a strategy without one", () => {
  const contextAware = new LenFlag32K({ maxFragmentPayload: (frame) => frame.length + 1 });
  assert.equal(contextAware.singleFragment, undefined);
  assert.equal(new Fragmenter(contextAware).planSingleLength(10), -1);
  // Without a fast path a message over maxMessageSize is still refused before it is encoded.
  const small = new Fragmenter(contextAware, { maxMessageSize: 99 });
  assert.throws(() => small.planSingleLength(100), MessageTooLargeError);
  assert.equal(small.planSingleLength(99), -1);
  const mux = new MuxFragmentStrategy({ maxFragmentPayload: () => 10 });
  assert.equal(mux.singleFragment, undefined);
  // Messages still go through the general path and re-assemble.
  const fragments = fragmentsOf(new Fragmenter(contextAware), pattern(10));
  assert.deepEqual(pushAll(new Reassembler(contextAware), fragments), [pattern(10)]);
});

test("a malformed singleFragment is a ConfigError when the fragmenter or reassembler is made", () => {
  const good: SingleFragmentCodec = new LenFlag32K().singleFragment!;
  const bad: SingleFragmentCodec[] = [
    { ...good, headerLength: -1 },
    { ...good, headerLength: 1.5 },
    { ...good, maxLength: Number.NaN },
    { ...good, isWholeMessage: undefined as unknown as SingleFragmentCodec["isWholeMessage"] },
  ];
  for (const singleFragment of bad) {
    const strategy: FragmentStrategy = Object.assign(new LenFlag32K(), { singleFragment });
    for (const make of [() => new Fragmenter(strategy), () => new Reassembler(strategy)]) {
      assert.throws(make, (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.option, "strategy.singleFragment");
        return true;
      });
    }
  }
});

test("a fast path that writes another length than its headerLength is a ConfigError", () => {
  const good = new LenFlag32K().singleFragment!;
  const strategy: FragmentStrategy = Object.assign(new LenFlag32K(), {
    singleFragment: { ...good, encodeHeaderInto: () => 3 },
  });
  const fragmenter = new Fragmenter(strategy);
  const msgId = fragmenter.planSingleLength(1);
  assert.throws(
    () => fragmenter.writeSingleHeader(1, msgId, new Uint8Array(8), 0),
    /wrote 3 bytes, headerLength is 2/,
  );
});

test("pushWhole hands on only a whole message with nothing in progress, else does nothing", () => {
  const strategy = new LenFlag32K({ maxFragmentPayload: 4 });
  const [first, last] = fragmentsOf(new Fragmenter(strategy), pattern(6));
  const whole = fragmentsOf(new Fragmenter(strategy), pattern(3))[0]!;
  const reassembler = new Reassembler(strategy, { maxMessageSize: 5 });
  const out: Uint8Array[] = [];
  const emit = (m: Uint8Array) => out.push(m.slice());
  assert.equal(reassembler.pushWhole(first!, 0, first!.length, emit), false); // not final
  assert.equal(reassembler.partialMessages, 0);
  assert.equal(reassembler.pushWhole(whole, 0, whole.length, emit), true);
  assert.deepEqual(out, [pattern(3)]);
  reassembler.push(first!, 0, emit);
  assert.equal(reassembler.pushWhole(whole, 0, whole.length, emit), false); // a message is open
  assert.equal(reassembler.partialMessages, 1);
  assert.throws(() => reassembler.push(last!, 0, emit), MessageTooLargeError); // 6 > 5
  assert.throws(() => reassembler.pushWhole(whole, 0, whole.length, emit), MessageTooLargeError);
  assert.equal(out.length, 1);
});
