/**
 * RedisBus against a real redis-server: publish and pattern subscribe across
 * nodes (local delivery direct, remote once), requests and their failures,
 * gather, goodbyes and node ids.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  type BusMessage,
  type ClusterBus,
  ClusterRequestError,
  ClusterTimeoutError,
  NodeIdTakenError,
  RedisBus,
} from "../../src/cluster/mod.ts";
import { deadline, signal, waitFor } from "../e2e/_helpers.ts";
import { startRedis } from "./_redis.ts";

const text = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array) => new TextDecoder().decode(b);

function collect(bus: ClusterBus, pattern: string): BusMessage[] {
  const got: BusMessage[] = [];
  bus.subscribe(pattern, (m) => void got.push({ ...m, payload: m.payload.slice() }));
  return got;
}

/** Wait until `a` has heard from every node in `ids`. */
async function meet(bus: ClusterBus, ids: string[]): Promise<void> {
  await waitFor(() => ids.every((id) => bus.nodes().includes(id)), `${bus.nodeId} to see ${ids}`);
}

test("a publish reaches matching subscribers on every node exactly once, the local ones directly", async () => {
  await using redis = await startRedis();
  await using a = await RedisBus.connect({ url: redis.url, nodeId: "a", heartbeatMs: 100 });
  await using b = await RedisBus.connect({ url: redis.url, nodeId: "b", heartbeatMs: 100 });
  await meet(a, ["b"]);
  await meet(b, ["a"]);
  const onA = collect(a, "room.*");
  const onB = collect(b, "room.*");
  const onBOther = collect(b, "other");
  // Local delivery happens before publish() even returns.
  const publishing = a.publish("room.1", text("x"));
  assert.deepEqual(onA.map((m) => [m.origin, m.channel, str(m.payload)]), [["a", "room.1", "x"]]);
  await publishing;
  await a.publish("room.2", text("y"));
  await waitFor(() => onB.length === 2, "both messages on b");
  assert.deepEqual(onB.map((m) => [m.origin, m.channel, str(m.payload)]), [
    ["a", "room.1", "x"],
    ["a", "room.2", "y"],
  ]);
  assert.ok(onB[0]!.seq < onB[1]!.seq, "message ids increase");
  // A marker message proves nothing else was on its way to a or b.
  const marker = signal();
  a.subscribe("marker", () => marker.resolve());
  await b.publish("marker", new Uint8Array(0));
  await deadline(marker.promise, "marker on a");
  assert.equal(onA.length, 2, "a got its own messages once (not again from Redis)");
  assert.equal(onBOther.length, 0);
  assert.equal(a.stats().duplicates + b.stats().duplicates, 0);
});

test("request reaches one node and returns its reply; failures are typed", async () => {
  await using redis = await startRedis();
  await using a = await RedisBus.connect({ url: redis.url, nodeId: "a", heartbeatMs: 100 });
  await using b = await RedisBus.connect({ url: redis.url, nodeId: "b", heartbeatMs: 100 });
  b.respond("echo", (m) => text(`b:${str(m.payload)}`));
  b.respond("boom", () => {
    throw new Error("kaput");
  });
  b.respond("never", () => new Promise(() => {}));
  a.respond("self", () => text("me"));
  assert.equal(str(await a.request("b", "echo", text("hi"))), "b:hi");
  assert.equal(str(await a.request("a", "self", text(""))), "me"); // this node: no Redis trip
  await assert.rejects(
    a.request("nobody", "echo", text("")),
    (e) => e instanceof ClusterRequestError && e.reason === "no-node",
  );
  await assert.rejects(
    a.request("b", "missing", text("")),
    (e) => e instanceof ClusterRequestError && e.reason === "no-responder",
  );
  await assert.rejects(
    a.request("b", "boom", text("")),
    (e) =>
      e instanceof ClusterRequestError && e.reason === "handler-failed" && /kaput/.test(e.message),
  );
  await assert.rejects(
    a.request("b", "never", text(""), { timeoutMs: 100 }),
    (e) => e instanceof ClusterTimeoutError && e.nodeId === "b" && e.timeoutMs === 100,
  );
  assert.equal(a.stats().timeouts, 1);
  assert.equal(b.stats().handlerErrors, 1);
});

test("gather collects every node's answer and names the ones that did not answer in time", async () => {
  await using redis = await startRedis();
  const url = redis.url;
  await using a = await RedisBus.connect({ url, nodeId: "a", heartbeatMs: 100 });
  await using b = await RedisBus.connect({ url, nodeId: "b", heartbeatMs: 100 });
  await using c = await RedisBus.connect({ url, nodeId: "c", heartbeatMs: 100 });
  await meet(a, ["b", "c"]);
  for (const bus of [a, b]) bus.respond("who", () => text(bus.nodeId));
  c.respond("who", () => new Promise(() => {})); // never answers
  const result = await a.gather("who", new Uint8Array(0), { timeoutMs: 300 });
  assert.deepEqual([...result.replies].map(([id, r]) => [id, str(r)]).sort(), [["a", "a"], [
    "b",
    "b",
  ]]);
  assert.deepEqual(result.missing, ["c"]);
  assert.equal(result.unavailable, false);
  c.respond("who", () => text("c"));
  const all = await a.gather("who", new Uint8Array(0), { timeoutMs: 5_000 });
  assert.equal(all.replies.size, 3, "returns as soon as every node answered");
  assert.deepEqual(all.missing, []);
});

test("a node that closes says goodbye: the others see it down at once", async () => {
  await using redis = await startRedis();
  await using a = await RedisBus.connect({ url: redis.url, nodeId: "a", heartbeatMs: 10_000 });
  const b = await RedisBus.connect({ url: redis.url, nodeId: "b", heartbeatMs: 10_000 });
  await meet(a, ["b"]);
  const down = signal<{ nodeId: string; reason?: string }>();
  a.onNodeDown((event) => down.resolve(event));
  await b.close();
  assert.deepEqual(await deadline(down.promise, "b down"), { nodeId: "b", reason: "left" });
  assert.deepEqual(a.nodes(), ["a"]);
});

test("a node id held by a live node is refused, and free again once that node closed", async () => {
  await using redis = await startRedis();
  const first = await RedisBus.connect({ url: redis.url, nodeId: "same" });
  await assert.rejects(
    RedisBus.connect({ url: redis.url, nodeId: "same" }),
    (e) => e instanceof NodeIdTakenError && e.nodeId === "same",
  );
  await first.close();
  await using again = await RedisBus.connect({ url: redis.url, nodeId: "same" });
  assert.equal(again.nodeId, "same");
});
