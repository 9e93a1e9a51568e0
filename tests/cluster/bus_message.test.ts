/**
 * The bytes of a bus message: every message survives a round trip, and any
 * other bytes are a MalformedBusMessageError, never a crash; a bus fed
 * garbage or a replayed message drops and counts it.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  decodeMessage,
  encodeMessage,
  Kind,
  type KindCode,
} from "../../src/cluster/bus_message.ts";
import { BusCore, parseBusOptions } from "../../src/cluster/bus_core.ts";
import { MalformedBusMessageError } from "../../src/cluster/errors.ts";
import { channelMatcher } from "../../src/cluster/glob.ts";

const message = fc.record({
  kind: fc.constantFrom(...Object.values(Kind)) as fc.Arbitrary<KindCode>,
  status: fc.integer({ min: 0, max: 255 }),
  origin: fc.string({ maxLength: 64 }),
  seq: fc.maxSafeNat(),
  ref: fc.maxSafeNat(),
  channel: fc.string({ maxLength: 200 }),
  payload: fc.uint8Array({ maxLength: 300 }),
});

test("every bus message decodes to itself", () => {
  fc.assert(fc.property(message, (m) => {
    assert.deepEqual(decodeMessage(encodeMessage(m)), { ...m });
  }));
});

test("any other bytes decode to a MalformedBusMessageError or a message, never another error", () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
    try {
      decodeMessage(bytes);
    } catch (error) {
      assert.ok(error instanceof MalformedBusMessageError, String(error));
    }
  }));
  fc.assert(fc.property(message, fc.nat(), (m, cut) => {
    const bytes = encodeMessage(m);
    const short = bytes.subarray(0, cut % bytes.length);
    try {
      decodeMessage(short);
    } catch (error) {
      assert.ok(error instanceof MalformedBusMessageError);
    }
  }));
});

test("a bus drops and counts garbage and replayed messages, and delivers the rest once", () => {
  const core = new BusCore("me", parseBusOptions("test", {}));
  const got: string[] = [];
  core.subscribe("*", (m) => void got.push(`${m.origin}/${m.seq}`));
  const from = (seq: number) =>
    encodeMessage({
      kind: Kind.publish,
      status: 0,
      origin: "other",
      seq,
      ref: 0,
      channel: "c",
      payload: new Uint8Array(0),
    });
  core.receive(Uint8Array.of(1, 2, 3));
  core.receive(from(1));
  core.receive(from(1)); // replayed
  core.receive(from(2));
  core.receive(encodeMessage({ ...decodeMessage(from(3)), origin: "me" })); // our own echo
  assert.deepEqual(got, ["other/1", "other/2"]);
  assert.equal(core.stats().malformed, 1);
  assert.equal(core.stats().duplicates, 1);
});

test("channel patterns: * any run, ? one character, \\ a literal", () => {
  const cases: [string, string, boolean][] = [
    ["a.*", "a.b.c", true],
    ["a.*", "a.", true],
    ["a.*", "b.a", false],
    ["a.?", "a.b", true],
    ["a.?", "a.bc", false],
    ["a\\*", "a*", true],
    ["a\\*", "ab", false],
    ["x[1]", "x[1]", true],
    ["plain", "plain", true],
    ["plain", "plainer", false],
  ];
  for (const [pattern, channel, matches] of cases) {
    assert.equal(channelMatcher(pattern)(channel), matches, `${pattern} ~ ${channel}`);
  }
});
