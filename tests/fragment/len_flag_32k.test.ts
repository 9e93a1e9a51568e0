import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ConfigError,
  LEN_FLAG_32K_MAX_PAYLOAD,
  LenFlag32K,
  MalformedFragmentError,
} from "../../src/fragment/mod.ts";
import { Fragmenter, fragmentsOf, pattern, pushAll, Reassembler, thrown } from "./_helpers.ts";

const strategy = new LenFlag32K();
const meta = (isFinal: boolean, payloadLen: number) => ({ msgId: 0, seq: 0, isFinal, payloadLen });

function header(isFinal: boolean, payloadLen: number): number[] {
  const out = new Uint8Array(2);
  assert.equal(strategy.encodeHeaderInto(meta(isFinal, payloadLen), out, out, 0), 2);
  return [...out];
}

test("header: top bit is the final flag, low 15 bits the payload length, big-endian", () => {
  assert.deepEqual(header(false, 0), [0x00, 0x00]);
  assert.deepEqual(header(true, 0), [0x80, 0x00]);
  assert.deepEqual(header(false, 0x1234), [0x12, 0x34]);
  assert.deepEqual(header(true, 0x1234), [0x92, 0x34]);
  assert.deepEqual(header(false, 32_767), [0x7f, 0xff]);
  assert.deepEqual(header(true, 32_767), [0xff, 0xff]);
  assert.equal(strategy.headerLength(meta(true, 1), new Uint8Array(0)), 2);
  assert.equal(strategy.multiplexed, false);
});

test("decodeHeader reads the flag and length; msgId and seq are implied (0)", () => {
  assert.deepEqual(strategy.decodeHeader(Uint8Array.of(0xff, 0xff)), {
    kind: "header",
    headerLen: 2,
    meta: meta(true, 32_767),
  });
  assert.deepEqual(strategy.decodeHeader(Uint8Array.of(0x7f, 0xff, 9)), {
    kind: "header",
    headerLen: 2,
    meta: meta(false, 32_767),
  });
  assert.deepEqual(strategy.decodeHeader(Uint8Array.of(0x80)), { kind: "need-more" });
  assert.deepEqual(strategy.decodeHeader(new Uint8Array(0)), { kind: "need-more" });
});

test("encodeHeaderInto rejects a payload of 32 768 bytes or a target without room", () => {
  const out = new Uint8Array(2);
  assert.throws(() => strategy.encodeHeaderInto(meta(true, 32_768), out, out, 0), RangeError);
  assert.throws(() => strategy.encodeHeaderInto(meta(true, -1), out, out, 0), RangeError);
  assert.throws(() => strategy.encodeHeaderInto(meta(true, 1), out, out, 1), RangeError);
  assert.deepEqual(out, new Uint8Array(2));
});

test("a 32 767-byte message is one fragment; 32 768 bytes are two", () => {
  const fragmenter = new Fragmenter(strategy);
  const exact = fragmentsOf(fragmenter, pattern(32_767));
  assert.deepEqual(exact.map((f) => [f.length, f[0], f[1]]), [[32_769, 0xff, 0xff]]);
  const over = fragmentsOf(fragmenter, pattern(32_768));
  assert.deepEqual(over.map((f) => [f.length, f[0], f[1]]), [[32_769, 0x7f, 0xff], [
    3,
    0x80,
    0x01,
  ]]);
  assert.deepEqual(pushAll(new Reassembler(strategy), [...exact, ...over]), [
    pattern(32_767),
    pattern(32_768),
  ]);
});

test("a 5 MiB message splits into 32 767-byte fragments and re-assembles byte for byte", () => {
  const message = pattern(5 * 1024 * 1024, 3);
  const fragments = fragmentsOf(new Fragmenter(strategy), message);
  assert.equal(fragments.length, Math.ceil(message.length / LEN_FLAG_32K_MAX_PAYLOAD));
  assert.ok(fragments.slice(0, -1).every((f) => f.length === 32_769 && f[0] === 0x7f));
  assert.equal(fragments.at(-1)![0]! & 0x80, 0x80);
  const reassembler = new Reassembler(strategy);
  const [out, ...rest] = pushAll(reassembler, fragments);
  assert.equal(rest.length, 0);
  assert.equal(out!.length, message.length);
  assert.ok(out!.every((b, i) => b === message[i]));
  assert.equal(reassembler.chargedBytes, 0);
  assert.equal(reassembler.bufferedBytes, 0);
});

test("the header's payload length must equal the bytes that follow", () => {
  for (const fragment of [Uint8Array.of(0x80, 3, 1, 2), Uint8Array.of(0x80, 1, 1, 2)]) {
    const err = thrown(() => new Reassembler(strategy).push(fragment, 0, () => {}));
    assert.ok(err instanceof MalformedFragmentError);
    assert.equal(err.reason, "payload-length");
    assert.equal(err.code, "ERR_MALFORMED_FRAGMENT");
  }
});

test("a fragment shorter than the 2-byte header is a truncated header", () => {
  for (const fragment of [new Uint8Array(0), Uint8Array.of(0x80)]) {
    const err = thrown(() => new Reassembler(strategy).push(fragment, 0, () => {}));
    assert.ok(err instanceof MalformedFragmentError);
    assert.equal(err.reason, "truncated-header");
  }
});

test("sequence is implied by order: consecutive messages re-assemble one after another", () => {
  const small = new LenFlag32K({ maxFragmentPayload: 3 });
  const fragmenter = new Fragmenter(small);
  const messages = [pattern(7, 1), pattern(0), pattern(3, 2), pattern(10, 3)];
  const fragments = messages.flatMap((m) => fragmentsOf(fragmenter, m));
  assert.deepEqual(pushAll(new Reassembler(small), fragments), messages);
});

test("maxFragmentPayload must be 1 to 32 767 or a function", () => {
  for (const bad of [0, 32_768, 1.5, "1"]) {
    const err = thrown(() => new LenFlag32K({ maxFragmentPayload: bad as number }));
    assert.ok(err instanceof ConfigError);
    assert.equal(err.option, "maxFragmentPayload");
    assert.match(
      err.message,
      /LenFlag32K: option "maxFragmentPayload" must be an integer from 1 to 32767/,
    );
  }
  assert.equal(new LenFlag32K({ maxFragmentPayload: 100 }).maxFragmentPayload(pattern(1)), 100);
  const byLength = new LenFlag32K({ maxFragmentPayload: (f) => f.length > 10 ? 5 : 1 });
  assert.equal(byLength.maxFragmentPayload(pattern(11)), 5);
  assert.equal(byLength.maxFragmentPayload(pattern(2)), 1);
});
