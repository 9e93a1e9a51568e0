/**
 * Faults of the cluster bus against a real redis-server that the tests kill
 * (SIGKILL) and restart on the same port: local delivery goes on, remote
 * work fails with typed, counted errors, the bus reconnects and
 * resubscribes by itself, no node is declared down for our own outage, and
 * nothing crashes.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { WireframeApp } from "../../src/app/app.ts";
import { WireframeClient } from "../../src/client/client.ts";
import { PushError } from "../../src/push/errors.ts";
import { WireframeServer } from "../../src/server/server.ts";
import { SessionRegistry } from "../../src/session/registry.ts";
import {
  type ClusterBus,
  ClusterRegistry,
  ClusterUnavailableError,
  RedisBus,
} from "../../src/cluster/mod.ts";
import { deadline, signal, waitFor } from "../e2e/_helpers.ts";
import { startRedis } from "./_redis.ts";

// Short, to keep the tests short; 3 silent intervals (300 ms) still outlast a busy CI machine's stalls.
const HB = 100;

async function meet(bus: ClusterBus, id: string): Promise<void> {
  await waitFor(() => bus.nodes().includes(id), `${bus.nodeId} to see ${id}`);
}

test("Redis killed and restarted during a publish loop: local delivery goes on, remote losses are the rejected publishes, delivery resumes", async () => {
  await using redis = await startRedis();
  const options = { url: redis.url, heartbeatMs: HB, maxReconnectDelayMs: 100 };
  await using a = await RedisBus.connect({ ...options, nodeId: "a" });
  await using b = await RedisBus.connect({ ...options, nodeId: "b" });
  await meet(a, "b");
  let local = 0;
  const remote: number[] = [];
  a.subscribe("tick", () => void local++);
  b.subscribe(
    "tick",
    (m) => void remote.push(new DataView(m.payload.buffer, m.payload.byteOffset).getUint32(0)),
  );
  const downs: string[] = [];
  a.onNodeDown((e) => downs.push(e.nodeId));
  b.onNodeDown((e) => downs.push(e.nodeId));

  let sent = 0;
  let resolved = 0;
  let rejected = 0;
  const publish = async () => {
    const payload = new Uint8Array(4);
    new DataView(payload.buffer).setUint32(0, ++sent);
    try {
      await a.publish("tick", payload); // one at a time: at most one in flight when Redis dies
      resolved++;
    } catch (error) {
      assert.ok(error instanceof ClusterUnavailableError, String(error));
      rejected++;
    }
  };
  for (let i = 0; i < 50; i++) await publish();
  await waitFor(() => remote.length === 50, "the first 50 on b");

  await redis.kill();
  // Keep publishing until the bus has noticed and fails fast.
  while (rejected === 0) await publish();
  assert.equal(a.state, "down");
  for (let i = 0; i < 20; i++) await publish(); // fails at once: nothing is queued
  // Stay down for more than missedHeartbeats intervals: no one may be declared down for it.
  await new Promise((resolve) => setTimeout(resolve, HB * 4));
  await redis.start();
  await waitFor(() => a.state === "up" && b.state === "up", "both buses back up");
  // Resubscribed: b hears from a again.
  const before = remote.length;
  let probes = 0; // publishes until b hears again: lost if b's subscriber was not back yet
  while (remote.length === before) {
    probes++;
    await publish();
    if (remote.length === before) await new Promise((resolve) => setTimeout(resolve, 10));
  }
  for (let i = 0; i < 50; i++) await publish();
  await waitFor(() => remote.at(-1) === sent, "the last publish on b");

  assert.equal(local, sent, "every publish was delivered locally, Redis or not");
  assert.ok(rejected >= 21, `rejected ${rejected}`);
  assert.equal(a.stats().unavailable >= rejected, true, "rejections are counted");
  // Lost for b: the rejected ones, plus at most the one in flight as Redis died,
  // plus ones published while b's subscriber was still reconnecting.
  const lost = sent - remote.length;
  assert.ok(lost >= rejected && lost <= rejected + 1 + probes - 1, `lost ${lost}`);
  assert.deepEqual(remote, [...remote].sort((x, y) => x - y), "in order, no duplicates");
  assert.deepEqual(downs, [], "no node was declared down for Redis's outage");
  assert.ok(a.stats().disconnects >= 1 && b.stats().disconnects >= 1);
});

test("with Redis down, pushes to other nodes fail with ClusterUnavailableError (counted), broadcasts stay local, and both work again after the restart", async () => {
  await using redis = await startRedis();
  const options = { url: redis.url, heartbeatMs: HB, maxReconnectDelayMs: 100 };
  const nodes = await Promise.all(["a", "b"].map(async (nodeId) => {
    const sessions = new SessionRegistry();
    const app = new WireframeApp().sessions(sessions).route(1, () => new Uint8Array(0));
    const server = new WireframeServer(app);
    const { port } = await server.listen();
    const bus = await RedisBus.connect({ ...options, nodeId });
    return {
      server,
      port,
      bus,
      registry: new ClusterRegistry({ bus, sessions, timeoutMs: 2_000 }),
    };
  }));
  const [a, b] = nodes as [typeof nodes[0], typeof nodes[0]];
  try {
    await meet(a.bus, "b");
    await using onA = await WireframeClient.connect({ port: a.port });
    await using onB = await WireframeClient.connect({ port: b.port });
    await onA.request(1, new Uint8Array(0));
    await onB.request(1, new Uint8Array(0));
    const pushes = (client: WireframeClient) => {
      const got: number[] = [];
      (async () => {
        for await (const push of client.pushes()) got.push(push.id);
      })().catch(() => {});
      return got;
    };
    const gotA = pushes(onA);
    const gotB = pushes(onB);
    assert.equal(await a.registry.push("b:1", { id: 7, payload: new Uint8Array(0) }), "queued");
    await waitFor(() => gotB.includes(7), "push 7 on b");

    await redis.kill();
    await waitFor(() => a.bus.state === "down", "a's bus down");
    await assert.rejects(
      a.registry.push("b:1", { id: 8, payload: new Uint8Array(0) }),
      ClusterUnavailableError,
    );
    assert.equal(a.registry.stats().remotePushFailures, 1);
    // Local pushes and the local half of a broadcast go on.
    assert.equal(await a.registry.push("a:1", { id: 9, payload: new Uint8Array(0) }), "queued");
    const result = await a.registry.broadcast({ id: 10, payload: new Uint8Array(0) }, {
      policy: "drop-if-full",
    });
    assert.deepEqual(result, { local: 1, remote: "unavailable" });
    assert.equal(a.registry.stats().broadcastsLost, 1);
    await waitFor(() => gotA.includes(9) && gotA.includes(10), "9 and 10 on a");
    // A gone connection is still "closed", Redis or not, on this node.
    await assert.rejects(
      a.registry.push("a:99", { id: 1, payload: new Uint8Array(0) }),
      (e) => e instanceof PushError && e.reason === "closed",
    );

    await redis.start();
    await waitFor(() => a.bus.state === "up" && b.bus.state === "up", "both buses back up");
    assert.equal(await a.registry.push("b:1", { id: 11, payload: new Uint8Array(0) }), "queued");
    const again = await a.registry.broadcast({ id: 12, payload: new Uint8Array(0) }, {
      policy: "drop-if-full",
    });
    assert.deepEqual(again, { local: 1, remote: "published" });
    await waitFor(() => gotB.includes(11) && gotB.includes(12), "11 and 12 on b");
    assert.ok(!gotB.includes(8) && !gotB.includes(10), "nothing was buffered for later");
  } finally {
    for (const node of nodes) {
      node.registry.close();
      await node.bus.close();
      await node.server.shutdown({ timeoutMs: 1_000 });
    }
  }
});

test("connecting while Redis is down fails with ClusterUnavailableError within connectTimeoutMs", async () => {
  await using redis = await startRedis();
  await redis.kill();
  await assert.rejects(
    RedisBus.connect({ url: redis.url, connectTimeoutMs: 300 }),
    (e) => e instanceof ClusterUnavailableError && e.operation === "connect",
  );
});

test("a node that stops sending heartbeats is declared down by every survivor, and exactly one of them claims its clean-up", async () => {
  await using redis = await startRedis();
  const options = { url: redis.url, heartbeatMs: HB };
  await using a = await RedisBus.connect({ ...options, nodeId: "a" });
  await using b = await RedisBus.connect({ ...options, nodeId: "b" });
  // c dies without a goodbye: its Redis connections are cut under it.
  const c = await RedisBus.connect({ ...options, nodeId: "c" });
  await meet(a, "c");
  await meet(b, "c");
  const downOnA = signal<string>();
  const downOnB = signal<string>();
  const claims: boolean[] = [];
  for (const [bus, down] of [[a, downOnA], [b, downOnB]] as const) {
    bus.onNodeDown(async (event) => {
      claims.push(await bus.claim(`wills:${event.nodeId}`, 10_000));
      down.resolve(`${event.nodeId} ${event.reason}`);
    });
  }
  await redis.kill(); // c's links die with it...
  await c.close(); // ...and c is gone (closing while down sends no goodbye)
  await redis.start();
  assert.equal(await deadline(downOnA.promise, "c down on a"), "c silent");
  assert.equal(await deadline(downOnB.promise, "c down on b"), "c silent");
  await waitFor(() => claims.length === 2, "both claims answered");
  assert.deepEqual(claims.sort(), [false, true]);
  assert.deepEqual(a.nodes().sort(), ["a", "b"]);
});
