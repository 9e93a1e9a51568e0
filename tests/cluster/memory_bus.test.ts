/**
 * The bus semantics every implementation shares, on the in-process hub:
 * liveness pauses while this node's own link is down, a node down rejects
 * the requests waiting on it, and gather answers within its timeout.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ClusterRegistry,
  ClusterRequestError,
  ClusterUnavailableError,
  MemoryBusHub,
} from "../../src/cluster/mod.ts";
import { ConfigError } from "../../src/error.ts";
import { SessionRegistry } from "../../src/session/registry.ts";
import { deadline, signal, waitFor } from "../e2e/_helpers.ts";

test("while the hub is down nobody is declared down; a node that stays silent after it is back is", async () => {
  const hub = new MemoryBusHub();
  await using a = hub.connect({ nodeId: "a", heartbeatMs: 20 });
  const b = hub.connect({ nodeId: "b", heartbeatMs: 20 });
  await waitFor(() => a.nodes().includes("b"), "a sees b");
  const downs: string[] = [];
  a.onNodeDown((e) => downs.push(e.nodeId));
  hub.down = true;
  assert.equal(a.state, "down");
  await assert.rejects(a.publish("x", new Uint8Array(0)), ClusterUnavailableError);
  await new Promise((resolve) => setTimeout(resolve, 20 * 5)); // 5 silent intervals, all ours
  assert.deepEqual(downs, []);
  hub.down = false;
  const down = signal<string>();
  a.onNodeDown((e) => down.resolve(`${e.nodeId} ${e.reason}`));
  await b.close(); // says goodbye
  assert.equal(await deadline(down.promise, "b down"), "b left");
});

test("a request waiting on a node that goes down rejects with node-down at once", async () => {
  const hub = new MemoryBusHub();
  await using a = hub.connect({ nodeId: "a", heartbeatMs: 20 });
  const b = hub.connect({ nodeId: "b", heartbeatMs: 20 });
  b.respond("slow", () => new Promise(() => {}));
  await waitFor(() => a.nodes().includes("b"), "a sees b");
  const asking = a.request("b", "slow", new Uint8Array(0), { timeoutMs: 60_000 });
  const answered = signal();
  b.respond("ping", () => (answered.resolve(), new Uint8Array(0)));
  await a.request("b", "ping", new Uint8Array(0)); // the slow request is waiting by now
  await deadline(answered.promise, "ping");
  await b.close();
  await assert.rejects(asking, (e) => e instanceof ClusterRequestError && e.reason === "node-down");
});

test("gather with the hub down answers for this node only, and says so", async () => {
  const hub = new MemoryBusHub();
  await using a = hub.connect({ nodeId: "a" });
  a.respond("who", () => Uint8Array.of(1));
  hub.down = true;
  const result = await a.gather("who", new Uint8Array(0));
  assert.equal(result.unavailable, true);
  assert.deepEqual([...result.replies.keys()], ["a"]);
});

test("bad options are a ConfigError naming the option", async () => {
  const hub = new MemoryBusHub();
  assert.throws(
    () => hub.connect({ heartbeatMs: 0 }),
    (e) => e instanceof ConfigError && e.option === "heartbeatMs",
  );
  assert.throws(
    () => hub.connect({ nodeId: "a:b" }),
    (e) => e instanceof ConfigError && e.option === "nodeId",
  );
  await using bus = hub.connect();
  assert.throws(
    () => new ClusterRegistry({ bus, sessions: new SessionRegistry(), timeoutMs: -1 }),
    (e) => e instanceof ConfigError && e.option === "timeoutMs",
  );
});
