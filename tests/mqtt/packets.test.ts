/** Packet decoding and encoding (examples/mqtt/packets.ts): what the standard calls malformed is refused. */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  decodeConnect,
  decodePublish,
  decodeSubscribe,
  decodeUnsubscribe,
  encodeAck,
  encodePublish,
  encodeSuback,
  forwardPublish,
  MalformedPacketError,
  setPacketId,
  withPacketId,
} from "../../examples/mqtt/packets.ts";
import { connectPacket, packet } from "./_helpers.ts";

test("CONNECT: the fields as sent, the will and credentials when flagged", () => {
  const c = decodeConnect(connectPacket({
    clientId: "dev-1",
    clean: false,
    keepalive: 60,
    will: { topic: "w", payload: "bye", qos: 1, retain: true },
  }));
  assert.deepEqual(
    [
      c.protocolLevel,
      c.cleanSession,
      c.keepalive,
      c.clientId,
      c.will?.topic,
      c.will?.qos,
      c.will?.retain,
    ],
    [4, false, 60, "dev-1", "w", 1, true],
  );
  assert.equal(new TextDecoder().decode(c.will!.payload), "bye");
  // Another level is returned as sent (the broker answers CONNACK 0x01), whatever the flags.
  assert.equal(decodeConnect(connectPacket({ level: 5, flags: 0x01 })).protocolLevel, 5);
});

test("CONNECT: the reserved flag, will QoS 3, will flags without a will, a password without a user name, another protocol name", () => {
  for (
    const [what, bytes] of [
      ["reserved flag", connectPacket({ flags: 0x03 })],
      ["will QoS 3", connectPacket({ will: { topic: "w", payload: "", qos: 3 } })],
      ["will retain without a will", connectPacket({ flags: 0x22 })],
      ["password without user name", connectPacket({ flags: 0x42 })],
      ["protocol name", connectPacket({ name: "MQTX" })],
      ["trailing bytes", packet(0x10, [...connectPacket().subarray(2), 0])],
      ["cut short", connectPacket().subarray(0, 8)],
    ] as const
  ) {
    assert.throws(() => decodeConnect(bytes), MalformedPacketError, what);
  }
});

test("PUBLISH: topic, packet id and payload view; DUP on QoS 0 and packet id 0 are refused", () => {
  const { frame, idOffset } = encodePublish("a/b", Uint8Array.of(1, 2), 1, true);
  const p = decodePublish(withPacketId({ frame, idOffset }, 513, true));
  assert.deepEqual([p.topic, p.qos, p.retain, p.dup, p.packetId, [...p.payload]], [
    "a/b",
    1,
    true,
    true,
    513,
    [1, 2],
  ]);
  assert.throws(() => decodePublish(frame), MalformedPacketError, "packet id 0");
  const qos0 = encodePublish("a", new Uint8Array(0), 0, false).frame;
  qos0[0]! |= 0x08;
  assert.throws(() => decodePublish(qos0), MalformedPacketError, "DUP on QoS 0");
});

test("SUBSCRIBE and UNSUBSCRIBE need a filter; a requested QoS byte above 2 is refused", () => {
  assert.deepEqual(decodeSubscribe(packet(0x82, [0, 9, 0, 1, 0x61, 2])), {
    packetId: 9,
    subscriptions: [{ filter: "a", qos: 2 }],
  });
  assert.throws(() => decodeSubscribe(packet(0x82, [0, 9])), MalformedPacketError);
  assert.throws(() => decodeSubscribe(packet(0x82, [0, 9, 0, 1, 0x61, 4])), MalformedPacketError);
  assert.throws(() => decodeUnsubscribe(packet(0xa2, [0, 9])), MalformedPacketError);
  assert.deepEqual(decodeUnsubscribe(packet(0xa2, [0, 9, 0, 1, 0x61])).filters, ["a"]);
});

test("strings: not UTF-8, or holding U+0000, are refused; a BOM is kept", () => {
  assert.throws(() => decodeSubscribe(packet(0x82, [0, 1, 0, 1, 0xff, 0])), MalformedPacketError);
  assert.throws(() => decodeSubscribe(packet(0x82, [0, 1, 0, 1, 0x00, 0])), MalformedPacketError);
  const bom = decodeSubscribe(packet(0x82, [0, 1, 0, 4, 0xef, 0xbb, 0xbf, 0x61, 0]));
  assert.equal(bom.subscriptions[0]!.filter, "\ufeffa");
});

test("strings: ASCII, UTF-8 and a string too long to be tried as ASCII decode alike", () => {
  for (const text of ["a/b", "ä/€/😀", "t".repeat(64), "t".repeat(65), `${"t".repeat(70)}é`]) {
    const bytes = new TextEncoder().encode(text);
    const frame = packet(0x82, [0, 1, bytes.length >> 8, bytes.length & 0xff, ...bytes, 1]);
    assert.equal(decodeSubscribe(frame).subscriptions[0]!.filter, text);
  }
  const nul = [...new TextEncoder().encode("t".repeat(70)), 0];
  assert.throws(
    () => decodeSubscribe(packet(0x82, [0, 1, 0, 71, ...nul, 0])),
    MalformedPacketError,
  );
});

test("forwardPublish: a copy with DUP and RETAIN cleared whose packet id setPacketId and withPacketId fill", () => {
  const sent = setPacketId(encodePublish("a/b", Uint8Array.of(1, 2, 3), 2, true), 9, true);
  const forwarded = forwardPublish(sent);
  assert.notEqual(forwarded.frame.buffer, sent.buffer);
  const copy = withPacketId(forwarded, 0x0102, false);
  const own = setPacketId(forwarded, 0x0304, true);
  assert.equal(own, forwarded.frame);
  for (const [frame, id, dup] of [[copy, 0x0102, false], [own, 0x0304, true]] as const) {
    const p = decodePublish(frame);
    assert.deepEqual([p.topic, p.qos, p.retain, p.dup, p.packetId, [...p.payload]], [
      "a/b",
      2,
      false,
      dup,
      id,
      [1, 2, 3],
    ]);
  }
  const p = decodePublish(sent);
  assert.deepEqual(
    [p.retain, p.dup, p.packetId],
    [true, true, 9],
    "the packet sent is left as it was",
  );
});

test("acknowledgements are four bytes each, and one does not change another", () => {
  const acks = [encodeAck(4, 1), encodeAck(6, 0x0203), encodeAck(7, 65535)];
  assert.deepEqual(acks.map((a) => [...a]), [[0x40, 2, 0, 1], [0x62, 2, 2, 3], [
    0x70,
    2,
    255,
    255,
  ]]);
});

test("SUBACK carries one code per filter after the packet id", () => {
  assert.deepEqual([...encodeSuback(258, [0, 1, 0x80])], [0x90, 5, 1, 2, 0, 1, 0x80]);
});
