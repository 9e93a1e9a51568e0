import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ConfigError,
  type FragmentMeta,
  type FragmentStrategy,
  LenFlag32K,
  MessageTooLargeError,
} from "../../src/fragment/mod.ts";
import {
  Fragmenter,
  fragmentsOf,
  MuxFragmentStrategy,
  pattern,
  Reassembler,
  spyStrategy,
  thrown,
} from "./_helpers.ts";

/** Records every meta the fragmenter asks a header for. */
function metaSpy(inner: FragmentStrategy, metas: FragmentMeta[]): FragmentStrategy {
  return {
    ...spyStrategy(inner, []),
    encodeHeaderInto(meta, frame, target, offset) {
      metas.push({ ...meta });
      return inner.encodeHeaderInto(meta, frame, target, offset);
    },
  };
}

test("a message that fits is one final fragment", () => {
  const lenFlag = fragmentsOf(new Fragmenter(new LenFlag32K()), pattern(5));
  assert.deepEqual(lenFlag, [Uint8Array.of(0x80, 5, ...pattern(5))]);
  const mux = fragmentsOf(new Fragmenter(new MuxFragmentStrategy()), pattern(3));
  assert.equal(mux.length, 1);
  assert.deepEqual(mux[0], Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 3, ...pattern(3)));
});

test("an empty message is one final empty fragment", () => {
  assert.deepEqual(fragmentsOf(new Fragmenter(new LenFlag32K()), new Uint8Array(0)), [
    Uint8Array.of(0x80, 0),
  ]);
  const [only, ...rest] = fragmentsOf(new Fragmenter(new MuxFragmentStrategy()), new Uint8Array(0));
  assert.equal(rest.length, 0);
  assert.deepEqual(only, Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0));
});

test("a long message splits into full fragments then the rest; only the last is final", () => {
  const metas: FragmentMeta[] = [];
  const mux = metaSpy(new MuxFragmentStrategy({ maxFragmentPayload: 30 }), metas);
  const fragments = fragmentsOf(new Fragmenter(mux), pattern(100));
  assert.deepEqual(metas, [
    { msgId: 0, seq: 0, isFinal: false, payloadLen: 30, totalLen: 100 },
    { msgId: 0, seq: 1, isFinal: false, payloadLen: 30 },
    { msgId: 0, seq: 2, isFinal: false, payloadLen: 30 },
    { msgId: 0, seq: 3, isFinal: true, payloadLen: 10 },
  ]);
  assert.deepEqual(fragments.map((f) => f.length), [17 + 30, 13 + 30, 13 + 30, 13 + 10]);
});

test("a message of exactly n × maxFragmentPayload has no empty trailing fragment", () => {
  const fragments = fragmentsOf(
    new Fragmenter(new LenFlag32K({ maxFragmentPayload: 10 })),
    pattern(30),
  );
  assert.deepEqual(fragments.map((f) => [f[0], f[1]]), [[0, 10], [0, 10], [0x80, 10]]);
});

test("multiplexed message ids count up per fragmenter and wrap after maxMsgId", () => {
  const ids = (fragmenter: Fragmenter, n: number) =>
    Array.from(
      { length: n },
      () => new DataView(fragmentsOf(fragmenter, pattern(2))[0]!.buffer).getUint32(0),
    );
  const mux = new MuxFragmentStrategy();
  const a = new Fragmenter(mux);
  const b = new Fragmenter(mux);
  assert.deepEqual(ids(a, 3), [0, 1, 2]);
  assert.deepEqual(ids(b, 2), [0, 1]);
  assert.equal(a.nextMsgId, 3);
  const narrow: FragmentStrategy = { ...spyStrategy(mux, []), maxMsgId: 2 };
  assert.deepEqual(ids(new Fragmenter(narrow), 5), [0, 1, 2, 0, 1]);
});

test("a non-multiplexed strategy always gets msgId 0", () => {
  const metas: FragmentMeta[] = [];
  const fragmenter = new Fragmenter(metaSpy(new LenFlag32K({ maxFragmentPayload: 4 }), metas));
  fragmentsOf(fragmenter, pattern(9));
  fragmentsOf(fragmenter, pattern(1));
  assert.deepEqual(metas.map((m) => [m.msgId, m.seq]), [[0, 0], [0, 1], [0, 2], [0, 0]]);
});

test("a message above maxMessageSize is MessageTooLargeError before anything is emitted", () => {
  const fragmenter = new Fragmenter(new LenFlag32K(), { maxMessageSize: 100 });
  let emitted = 0;
  const err = thrown(() => fragmenter.split(new Uint8Array(101), () => emitted++));
  assert.ok(err instanceof MessageTooLargeError);
  assert.equal(err.messageSize, 101);
  assert.equal(err.maxMessageSize, 100);
  assert.equal(emitted, 0);
  assert.equal(fragmentsOf(fragmenter, new Uint8Array(100)).length, 1);
});

test("maxFragmentPayload is context-aware: the limit may depend on the message", () => {
  // Message type in byte 0: type 1 goes in 4-byte fragments, anything else in 16-byte ones.
  const mux = new MuxFragmentStrategy({ maxFragmentPayload: (frame) => frame[0] === 1 ? 4 : 16 });
  const seen: Uint8Array[] = [];
  const fragmenter = new Fragmenter(spyStrategy(mux, seen));
  const small = Uint8Array.of(1, ...pattern(15));
  const large = Uint8Array.of(2, ...pattern(15));
  assert.equal(fragmentsOf(fragmenter, small).length, 4);
  assert.equal(fragmentsOf(fragmenter, large).length, 1);
  // encodeHeaderInto saw the whole logical frame every time.
  assert.deepEqual(seen.map((f) => f === small ? "small" : f === large ? "large" : "?"), [
    "small",
    "small",
    "small",
    "small",
    "large",
  ]);
  const reassembler = new Reassembler(mux);
  const out: Uint8Array[] = [];
  for (const m of [small, large]) {
    fragmenter.split(m, (f) => reassembler.push(f, 0, (msg) => out.push(msg.slice())));
  }
  assert.deepEqual(out, [small, large]);
});

test("a strategy returning a bad payload limit or header length is ConfigError", () => {
  const base = new MuxFragmentStrategy();
  for (const limit of [0, 1.5, NaN, -3]) {
    const bad = { ...spyStrategy(base, []), maxFragmentPayload: () => limit };
    const err = thrown(() => new Fragmenter(bad).split(pattern(4), () => {}));
    assert.ok(err instanceof ConfigError, String(limit));
    assert.equal(err.option, "strategy");
  }
  const liar = { ...spyStrategy(base, []), headerLength: () => 20 };
  assert.ok(thrown(() => new Fragmenter(liar).split(pattern(4), () => {})) instanceof ConfigError);
  const fn = new LenFlag32K({ maxFragmentPayload: () => 40_000 });
  const err = thrown(() => new Fragmenter(fn).split(pattern(4), () => {}));
  assert.ok(err instanceof ConfigError);
  assert.equal(err.option, "maxFragmentPayload");
  assert.match(err.message, /1 to 32767 \(got 40000\)/);
});

test("emitted fragments never overlap: earlier ones survive later splits", () => {
  const fragmenter = new Fragmenter(new MuxFragmentStrategy({ maxFragmentPayload: 100 }));
  const kept: Uint8Array[] = [];
  const copies: Uint8Array[] = [];
  for (let i = 0; i < 50; i++) {
    fragmenter.split(pattern(250, i), (f) => {
      kept.push(f);
      copies.push(f.slice());
    });
  }
  assert.deepEqual(kept, copies);
});
