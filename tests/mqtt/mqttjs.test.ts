/**
 * The broker (examples/mqtt) against MQTT.js, a client nobody here wrote,
 * over TCP on 127.0.0.1: QoS 0/1/2, wildcards and $-topics, retained
 * messages, wills, persistent sessions with an offline queue, takeover, ACL.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { broker, client, deadline, inbox, waitFor } from "./_helpers.ts";

test("QoS 0, 1 and 2 reach a subscriber once each, at min(granted, published)", async () => {
  await using b = await broker();
  await using high = await client(b.url, { clientId: "high" });
  await using low = await client(b.url, { clientId: "low" });
  const highBox = inbox(high), lowBox = inbox(low);
  await high.subscribeAsync("q/#", { qos: 2 });
  const [grant] = await low.subscribeAsync("q/#", { qos: 1 });
  assert.equal(grant!.qos, 1);
  await using pub = await client(b.url, { clientId: "pub" });
  await pub.publishAsync("q/0", "zero", { qos: 0 });
  await pub.publishAsync("q/1", "one", { qos: 1 });
  await pub.publishAsync("q/2", "two", { qos: 2 });
  const got = (await highBox.next(3)).map((m) => [m.topic, m.payload, m.qos, m.retain]);
  assert.deepEqual(got.sort(), [["q/0", "zero", 0, false], ["q/1", "one", 1, false], [
    "q/2",
    "two",
    2,
    false,
  ]]);
  const lowGot = (await lowBox.next(3)).map((m) => [m.topic, m.qos]);
  assert.deepEqual(lowGot.sort(), [["q/0", 0], ["q/1", 1], ["q/2", 1]]);
  // Ordering per QoS: a burst of QoS 1 arrives in publish order.
  for (let i = 0; i < 50; i++) await pub.publishAsync("q/order", String(i), { qos: 1 });
  const burst = (await highBox.next(53)).slice(3).map((m) => m.payload);
  assert.deepEqual(burst, Array.from({ length: 50 }, (_, i) => String(i)));
  assert.equal(highBox.messages.length, 53, "each message exactly once");
});

test("+ and # match by level, $-topics escape leading wildcards, overlaps deliver once at the highest QoS", async () => {
  await using b = await broker();
  await using sub = await client(b.url, { clientId: "wild" });
  const box = inbox(sub);
  await sub.subscribeAsync({ "sport/+/score": { qos: 0 }, "sport/#": { qos: 1 }, "#": { qos: 0 } });
  await using dollar = await client(b.url, { clientId: "dollar" });
  const dollarBox = inbox(dollar);
  await dollar.subscribeAsync("$SYS/#", { qos: 0 });
  await using pub = await client(b.url, { clientId: "pub" });
  await pub.publishAsync("$SYS/uptime", "1", { qos: 1 }); // not for "#"
  await pub.publishAsync("sport/tennis/score", "15-0", { qos: 1 }); // three filters match
  await pub.publishAsync("sport", "parent", { qos: 1 }); // "sport/#" matches its parent
  await pub.publishAsync("news", "n", { qos: 1 }); // only "#"
  const got = (await box.next(3)).map((m) => [m.topic, m.qos]);
  assert.deepEqual(got, [["sport/tennis/score", 1], ["sport", 1], ["news", 0]]);
  const [sys] = await dollarBox.next(1);
  assert.equal(sys!.topic, "$SYS/uptime");
  await sub.unsubscribeAsync(["#", "sport/#", "sport/+/score"]);
  await pub.publishAsync("news", "after", { qos: 1 });
  await pub.publishAsync("$SYS/uptime", "2", { qos: 1 });
  await dollarBox.next(2); // the broker has routed "news" by now, to nobody
  assert.equal(box.messages.length, 3, "no delivery after UNSUBSCRIBE");
});

test("retained: the last message per topic goes to new subscribers with RETAIN 1; an empty payload deletes it", async () => {
  await using b = await broker();
  await using pub = await client(b.url, { clientId: "pub" });
  await using live = await client(b.url, { clientId: "live" });
  const liveBox = inbox(live);
  await live.subscribeAsync("r/#", { qos: 1 });
  await pub.publishAsync("r/a", "first", { qos: 1, retain: true });
  await pub.publishAsync("r/a", "last", { qos: 1, retain: true });
  await pub.publishAsync("r/b", "gone", { qos: 0, retain: true });
  await pub.publishAsync("r/b", "", { qos: 0, retain: true });
  const current = await liveBox.next(4);
  assert.ok(current.every((m) => !m.retain), "current subscribers get RETAIN 0");
  await using late = await client(b.url, { clientId: "late" });
  const lateBox = inbox(late);
  await late.subscribeAsync("r/+", { qos: 2 });
  const [kept] = await lateBox.next(1);
  assert.deepEqual([kept!.topic, kept!.payload, kept!.qos, kept!.retain], ["r/a", "last", 1, true]);
  await late.subscribeAsync("r/a", { qos: 0 }); // a new SUBSCRIBE sends the retained again
  const [again] = await lateBox.next(2).then((m) => m.slice(1));
  assert.deepEqual([again!.payload, again!.qos, again!.retain], ["last", 0, true]);
  assert.equal(b.broker.retained.size, 1);
});

test("the will of a client that vanishes is published; a DISCONNECT discards it", async () => {
  await using b = await broker();
  await using watcher = await client(b.url, { clientId: "watcher" });
  const box = inbox(watcher);
  await watcher.subscribeAsync("will/#", { qos: 1 });
  const killed = await client(b.url, {
    clientId: "killed",
    will: { topic: "will/killed", payload: Buffer.from("gone"), qos: 1, retain: false },
  });
  const polite = await client(b.url, {
    clientId: "polite",
    will: { topic: "will/polite", payload: Buffer.from("never"), qos: 1, retain: false },
  });
  await deadline(polite.endAsync(), "polite DISCONNECT");
  // Its teardown (where a will would go out) has run once its clean session is gone.
  await waitFor(() => b.broker.sessions.get("polite") === undefined, "polite's teardown");
  killed.stream.destroy(); // no DISCONNECT: the socket just goes
  const [will] = await box.next(1);
  assert.deepEqual([will!.topic, will!.payload, will!.qos], ["will/killed", "gone", 1]);
  killed.end(true);
  assert.equal(b.broker.stats.wills, 1, "only the vanished client's will");
});

test("a persistent session keeps its subscriptions and queues QoS 1 while offline, up to max-queued", async () => {
  await using b = await broker({ maxQueued: 3 });
  const first = await client(b.url, { clientId: "keeper", clean: false });
  assert.equal(first.connected, true);
  await first.subscribeAsync("p/#", { qos: 1 });
  await deadline(first.endAsync(), "DISCONNECT");
  await waitFor(() => b.broker.sessions.get("keeper")?.link === undefined, "keeper offline");
  await using pub = await client(b.url, { clientId: "pub" });
  for (let i = 0; i < 5; i++) await pub.publishAsync("p/x", `m${i}`, { qos: 1 });
  await pub.publishAsync("p/x", "qos0 is not kept", { qos: 0 });
  assert.equal(b.broker.stats.droppedQueued, 2, "two over the bound, counted");
  await using again = await client(b.url, { clientId: "keeper", clean: false });
  assert.equal(again.connack.sessionPresent, true);
  const box = inbox(again);
  const got = await box.next(3);
  assert.deepEqual(got.map((m) => [m.payload, m.qos]), [["m0", 1], ["m1", 1], ["m2", 1]]);
  // The subscription survived: a new message arrives without a new SUBSCRIBE.
  await pub.publishAsync("p/y", "live", { qos: 1 });
  assert.equal((await box.next(4))[3]!.payload, "live");
});

test("session present is reported, and a clean session discards the old one", async () => {
  await using b = await broker();
  const sessionPresent = async (clean: boolean) => {
    const c = await client(b.url, { clientId: "sp", clean });
    await deadline(c.endAsync(), "end");
    return c.connack.sessionPresent;
  };
  assert.equal(await sessionPresent(false), false, "a new session");
  assert.equal(await sessionPresent(false), true, "resumed");
  assert.equal(await sessionPresent(true), false, "clean start");
  // A clean session ends with its connection.
  await waitFor(() => b.broker.sessions.size === 0, "the clean session to end");
});

test("a second connection with a live client id takes the session over; the first is closed and its will goes out", async () => {
  await using b = await broker();
  await using watcher = await client(b.url, { clientId: "watcher" });
  const box = inbox(watcher);
  await watcher.subscribeAsync("will/#", { qos: 0 });
  const old = await client(b.url, {
    clientId: "twin",
    clean: false,
    will: { topic: "will/twin", payload: Buffer.from("taken over"), qos: 0, retain: false },
  });
  await old.subscribeAsync("t/#", { qos: 1 });
  const oldClosed = new Promise<void>((resolve) => old.once("close", () => resolve()));
  await using fresh = await client(b.url, { clientId: "twin", clean: false });
  await deadline(oldClosed, "the old connection to be closed");
  old.end(true);
  const [will] = await box.next(1);
  assert.equal(will!.payload, "taken over");
  assert.equal(b.broker.stats.takeovers, 1);
  const freshBox = inbox(fresh);
  await using pub = await client(b.url, { clientId: "pub" });
  await pub.publishAsync("t/1", "to the new connection", { qos: 1 });
  const [m] = await freshBox.next(1);
  assert.equal(m!.payload, "to the new connection");
});

test("ACL: a filter inside a denied one gets SUBACK 0x80; a denied topic is acknowledged and dropped", async () => {
  await using b = await broker({ denySubscribe: ["secret/#"], denyPublish: ["readonly/#"] });
  await using sub = await client(b.url, { clientId: "sub" });
  const box = inbox(sub);
  // MQTT.js rejects a SUBACK holding a failure, with the SUBACK.
  const suback = await sub.subscribeAsync({ "secret/a": { qos: 1 }, "#": { qos: 1 } }).then(
    () => assert.fail("0x80 expected"),
    (err: { packet: { granted: number[] } }) => err.packet,
  );
  assert.deepEqual(suback.granted, [128, 1]);
  await using pub = await client(b.url, { clientId: "pub" });
  await pub.publishAsync("secret/a", "hidden", { qos: 1 }); // not delivered, even to "#"
  await pub.publishAsync("readonly/x", "refused", { qos: 1 }); // PUBACKed, then dropped
  await pub.publishAsync("open", "ok", { qos: 1 });
  const [m] = await box.next(1);
  assert.equal(m!.payload, "ok");
  assert.equal(box.messages.length, 1);
  assert.equal(b.broker.stats.deniedPublish, 1);
  assert.equal(b.broker.stats.deniedSubscribe, 1);
});

test("authenticate refuses with CONNACK 4 or 5, a hook that throws with 3, and the connection closes", async () => {
  await using b = await broker({
    authenticate: ({ username, password }) => {
      if (username === "boom") throw new Error("auth backend down");
      return username === undefined ? 5 : new TextDecoder().decode(password) === "pw" ? 0 : 4;
    },
  });
  await using ok = await client(b.url, { clientId: "ok", username: "u", password: "pw" });
  assert.equal(ok.connected, true);
  const refusals = [[{ username: "u", password: "bad" }, 4], [{}, 5], [{ username: "boom" }, 3]];
  for (const [options, code] of refusals as [object, number][]) {
    await assert.rejects(
      client(b.url, { clientId: `refused-${code}`, ...options }),
      (err: Error & { code?: number }) => err.code === code,
    );
  }
});

test("keepalive: an MQTT.js client with keepalive 1 s lives on its PINGREQs past 1.5 s of no other packet", async () => {
  await using b = await broker();
  await using c = await client(b.url, { clientId: "pinger", keepalive: 1 });
  let pongs = 0;
  await deadline(
    new Promise<void>((resolve) =>
      c.on("packetreceive", (packet) => {
        if (packet.cmd === "pingresp" && ++pongs === 2) resolve();
      })
    ),
    "two PINGRESPs",
  );
  assert.equal(c.connected, true);
  assert.equal(b.server.stats().timeouts, 0);
});
