import { test } from "node:test";
import assert from "node:assert/strict";
import {
  IncompleteMessageError,
  LenFlag32K,
  MalformedFragmentError,
  MessageTooLargeError,
  ReassemblyBudgetError,
  ReassemblyTimeoutError,
  TooManyMessagesError,
} from "../../src/fragment/mod.ts";
import {
  muxFragment,
  MuxFragmentStrategy,
  pattern,
  pushAll,
  Reassembler,
  thrown,
} from "./_helpers.ts";

const mux = new MuxFragmentStrategy();
const frag = (
  msgId: number,
  seq: number,
  isFinal: boolean,
  payload: Uint8Array,
  totalLen?: number,
) => muxFragment({ msgId, seq, isFinal, payloadLen: payload.length, totalLen }, payload);
const noop = () => {};

function assertEmpty(reassembler: Reassembler): void {
  assert.equal(reassembler.partialMessages, 0);
  assert.equal(reassembler.bufferedBytes, 0);
  assert.equal(reassembler.chargedBytes, 0);
}

test("maxMessageSize is checked before appending: a message never exceeds it", () => {
  const ok = new Reassembler(mux, { maxMessageSize: 100 });
  assert.deepEqual(
    pushAll(ok, [frag(1, 0, false, pattern(60)), frag(1, 1, true, pattern(40))]).map((m) =>
      m.length
    ),
    [100],
  );
  const reassembler = new Reassembler(mux, { maxMessageSize: 100 });
  pushAll(reassembler, [frag(1, 0, false, pattern(60))]);
  assert.equal(reassembler.bufferedBytes, 60);
  const err = thrown(() => reassembler.push(frag(1, 1, false, pattern(41)), 0, noop));
  assert.ok(err instanceof MessageTooLargeError);
  assert.deepEqual([err.msgId, err.messageSize, err.maxMessageSize], [1, 101, 100]);
  assert.equal(err.code, "ERR_MESSAGE_TOO_LARGE");
  assertEmpty(reassembler);
});

test("a declared totalLen above maxMessageSize is rejected at the first fragment", () => {
  const reassembler = new Reassembler(mux, { maxMessageSize: 1000 });
  const err = thrown(() => reassembler.push(frag(4, 0, false, pattern(1), 1001), 0, noop));
  assert.ok(err instanceof MessageTooLargeError);
  assert.equal(err.messageSize, 1001);
  assertEmpty(reassembler);
});

test("a single fragment above maxMessageSize is rejected", () => {
  const err = thrown(() =>
    new Reassembler(new LenFlag32K(), { maxMessageSize: 3 }).push(
      Uint8Array.of(0x80, 4, 1, 2, 3, 4),
      0,
      noop,
    )
  );
  assert.ok(err instanceof MessageTooLargeError);
});

test("payloads must add up to a declared totalLen, and it pre-sizes the message", () => {
  const reassembler = new Reassembler(mux, { onViolation: "drop" });
  pushAll(reassembler, [frag(1, 0, false, pattern(3), 10)]);
  assert.equal(reassembler.chargedBytes, 10 + reassembler.limits.fragmentOverhead);
  const out = pushAll(reassembler, [
    frag(1, 1, false, pattern(3, 1)),
    frag(1, 2, true, pattern(4, 2)),
  ]);
  assert.deepEqual(out, [Uint8Array.of(...pattern(3), ...pattern(3, 1), ...pattern(4, 2))]);
  assertEmpty(reassembler);
  const short = [frag(2, 0, false, pattern(3), 10), frag(2, 1, true, pattern(3))];
  const long = [frag(3, 0, false, pattern(3), 5), frag(3, 1, false, pattern(3))];
  const first = [frag(4, 0, false, pattern(6), 5)];
  for (const fragments of [short, long, first]) {
    const err = thrown(() => pushAll(reassembler, fragments));
    assert.ok(err instanceof MalformedFragmentError);
    assert.equal(err.reason, "total-length");
    assertEmpty(reassembler);
  }
});

test("the timeout runs from the FIRST fragment, not the latest", () => {
  const ok = new Reassembler(mux, { reassemblyTimeoutMs: 1000 });
  ok.push(frag(1, 0, false, pattern(1)), 0, noop);
  ok.push(frag(1, 1, false, pattern(1)), 900, noop);
  assert.equal(pushAll(ok, [frag(1, 2, true, pattern(1))], 999).length, 1);
  const late = new Reassembler(mux, { reassemblyTimeoutMs: 1000 });
  late.push(frag(1, 0, false, pattern(1)), 0, noop);
  late.push(frag(1, 1, false, pattern(1)), 900, noop);
  const err = thrown(() => late.push(frag(1, 2, true, pattern(1)), 1000, noop));
  assert.ok(err instanceof ReassemblyTimeoutError);
  assert.deepEqual([err.msgId, err.ageMs, err.reassemblyTimeoutMs], [1, 1000, 1000]);
  assertEmpty(late);
});

test("expire evicts partial messages at their deadline even with no further fragments", () => {
  const reassembler = new Reassembler(mux, { reassemblyTimeoutMs: 100, onViolation: "drop" });
  reassembler.push(frag(1, 0, false, pattern(5)), 10, noop);
  reassembler.push(frag(2, 0, false, pattern(5)), 50, noop);
  reassembler.push(frag(3, 0, false, pattern(5)), 60, noop);
  reassembler.expire(109); // nothing is due yet
  assert.equal(reassembler.partialMessages, 3);
  const err = thrown(() => reassembler.expire(155));
  assert.ok(err instanceof ReassemblyTimeoutError);
  assert.deepEqual([err.msgId, err.ageMs, err.expiredCount], [1, 145, 2]);
  assert.equal(err.code, "ERR_REASSEMBLY_TIMEOUT");
  assert.equal(reassembler.partialMessages, 1);
  assert.equal(reassembler.nextDeadline(), 160);
  assert.ok(thrown(() => reassembler.expire(160)) instanceof ReassemblyTimeoutError);
  assertEmpty(reassembler);
});

