/**
 * The cluster-wide registry across real processes: three
 * examples/cluster/push_node.ts nodes on one redis-server, clients spread
 * over them. Broadcasts and pushes reach connections on any node, listings
 * cover every node, a gone connection or node reports `closed`, and a node
 * killed with SIGKILL is noticed within 3 heartbeats.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { WireframeClient } from "../../src/client/client.ts";
import { RedisBus } from "../../src/cluster/mod.ts";
import { deadline, signal, waitFor } from "../e2e/_helpers.ts";
import { startRedis } from "./_redis.ts";
import { type Proc, run } from "./_proc.ts";

const HB = 250;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

interface Peer {
  client: WireframeClient;
  id: string;
  pushes: { id: number; text: string }[];
}

async function peer(port: number): Promise<Peer> {
  const client = await WireframeClient.connect({ port });
  const id = decoder.decode((await client.request(1, new Uint8Array(0))).payload);
  const pushes: Peer["pushes"] = [];
  (async () => {
    for await (const push of client.pushes()) {
      pushes.push({ id: push.id, text: decoder.decode(push.payload) });
    }
  })().catch(() => {});
  return { client, id, pushes };
}

async function ask(p: Peer, id: number, text: string): Promise<string> {
  return decoder.decode((await p.client.request(id, encoder.encode(text))).payload);
}

test("broadcast, push and list reach connections on every node; gone ones report closed; a SIGKILLed node is noticed within 3 heartbeats", async () => {
  await using redis = await startRedis();
  await using observer = await RedisBus.connect({
    url: redis.url,
    nodeId: "observer",
    heartbeatMs: HB,
  });
  const nodes: Proc[] = ["n1", "n2", "n3"].map((id) =>
    run("examples/cluster/push_node.ts", [
      "--redis",
      redis.url,
      "--node-id",
      id,
      "--heartbeat-ms",
      String(HB),
    ])
  );
  const peers: Peer[] = [];
  try {
    const ports = await Promise.all(
      nodes.map(async (node) =>
        Number((await node.waitFor(/listening on [^:]+:(\d+)/, "listening", 1, 30_000))[0]![1])
      ),
    );
    await waitFor(
      () => ["n1", "n2", "n3"].every((id) => observer.nodes().includes(id)),
      "every node heard",
    );
    // Two connections on n3, one on each of the others.
    for (const port of [ports[0]!, ports[1]!, ports[2]!, ports[2]!]) peers.push(await peer(port));
    const [p1, p2, p3, p3b] = peers as [Peer, Peer, Peer, Peer];
    assert.deepEqual(peers.map((p) => p.id.split(":")[0]), ["n1", "n2", "n3", "n3"]);

    assert.deepEqual(
      (await ask(p2, 4, "")).split("\n"),
      peers.map((p) => p.id).sort(),
      "a listing from n2 covers every node",
    );

    const reply = (await p1.client.request(2, encoder.encode("hello"))).payload;
    assert.equal(new DataView(reply.buffer, reply.byteOffset).getUint32(0), 1);
    assert.equal(decoder.decode(reply.subarray(4)), "remote");
    await waitFor(
      () => peers.every((p) => p.pushes.some((m) => m.id === 100 && m.text === "hello")),
      "the broadcast on every connection",
    );

    assert.equal(await ask(p1, 3, `${p3b.id}\nfor you`), "queued");
    await waitFor(() => p3b.pushes.some((m) => m.id === 101 && m.text === "for you"), "the push");
    assert.equal(p3.pushes.filter((m) => m.id === 101).length, 0, "only its target got it");
    assert.equal(await ask(p1, 3, "n2:999\nx"), "closed", "a gone connection on a live node");
    assert.equal(await ask(p1, 3, "nobody:1\nx"), "closed", "a node that does not exist");

    // SIGKILL n3: no goodbye; the survivors notice by its silence.
    const down = signal<{ nodeId: string; reason?: string; at: number }>();
    observer.onNodeDown((event) => {
      if (event.nodeId === "n3") down.resolve({ ...event, at: Date.now() });
    });
    const killedAt = Date.now();
    process.kill(nodes[2]!.child.pid!, "SIGKILL");
    const event = await deadline(down.promise, "n3 declared down");
    assert.deepEqual([event.nodeId, event.reason], ["n3", "silent"]);
    // Declared at its last heartbeat + 3 intervals, so at most 3 intervals after
    // its death (plus timer slack on a busy machine).
    assert.ok(event.at - killedAt <= 3 * HB + 500, `noticed after ${event.at - killedAt} ms`);
    assert.equal(await ask(p1, 3, `${p3.id}\ngone`), "closed", "a connection of a dead node");
    const listing = (await ask(p1, 4, "")).split("\n");
    assert.deepEqual(listing, [p1.id, p2.id].sort(), "a dead node's connections are not listed");

    // Graceful stop: the node says goodbye.
    const left = signal<string>();
    observer.onNodeDown((e) => e.nodeId === "n1" && left.resolve(e.reason ?? ""));
    process.kill(nodes[0]!.child.pid!, "SIGTERM");
    assert.equal(await nodes[0]!.exited, 0);
    assert.equal(await deadline(left.promise, "n1's goodbye"), "left");
  } finally {
    for (const p of peers) await p.client.close().catch(() => {});
    for (const node of nodes) await node[Symbol.asyncDispose]();
  }
});
