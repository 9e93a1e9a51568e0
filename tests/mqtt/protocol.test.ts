/**
 * The broker's protocol rules, driven byte by byte over TCP (input a real
 * client would not send): CONNECT first and once, CONNACK codes, framing
 * faults that close only their connection, keepalive expiry with the will,
 * QoS 2 exactly once against a resending publisher, the in-flight window,
 * DUP on redelivery.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { once } from "node:events";
import {
  broker,
  client,
  connectPacket,
  packet,
  parsePublish,
  publishPacket,
  RawClient,
  rawConnect,
  readPacket,
  subscribePacket,
  waitFor,
} from "./_helpers.ts";

const CONNACK = 2, PUBLISH = 3, PUBREC = 5, PUBREL = 6, PUBCOMP = 7, SUBACK = 9;
const PINGREQ = Uint8Array.of(0xc0, 0);
const PINGRESP = 13;

test("CONNACK: 0 with session-present 0, 0x01 for protocol level 5 (MQTT 5), 0x02 for an empty id without clean session", async () => {
  await using b = await broker();
  const ok = await rawConnect(b.port, { clientId: "c1" });
  assert.deepEqual([ok.ack.type, ...ok.ack.body], [CONNACK, 0, 0]);
  await using _ok = ok.raw;
  for (const [options, code] of [[{ level: 5 }, 1], [{ clientId: "", clean: false }, 2]] as const) {
    const { raw, ack } = await rawConnect(b.port, options);
    await using _raw = raw;
    assert.deepEqual([ack.type, ...ack.body], [CONNACK, 0, code]);
    assert.equal((await raw.readEnd()).how, "eof", "then the broker closes");
  }
  // An empty id with clean session gets one assigned, and works.
  const anon = await rawConnect(b.port, { clientId: "" });
  await using _anon = anon.raw;
  assert.deepEqual([...anon.ack.body], [0, 0]);
  await anon.raw.write(PINGREQ);
  assert.equal((await readPacket(anon.raw)).type, PINGRESP);
});

test("anything before CONNECT, a second CONNECT, or a silent socket past the connect timeout closes the connection unanswered", async () => {
  await using b = await broker({ connectTimeoutMs: 200 });
  await using early = await RawClient.connect(b.port);
  await early.write(publishPacket("a", "x", 0));
  assert.deepEqual(await early.readEnd(), { how: "eof", rest: new Uint8Array(0) });

  const twice = await rawConnect(b.port, { clientId: "twice" });
  await using _twice = twice.raw;
  await twice.raw.write(connectPacket({ clientId: "twice" }));
  assert.equal((await twice.raw.readEnd()).how, "eof");

  await using silent = await RawClient.connect(b.port);
  assert.deepEqual(await silent.readEnd(), { how: "eof", rest: new Uint8Array(0) });
});

test("a malformed remaining length, wrong fixed-header flags, an oversize packet or bad UTF-8 close only that connection", async () => {
  await using b = await broker({ maxPacketSize: 1024 });
  await using sub = await client(b.url, { clientId: "bystander" });
  await sub.subscribeAsync("still/#", { qos: 0 });
  const bad: [string, Uint8Array][] = [
    ["a fifth length byte", Uint8Array.of(0x30, 0xff, 0xff, 0xff, 0xff, 0x01)],
    ["SUBSCRIBE with flags 0", packet(0x80, [0, 1, 0, 1, 0x61, 0])],
    ["reserved type 15", Uint8Array.of(0xf0, 0)],
    ["PUBLISH with QoS 3", Uint8Array.of(0x36, 0)],
    ["a packet over max-packet-size", Uint8Array.of(0x30, 0x81, 0x08)], // 1025 announced, no body
    ["a topic that is not UTF-8", packet(0x30, [0, 2, 0xc3, 0x28, 0x41])],
    ["a wildcard in a topic name", publishPacket("a/+", "x", 0)],
    ["a PUBACK with trailing bytes", packet(0x40, [0, 1, 0])],
  ];
  await using pub = await client(b.url, { clientId: "pub" });
  for (const [what, bytes] of bad) {
    const { raw } = await rawConnect(b.port, { clientId: `bad-${what}` });
    await using _raw = raw;
    await raw.write(bytes);
    assert.equal((await raw.readEnd(what)).how, "eof", what);
    await pub.publishAsync("still/here", what, { qos: 1 });
  }
  const got = await sub.inbox.next(bad.length);
  assert.deepEqual(got.map((m) => m.payload), bad.map(([what]) => what));
});

test("keepalive: a client silent for 1.5 × keepalive is closed and its will published", async () => {
  await using b = await broker();
  await using watcher = await client(b.url, { clientId: "watcher" });
  await watcher.subscribeAsync("will/#", { qos: 1 });
  const { raw } = await rawConnect(b.port, {
    clientId: "sleepy",
    keepalive: 1,
    will: { topic: "will/sleepy", payload: "timed out", qos: 1 },
  });
  await using _raw = raw;
  assert.equal((await raw.readEnd("the keepalive close")).how, "eof");
  const [will] = await watcher.inbox.next(1);
  assert.deepEqual([will!.topic, will!.payload], ["will/sleepy", "timed out"]);
});

test("QoS 2 from a publisher that resends with DUP is delivered once; PUBREC, PUBREL, PUBCOMP in order", async () => {
  await using b = await broker();
  await using sub = await client(b.url, { clientId: "sub" });
  await sub.subscribeAsync("x/#", { qos: 2 });
  const { raw } = await rawConnect(b.port, { clientId: "resender" });
  await using _raw = raw;
  const first = publishPacket("x/1", "once", 2, 7);
  const dup = first.slice();
  dup[0]! |= 0x08;
  await raw.write(first);
  assert.deepEqual(await readPacket(raw), { type: PUBREC, flags: 0, body: Uint8Array.of(0, 7) });
  await raw.write(dup); // the PUBREC "got lost": the publisher sends again
  assert.deepEqual(await readPacket(raw), { type: PUBREC, flags: 0, body: Uint8Array.of(0, 7) });
  await raw.write(packet(0x62, [0, 7]));
  assert.deepEqual(await readPacket(raw), { type: PUBCOMP, flags: 0, body: Uint8Array.of(0, 7) });
  // Same packet id, new message after PUBREL: delivered again.
  await raw.write(publishPacket("x/1", "next", 2, 7));
  assert.equal((await readPacket(raw)).type, PUBREC);
  const got = await sub.inbox.next(2);
  assert.deepEqual(got.map((m) => [m.payload, m.qos]), [["once", 2], ["next", 2]]);
  await raw.write(PINGREQ);
  await readPacket(raw);
  assert.equal(sub.inbox.messages.length, 2);
});

test("a QoS 1 PUBLISH sent with DUP and RETAIN reaches each subscriber once, with DUP and RETAIN 0 and a packet id of its own; one subscribed at QoS 0 gets it without one", async () => {
  await using b = await broker();
  const subs = [];
  for (const [name, qos] of [["s1", 1], ["s2", 1], ["s0", 0]] as const) {
    const { raw } = await rawConnect(b.port, { clientId: name });
    await raw.write(subscribePacket(1, "f/#", qos));
    assert.equal((await readPacket(raw)).type, SUBACK);
    subs.push(raw);
  }
  await using _s1 = subs[0]!, _s2 = subs[1]!, _s0 = subs[2]!;
  const { raw: pub } = await rawConnect(b.port, { clientId: "pub" });
  await using _pub = pub;
  const publish = async (topic: string, text: string, id: number, flags = 0) => {
    const p = publishPacket(topic, text, 1, id);
    p[0]! |= flags;
    await pub.write(p);
    assert.deepEqual(await readPacket(pub), {
      type: 4,
      flags: 0,
      body: Uint8Array.of(1, id & 0xff),
    });
  };
  // s2 holds packet id 1 (unacknowledged), so s1 and s2 number the next messages differently.
  await subs[1]!.write(subscribePacket(2, "g", 1));
  assert.equal((await readPacket(subs[1]!)).type, SUBACK);
  await publish("g", "held", 299);
  assert.equal(parsePublish(await readPacket(subs[1]!)).id, 1);
  // A first message, then one its sender marks as a resend (DUP) and to be retained.
  await publish("f/é/x", "first", 300);
  await publish("f/é/x", "resent", 301, 0x09);
  for (const [raw, ids] of [[subs[0]!, [1, 2]], [subs[1]!, [2, 3]]] as const) {
    const got = [await readPacket(raw), await readPacket(raw)];
    assert.deepEqual(got.map((p) => [p.type, p.flags, parsePublish(p).topic]), [
      [PUBLISH, 0x02, "f/é/x"],
      [PUBLISH, 0x02, "f/é/x"],
    ]);
    assert.deepEqual(got.map((p) => [parsePublish(p).payload, parsePublish(p).id]), [
      ["first", ids[0]],
      ["resent", ids[1]],
    ]);
  }
  for (const text of ["first", "resent"]) {
    const p = await readPacket(subs[2]!);
    assert.deepEqual([p.flags, parsePublish(p).payload, parsePublish(p).id], [0, text, undefined]);
  }
  // The retained copy keeps the payload and the topic, not the sender's DUP.
  const { raw: late } = await rawConnect(b.port, { clientId: "late" });
  await using _late = late;
  await late.write(subscribePacket(2, "f/#", 1));
  assert.equal((await readPacket(late)).type, SUBACK);
  const kept = await readPacket(late);
  assert.deepEqual([kept.flags, parsePublish(kept).payload], [0x03, "resent"]);
});

test("the in-flight window holds back QoS 1 beyond max-inflight; unacknowledged messages come again with DUP on reconnect", async () => {
  await using b = await broker({ maxInflight: 2 });
  const first = await rawConnect(b.port, { clientId: "slow", clean: false });
  await first.raw.write(subscribePacket(1, "w/#", 1));
  assert.equal((await readPacket(first.raw)).type, SUBACK);
  await using pub = await client(b.url, { clientId: "pub" });
  for (let i = 0; i < 5; i++) await pub.publishAsync("w/x", `m${i}`, { qos: 1 });
  const a = parsePublish(await readPacket(first.raw));
  const c = parsePublish(await readPacket(first.raw));
  assert.deepEqual([a.payload, c.payload], ["m0", "m1"]);
  // Every publish was routed before this PINGREQ is read: a third PUBLISH would come before PINGRESP.
  await first.raw.write(PINGREQ);
  assert.equal((await readPacket(first.raw)).type, PINGRESP, "nothing beyond the window");
  await first.raw.write(packet(0x40, [a.id! >> 8, a.id! & 0xff])); // PUBACK m0 frees one slot
  assert.equal(parsePublish(await readPacket(first.raw)).payload, "m2");
  first.raw.close(); // gone without acknowledging m1 and m2
  await waitFor(() => b.broker.sessions.get("slow")?.link === undefined, "slow offline");

  const again = await rawConnect(b.port, { clientId: "slow", clean: false });
  await using raw = again.raw;
  assert.deepEqual([...again.ack.body], [1, 0], "session present");
  const redelivered = [await readPacket(raw), await readPacket(raw)];
  assert.deepEqual(redelivered.map((p) => [p.flags & 0x08, parsePublish(p).payload]), [
    [0x08, "m1"],
    [0x08, "m2"],
  ]);
  for (const p of redelivered) {
    const id = parsePublish(p).id!;
    await raw.write(packet(0x40, [id >> 8, id & 0xff]));
  }
  const rest = [await readPacket(raw), await readPacket(raw)];
  assert.deepEqual(rest.map((p) => [p.flags & 0x08, parsePublish(p).payload]), [[0, "m3"], [
    0,
    "m4",
  ]]);
});

test("an unacknowledged QoS 2 message past PUBREC gets its PUBREL again on reconnect", async () => {
  await using b = await broker();
  const first = await rawConnect(b.port, { clientId: "q2", clean: false });
  await first.raw.write(subscribePacket(1, "z", 2));
  await readPacket(first.raw);
  await using pub = await client(b.url, { clientId: "pub" });
  await pub.publishAsync("z", "exactly once", { qos: 2 });
  const p = await readPacket(first.raw);
  assert.equal(p.type, PUBLISH);
  const { id } = parsePublish(p);
  await first.raw.write(packet(0x50, [id! >> 8, id! & 0xff])); // PUBREC
  assert.deepEqual(await readPacket(first.raw), {
    type: PUBREL,
    flags: 2,
    body: Uint8Array.of(id! >> 8, id! & 0xff),
  });
  first.raw.close();
  await waitFor(() => b.broker.sessions.get("q2")?.link === undefined, "q2 offline");
  const again = await rawConnect(b.port, { clientId: "q2", clean: false });
  await using raw = again.raw;
  assert.deepEqual(await readPacket(raw), {
    type: PUBREL,
    flags: 2,
    body: Uint8Array.of(id! >> 8, id! & 0xff),
  }, "PUBREL again, not the PUBLISH");
  await raw.write(packet(0x70, [id! >> 8, id! & 0xff])); // PUBCOMP
  await raw.write(PINGREQ);
  assert.equal((await readPacket(raw)).type, PINGRESP);
  assert.equal(b.broker.sessions.get("q2")!.inflight.size, 0);
});

test("a QoS 0 subscriber that stops reading loses messages to the dead-letter queue, counted, and the others get every one", async () => {
  // The default 256 KiB water mark: the reading subscriber, paced by the publisher's PUBACKs, is
  // never 16 messages behind; the stalled one is once its socket buffers are full.
  await using b = await broker({ drainTimeoutMs: 0 });
  // A subscriber that never reads after its SUBACK: its socket buffers fill, then its push queue.
  const stalled = net.connect({ host: "127.0.0.1", port: b.port });
  await once(stalled, "connect");
  stalled.write(connectPacket({ clientId: "stalled" }));
  stalled.write(subscribePacket(1, "f", 0));
  await waitFor(() => b.broker.subscriptionCount === 1, "the stalled subscription");
  stalled.pause();
  try {
    await using fast = await client(b.url, { clientId: "fast" });
    await fast.subscribeAsync("f", { qos: 0 });
    await using pub = await client(b.url, { clientId: "pub" });
    const big = "x".repeat(16 * 1024);
    let sent = 0;
    while (b.broker.stats.droppedQos0 === 0) {
      await pub.publishAsync("f", big, { qos: 1 });
      sent++;
      assert.ok(sent < 10_000, "the stalled subscriber was never over its water mark");
    }
    await fast.inbox.next(sent, "every message at the reading subscriber");
  } finally {
    stalled.destroy();
  }
});

test("a subscriber that takes no bytes for the drain timeout is closed as a slow consumer", async () => {
  await using b = await broker({ highWaterMark: 64 * 1024, drainTimeoutMs: 300 });
  const stalled = net.connect({ host: "127.0.0.1", port: b.port });
  await once(stalled, "connect");
  stalled.write(connectPacket({ clientId: "stalled", will: { topic: "gone", payload: "slow" } }));
  stalled.write(subscribePacket(1, "f", 0));
  await waitFor(() => b.broker.subscriptionCount === 1, "the stalled subscription");
  stalled.pause();
  try {
    await using watcher = await client(b.url, { clientId: "watcher" });
    await watcher.subscribeAsync("gone", { qos: 0 });
    await using pub = await client(b.url, { clientId: "pub" });
    const big = "x".repeat(64 * 1024);
    // Until the socket buffers are full and the drain timeout has passed with no byte taken.
    for (let i = 0; b.server.stats().slowConsumers === 0; i++) {
      assert.ok(i < 20_000, "never closed");
      await pub.publishAsync("f", big, { qos: 1 });
    }
    const [will] = await watcher.inbox.next(1, "the slow consumer's will");
    assert.equal(will!.payload, "slow");
  } finally {
    stalled.destroy();
  }
});