test("nextDeadline is the oldest partial message's first fragment + timeout", () => {
  const reassembler = new Reassembler(mux, { reassemblyTimeoutMs: 1000 });
  assert.equal(reassembler.nextDeadline(), undefined);
  reassembler.push(frag(1, 0, true, pattern(1)), 5, noop); // complete at once: nothing held
  assert.equal(reassembler.nextDeadline(), undefined);
  reassembler.push(frag(1, 0, false, pattern(1)), 10, noop);
  reassembler.push(frag(2, 0, false, pattern(1)), 20, noop);
  reassembler.push(frag(1, 1, false, pattern(1)), 30, noop); // later fragments do not extend it
  assert.equal(reassembler.nextDeadline(), 1010);
  reassembler.push(frag(1, 2, true, pattern(1)), 40, noop);
  assert.equal(reassembler.nextDeadline(), 1020);
  reassembler.push(frag(2, 1, true, pattern(1)), 50, noop);
  assert.equal(reassembler.nextDeadline(), undefined);
});

test("a clock that goes backwards counts as the last time seen", () => {
  const reassembler = new Reassembler(mux, { reassemblyTimeoutMs: 100 });
  reassembler.push(frag(1, 0, false, pattern(1)), 50, noop);
  reassembler.push(frag(2, 0, false, pattern(1)), 10, noop);
  assert.equal(reassembler.nextDeadline(), 150);
  reassembler.expire(149);
  reassembler.expire(NaN); // not a time: also counts as the last one
  assert.equal(reassembler.partialMessages, 2);
  const err = thrown(() => reassembler.expire(150));
  assert.ok(err instanceof ReassemblyTimeoutError);
  assert.deepEqual([err.msgId, err.ageMs, err.expiredCount], [1, 100, 2]);
});

test("maxConcurrentMessages bounds partial messages; complete messages are not counted", () => {
  const reassembler = new Reassembler(mux, { maxConcurrentMessages: 2, onViolation: "drop" });
  pushAll(reassembler, [frag(1, 0, false, pattern(1)), frag(2, 0, false, pattern(1))]);
  assert.equal(pushAll(reassembler, [frag(9, 0, true, pattern(1))]).length, 1);
  const err = thrown(() => reassembler.push(frag(3, 0, false, pattern(1)), 0, noop));
  assert.ok(err instanceof TooManyMessagesError);
  assert.deepEqual([err.msgId, err.maxConcurrentMessages], [3, 2]);
  assert.equal(reassembler.partialMessages, 2);
  pushAll(reassembler, [frag(1, 1, true, pattern(1))]);
  pushAll(reassembler, [frag(3, 0, false, pattern(1))]);
  assert.equal(reassembler.partialMessages, 2);
});

test("a flood of 1-byte fragments cannot charge more than maxBufferedBytes", () => {
  const reassembler = new Reassembler(mux, {
    maxMessageSize: 1000,
    maxBufferedBytes: 1000,
    fragmentOverhead: 64,
  });
  let seq = 0;
  const err = thrown(() => {
    for (;;) {
      reassembler.push(frag(1, seq++, false, pattern(1)), 0, noop);
      assert.ok(reassembler.chargedBytes <= 1000);
    }
  });
  assert.ok(err instanceof ReassemblyBudgetError);
  assert.equal(err.code, "ERR_REASSEMBLY_BUDGET");
  assert.ok(err.chargedBytes > 1000);
  assert.equal(err.maxBufferedBytes, 1000);
  assert.ok(seq <= 1000 / 64 + 1, `held ${seq} fragments`);
  assertEmpty(reassembler);
});

test("charges: a view is charged its backing buffer, a small payload in a big chunk is copied", () => {
  const reassembler = new Reassembler(mux, { fragmentOverhead: 10 });
  const own = frag(1, 0, false, pattern(100)); // its own 113-byte buffer: held as a view
  reassembler.push(own, 0, noop);
  assert.equal(reassembler.chargedBytes, own.buffer.byteLength + 10);
  const chunk = new Uint8Array(64 * 1024);
  const small = frag(2, 0, false, pattern(10));
  chunk.set(small, 500);
  reassembler.push(chunk.subarray(500, 500 + small.length), 0, noop);
  const forSecond = reassembler.chargedBytes - own.buffer.byteLength - 10;
  assert.ok(forSecond < chunk.byteLength / 4, `charged ${forSecond} for 10 bytes`);
  assert.equal(reassembler.bufferedBytes, 110);
  chunk.fill(0); // the copy is independent of the chunk
  assert.deepEqual(pushAll(reassembler, [frag(2, 1, true, pattern(1, 1))]), [
    Uint8Array.of(...pattern(10), ...pattern(1, 1)),
  ]);
  pushAll(reassembler, [frag(1, 1, true, new Uint8Array(0))]);
  assertEmpty(reassembler);
});

test("finish with partial messages held is IncompleteMessageError and frees them", () => {
  const reassembler = new Reassembler(mux, { onViolation: "drop" });
  reassembler.finish();
  pushAll(reassembler, [frag(1, 0, false, pattern(3)), frag(2, 0, false, pattern(4))]);
  const err = thrown(() => reassembler.finish());
  assert.ok(err instanceof IncompleteMessageError);
  assert.deepEqual([err.partialMessages, err.bufferedBytes], [2, 7]);
  assertEmpty(reassembler);
});
