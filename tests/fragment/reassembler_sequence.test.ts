import { test } from "node:test";
import assert from "node:assert/strict";
import {
  FragmentSequenceError,
  type FragmentStrategy,
  LenFlag32K,
  MalformedFragmentError,
} from "../../src/fragment/mod.ts";
import {
  Fragmenter,
  fragmentsOf,
  muxFragment,
  MuxFragmentStrategy,
  pattern,
  pushAll,
  Reassembler,
  thrown,
} from "./_helpers.ts";

const mux = new MuxFragmentStrategy({ maxFragmentPayload: 4 });
const frag = (msgId: number, seq: number, isFinal: boolean, payload: Uint8Array) =>
  muxFragment({ msgId, seq, isFinal, payloadLen: payload.length }, payload);

test("interleaved A1 B1 A2 B2 A3 B3 re-assemble A and B independently", () => {
  const fragmenter = new Fragmenter(mux);
  const a = fragmentsOf(fragmenter, pattern(12, 1));
  const b = fragmentsOf(fragmenter, pattern(10, 2));
  assert.equal(a.length, 3);
  assert.equal(b.length, 3);
  const reassembler = new Reassembler(mux);
  const wire = [a[0]!, b[0]!, a[1]!, b[1]!, a[2]!, b[2]!];
  assert.deepEqual(pushAll(reassembler, wire), [pattern(12, 1), pattern(10, 2)]);
  assert.equal(reassembler.partialMessages, 0);
  assert.equal(reassembler.chargedBytes, 0);
});

test("a duplicate fragment (seq already received) is ignored", () => {
  const reassembler = new Reassembler(mux);
  const out = pushAll(reassembler, [
    frag(5, 0, false, Uint8Array.of(1)),
    frag(5, 0, false, Uint8Array.of(9)), // duplicate of seq 0
    frag(5, 1, false, Uint8Array.of(2)),
    frag(5, 1, false, Uint8Array.of(9)), // duplicate of seq 1
    frag(5, 0, false, Uint8Array.of(9)), // late duplicate of seq 0
    frag(5, 2, true, Uint8Array.of(3)),
  ]);
  assert.deepEqual(out, [Uint8Array.of(1, 2, 3)]);
  assert.equal(reassembler.chargedBytes, 0);
});

test("a gap drops the partial message and is FragmentSequenceError 'gap'", () => {
  const reassembler = new Reassembler(mux);
  pushAll(reassembler, [frag(3, 0, false, pattern(4)), frag(3, 1, false, pattern(4))]);
  assert.ok(reassembler.chargedBytes > 0);
  const err = thrown(() => reassembler.push(frag(3, 3, true, pattern(1)), 0, () => {}));
  assert.ok(err instanceof FragmentSequenceError);
  assert.deepEqual([err.reason, err.msgId, err.expectedSeq, err.seq], ["gap", 3, 2, 3]);
  assert.equal(err.code, "ERR_FRAGMENT_SEQUENCE");
  assert.equal(reassembler.partialMessages, 0);
  assert.equal(reassembler.chargedBytes, 0);
  assert.equal(reassembler.bufferedBytes, 0);
});

test("a continuation without its first fragment is FragmentSequenceError 'reorder'", () => {
  const reassembler = new Reassembler(mux);
  const err = thrown(() => reassembler.push(frag(8, 1, false, pattern(2)), 0, () => {}));
  assert.ok(err instanceof FragmentSequenceError);
  assert.deepEqual([err.reason, err.msgId, err.expectedSeq, err.seq], ["reorder", 8, 0, 1]);
});

test("after a violation the failed reassembler rethrows the same error and holds nothing", () => {
  const reassembler = new Reassembler(mux);
  pushAll(reassembler, [frag(1, 0, false, pattern(4)), frag(2, 0, false, pattern(4))]);
  const err = thrown(() => reassembler.push(frag(1, 5, false, pattern(1)), 0, () => {}));
  assert.equal(reassembler.failure, err);
  assert.equal(reassembler.partialMessages, 0);
  assert.equal(reassembler.chargedBytes, 0);
  assert.equal(reassembler.nextDeadline(), undefined);
  assert.equal(thrown(() => reassembler.push(frag(9, 0, true, pattern(1)), 0, () => {})), err);
  assert.equal(thrown(() => reassembler.expire(1e9)), err);
  assert.equal(thrown(() => reassembler.finish()), err);
});

test("onViolation 'drop' frees only the offending message and carries on", () => {
  const reassembler = new Reassembler(mux, { onViolation: "drop" });
  pushAll(reassembler, [frag(1, 0, false, pattern(4, 1)), frag(2, 0, false, pattern(4, 2))]);
  assert.ok(
    thrown(() => reassembler.push(frag(1, 2, true, pattern(1)), 0, () => {})) instanceof
      FragmentSequenceError,
  );
  assert.equal(reassembler.failure, undefined);
  assert.equal(reassembler.partialMessages, 1);
  assert.deepEqual(pushAll(reassembler, [frag(2, 1, true, pattern(2, 3))]), [
    Uint8Array.of(...pattern(4, 2), ...pattern(2, 3)),
  ]);
  assert.equal(reassembler.chargedBytes, 0);
});

