/**
 * The MQTT broker in cluster mode (examples/mqtt/broker.ts --redis): broker
 * processes on one real redis-server, MQTT.js and mosquitto clients spread
 * over them.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { client, type TestClient } from "../mqtt/_helpers.ts";
import { mosquittoPub, mosquittoSub } from "../mqtt/_mosquitto.ts";
import { deadline, waitFor } from "../e2e/_helpers.ts";
import { startRedis } from "./_redis.ts";
import { type Proc, run } from "./_proc.ts";

const HB = 200;

interface Broker {
  proc: Proc;
  port: number;
  url: string;
}

async function brokers(redisUrl: string, n: number): Promise<Broker[]> {
  const procs = Array.from({ length: n }, () =>
    run("examples/mqtt/broker.ts", [
      "--port",
      "0",
      "--redis",
      redisUrl,
      "--heartbeat-ms",
      String(HB),
    ]));
  return await Promise.all(procs.map(async (proc) => {
    const [match] = await proc.waitFor(/listening on [^:]+:(\d+)/, "broker listening", 1, 30_000);
    const port = Number(match![1]);
    return { proc, port, url: `mqtt://127.0.0.1:${port}` };
  }));
}

async function stop(all: Broker[]): Promise<void> {
  for (const b of all) await b.proc[Symbol.asyncDispose]();
}

test("three brokers: a publish on any node reaches matching subscribers on every node, at the QoS each granted (MQTT.js and mosquitto)", async () => {
  await using redis = await startRedis();
  const nodes = await brokers(redis.url, 3);
  const [n1, n2, n3] = nodes as [Broker, Broker, Broker];
  try {
    await using sub2 = await client(n2.url, { clientId: "sub2" });
    await sub2.subscribeAsync("t/#", { qos: 1 });
    await using sub1 = await client(n1.url, { clientId: "sub1" });
    await sub1.subscribeAsync("t/+", { qos: 0 });
    const mosq = mosquittoSub(n3.port, ["-t", "t/+", "-q", "2", "-C", "2", "-i", "mosq3"]);
    assert.deepEqual(await mosq.subscribed, [2]);
    await using pub = await client(n1.url, { clientId: "pub1" });
    await pub.publishAsync("t/a", "one", { qos: 1 });
    assert.equal((await mosquittoPub(n2.port, ["-t", "t/b", "-m", "two", "-q", "2"])).code, 0);
    const got2 = await sub2.inbox.next(2, "both on n2");
    assert.deepEqual(got2.map((m) => [m.topic, m.payload, m.qos]).sort(), [
      ["t/a", "one", 1],
      ["t/b", "two", 1], // QoS 2 published, QoS 1 granted
    ]);
    const got1 = await sub1.inbox.next(2, "both on n1");
    assert.deepEqual(got1.map((m) => [m.payload, m.qos]).sort(), [["one", 0], ["two", 0]]);
    const { code, lines } = await mosq.done;
    assert.equal(code, 0);
    assert.deepEqual(lines.sort(), ["one", "two"]);
    // Exactly once per subscriber: a marker after them finds nothing else on the way.
    await pub.publishAsync("t/end", "end", { qos: 1 });
    await sub2.inbox.next(3, "the marker on n2");
    assert.equal(sub2.inbox.messages.length, 3);
  } finally {
    await stop(nodes);
  }
});

test("retained messages and persistent sessions follow a client to another node, and a second connection takes its client id over", async () => {
  await using redis = await startRedis();
  const nodes = await brokers(redis.url, 2);
  const [n1, n2] = nodes as [Broker, Broker];
  try {
    // Retained: published on n1, found by a new subscription on n2 and on a broker started later.
    await using live2 = await client(n2.url, { clientId: "live2" });
    await live2.subscribeAsync("r/#", { qos: 1 });
    await using pub = await client(n1.url, { clientId: "pub" });
    await pub.publishAsync("r/1", "kept", { qos: 1, retain: true });
    await live2.inbox.next(1, "the live copy on n2"); // n2 has it now
    await using late = await client(n2.url, { clientId: "late" });
    await late.subscribeAsync("r/#", { qos: 1 });
    const [retained] = await late.inbox.next(1, "the retained message on n2");
    assert.deepEqual([retained!.payload, retained!.retain], ["kept", true]);
    const [n3] = await brokers(redis.url, 1);
    nodes.push(n3!);
    await using later = await client(n3!.url, { clientId: "later" });
    await later.subscribeAsync("r/#", { qos: 1 });
    assert.equal((await later.inbox.next(1, "the retained message on n3"))[0]!.payload, "kept");

    // A persistent session: subscribed on n1, offline while a message is published on n2,
    // resumed on n2 with its subscription and the queued message.
    const away = await client(n1.url, { clientId: "away", clean: false });
    await away.subscribeAsync("s/#", { qos: 1 });
    await away.endAsync();
    await using witness = await client(n1.url, { clientId: "witness" });
    await witness.subscribeAsync("s/#", { qos: 1 });
    await using pub2 = await client(n2.url, { clientId: "pub2" });
    await pub2.publishAsync("s/1", "while away", { qos: 1 });
    await witness.inbox.next(1, "n1 got it"); // so it is queued in away's session on n1
    await using back = await client(n2.url, { clientId: "away", clean: false });
    assert.equal(back.connack.sessionPresent, true);
    const [queued] = await back.inbox.next(1, "the queued message on n2");
    assert.deepEqual([queued!.topic, queued!.payload, queued!.qos], ["s/1", "while away", 1]);
    await pub.publishAsync("s/2", "now here", { qos: 1 }); // from n1, to the session now on n2
    assert.equal((await back.inbox.next(2, "a new message on n2"))[1]!.payload, "now here");

    // Takeover: "tk" on n1 (with a will), then "tk" on n2: the first connection is closed.
    await using watcher = await client(n2.url, { clientId: "watcher" });
    await watcher.subscribeAsync("w/#", { qos: 1 });
    const first: TestClient = await client(n1.url, {
      clientId: "tk",
      will: { topic: "w/tk", payload: Buffer.from("bye"), qos: 1, retain: false },
    });
    const closed = new Promise<void>((resolve) => first.once("close", () => resolve()));
    await using second = await client(n2.url, { clientId: "tk" });
    await deadline(closed, "the first connection closed by the takeover");
    assert.equal(
      (await watcher.inbox.next(1, "the taken-over connection's will"))[0]!.topic,
      "w/tk",
    );
    assert.equal(second.connected, true);
    first.end(true);
  } finally {
    await stop(nodes);
  }
});

test("a broker killed with SIGKILL: its clients' wills arrive through a survivor", async () => {
  await using redis = await startRedis();
  const nodes = await brokers(redis.url, 2);
  const [n1, n2] = nodes as [Broker, Broker];
  try {
    await using watcher = await client(n2.url, { clientId: "watcher" });
    await watcher.subscribeAsync("w/#", { qos: 1 });
    const dying = await client(n1.url, {
      clientId: "dying",
      will: { topic: "w/dying", payload: Buffer.from("gone"), qos: 1, retain: false },
    });
    dying.on("error", () => {});
    process.kill(n1.proc.child.pid!, "SIGKILL");
    const [will] = await watcher.inbox.next(1, "the will of a client of the dead broker");
    assert.deepEqual([will!.topic, will!.payload], ["w/dying", "gone"]);
    dying.end(true);
  } finally {
    await stop(nodes);
  }
});

test("Redis killed and restarted during a publish loop: no broker crashes, local delivery goes on, cross-node delivery resumes", async () => {
  await using redis = await startRedis();
  const nodes = await brokers(redis.url, 2);
  const [n1, n2] = nodes as [Broker, Broker];
  try {
    await using local = await client(n1.url, { clientId: "local" });
    await local.subscribeAsync("loop", { qos: 1 });
    await using remote = await client(n2.url, { clientId: "remote" });
    await remote.subscribeAsync("loop", { qos: 1 });
    await using pub = await client(n1.url, { clientId: "pub" });
    let sent = 0;
    const publish = () => pub.publishAsync("loop", String(++sent), { qos: 1 });
    for (let i = 0; i < 20; i++) await publish();
    await remote.inbox.next(20, "the first 20 on n2");
    await redis.kill();
    for (let i = 0; i < 20; i++) await publish(); // PUBACKs keep coming: n1 is fine
    await redis.start();
    // Until n2 hears again (n1's bus reconnects within its backoff).
    const before = remote.inbox.messages.length;
    while (remote.inbox.messages.length === before) {
      await publish();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await publish();
    await waitFor(() => remote.inbox.messages.at(-1)?.payload === String(sent), "the last on n2");
    await waitFor(() => local.inbox.messages.length === sent, "every one on n1");
    const lost = sent - remote.inbox.messages.length;
    assert.ok(lost >= 20 && lost <= sent - 22, `lost ${lost} of ${sent} on n2`);
    for (const node of nodes) assert.equal(node.proc.child.exitCode, null, "still running");
  } finally {
    await stop(nodes);
  }
});

test("a persistent session outlives its broker: a survivor adopts it from Redis, queues for it, and its client finds it", async () => {
  await using redis = await startRedis();
  const nodes = await brokers(redis.url, 2);
  const [n1, n2] = nodes as [Broker, Broker];
  const { createClient } = await import("@redis/client");
  const kv = createClient({ url: redis.url });
  await kv.connect();
  try {
    const away = await client(n1.url, { clientId: "durable", clean: false });
    await away.subscribeAsync("d/#", { qos: 1 });
    await away.endAsync();
    await using pub = await client(n2.url, { clientId: "pub" });
    await pub.publishAsync("d/1", "before", { qos: 1 });
    // n1 snapshots its persistent sessions every heartbeat: wait until "before" is in Redis.
    const holder = async (): Promise<string | undefined> => {
      for (const name of await kv.keys("wireframe:mqtt:sessions:*")) {
        if ((await kv.hGet(name, "durable"))?.includes(btoa("before"))) return name;
      }
      return undefined;
    };
    let n1Key: string | undefined;
    for (let i = 0; (n1Key = await holder()) === undefined; i++) {
      assert.ok(i < 100, "the session was never snapshotted");
      await new Promise((resolve) => setTimeout(resolve, HB / 2));
    }
    process.kill(n1.proc.child.pid!, "SIGKILL");
    // Once n1 is declared down, the survivor adopts the session (deleting n1's hash) and
    // snapshots it under its own name.
    for (let i = 0; (await kv.exists(n1Key)) === 1 || (await holder()) === undefined; i++) {
      assert.ok(i < 100, "the session was never adopted");
      await new Promise((resolve) => setTimeout(resolve, HB / 2));
    }
    await pub.publishAsync("d/2", "after", { qos: 1 }); // queued in the adopted session on n2
    await using back = await client(n2.url, { clientId: "durable", clean: false });
    assert.equal(back.connack.sessionPresent, true);
    const got = await back.inbox.next(2, "both messages");
    assert.deepEqual(got.map((m) => m.payload), ["before", "after"]);
  } finally {
    kv.destroy();
    await stop(nodes);
  }
});