test("non-multiplexed: msgId and seq from the header are ignored, order is the sequence", () => {
  // A 1-byte-header strategy that reports nonsense ids: they must not matter.
  const sloppy: FragmentStrategy = {
    multiplexed: false,
    decodeHeader: (b) =>
      b.length < 1 ? { kind: "need-more" } : {
        kind: "header",
        headerLen: 1,
        meta: { msgId: b.length * 7, seq: 99, isFinal: b[0] === 1, payloadLen: b.length - 1 },
      },
    headerLength: () => 1,
    encodeHeaderInto: (meta, _f, t, o) => {
      t[o] = meta.isFinal ? 1 : 0;
      return 1;
    },
    maxFragmentPayload: () => 2,
  };
  const fragmenter = new Fragmenter(sloppy);
  const messages = [pattern(5, 1), pattern(1, 2), pattern(6, 3)];
  const fragments = messages.flatMap((m) => fragmentsOf(fragmenter, m));
  assert.deepEqual(pushAll(new Reassembler(sloppy), fragments), messages);
});

test("a one-fragment message is emitted as a view of the fragment; a longer one is its own copy", () => {
  const reassembler = new Reassembler(new LenFlag32K());
  const single = Uint8Array.of(0x80, 2, 7, 8);
  let out: Uint8Array | undefined;
  reassembler.push(single, 0, (m) => (out = m));
  assert.equal(out!.buffer, single.buffer);
  assert.equal(out!.byteOffset, 2);
  const first = Uint8Array.of(0x00, 2, 1, 2);
  const last = Uint8Array.of(0x80, 1, 3);
  reassembler.push(first, 0, () => {});
  reassembler.push(last, 0, (m) => (out = m));
  assert.deepEqual(out, Uint8Array.of(1, 2, 3));
  assert.notEqual(out!.buffer, first.buffer);
  assert.notEqual(out!.buffer, last.buffer);
  const tail = Uint8Array.of(0x80, 2, 5, 6); // after an empty first fragment: still its own buffer
  reassembler.push(Uint8Array.of(0x00, 0), 0, () => {});
  reassembler.push(tail, 0, (m) => (out = m));
  assert.deepEqual(out, Uint8Array.of(5, 6));
  assert.notEqual(out!.buffer, tail.buffer);
});

test("a throwing emit is rethrown as is and leaves the reassembler consistent", () => {
  const reassembler = new Reassembler(mux);
  const boom = new Error("handler failed");
  pushAll(reassembler, [frag(1, 0, false, pattern(2))]);
  const err = thrown(() =>
    reassembler.push(frag(1, 1, true, pattern(2)), 0, () => {
      throw boom;
    })
  );
  assert.equal(err, boom);
  assert.equal(reassembler.failure, undefined);
  assert.equal(reassembler.chargedBytes, 0);
  assert.deepEqual(pushAll(reassembler, [frag(2, 0, true, pattern(1))]), [pattern(1)]);
});

test("a strategy that throws something untyped or returns nonsense is a malformed fragment", () => {
  const base = new MuxFragmentStrategy();
  const cause = new TypeError("oops");
  const throwing: FragmentStrategy = {
    ...base,
    multiplexed: true,
    decodeHeader: () => {
      throw cause;
    },
    headerLength: (m, f) => base.headerLength(m, f),
    encodeHeaderInto: (m, f, t, o) => base.encodeHeaderInto(m, f, t, o),
    maxFragmentPayload: (f) => base.maxFragmentPayload(f),
  };
  const err = thrown(() => new Reassembler(throwing).push(pattern(20), 0, () => {}));
  assert.ok(err instanceof MalformedFragmentError);
  assert.equal(err.reason, "invalid-header");
  assert.equal(err.cause, cause);
  const bad = [
    { headerLen: 99, meta: { msgId: 0, seq: 0, isFinal: true, payloadLen: 0 } },
    { headerLen: 1, meta: { msgId: -1, seq: 0, isFinal: true, payloadLen: 19 } },
    { headerLen: 1, meta: { msgId: 0, seq: 0.5, isFinal: true, payloadLen: 19 } },
    { headerLen: 1, meta: { msgId: 0, seq: 0, isFinal: true, payloadLen: 19, totalLen: NaN } },
  ];
  for (const result of bad) {
    const nonsense = { ...throwing, decodeHeader: () => ({ kind: "header" as const, ...result }) };
    const e = thrown(() => new Reassembler(nonsense).push(pattern(20), 0, () => {}));
    assert.ok(e instanceof MalformedFragmentError);
    assert.equal(e.reason, "invalid-header");
  }
});
