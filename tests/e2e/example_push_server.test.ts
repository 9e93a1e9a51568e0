/** examples/push_server.ts over real loopback sockets: subscribe, ticks, broadcast. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { WireframeClient } from "../../src/client/client.ts";
import type { Envelope } from "../../src/codec/envelope.ts";
import { runtimeTransport } from "../../src/transport/runtime.ts";
import { WireframeServer } from "../../src/server/server.ts";
import { BROADCAST, BROADCASTED, pushApp, SUBSCRIBE, TICK } from "../../examples/push_server.ts";
import { deadline, readU32, str, text, u32 } from "./_helpers.ts";
import { startExample } from "./_process.ts";

async function take(pushes: AsyncIterator<Envelope>, n: number): Promise<Envelope[]> {
  const frames: Envelope[] = [];
  while (frames.length < n) {
    const next = await deadline(pushes.next(), `push ${frames.length + 1} of ${n}`);
    assert.equal(next.done, false, "pushes ended early");
    frames.push(next.value);
  }
  return frames;
}

test("push server: subscribe replies first, then low-priority ticks 0, 1, 2 without correlation", async () => {
  await using server = new WireframeServer(pushApp());
  const { port } = await server.listen({ port: 0 });
  await using client = await WireframeClient.connect({ port });
  const pushes = client.pushes()[Symbol.asyncIterator]();
  const reply = await deadline(client.request(SUBSCRIBE, u32(1)), "subscribe reply");
  assert.equal(reply.id, SUBSCRIBE);
  assert.equal(reply.correlationId, 1n);
  assert.equal(reply.payload.length, 0);
  const ticks = await take(pushes, 3);
  assert.deepEqual(ticks.map((t) => [t.id, t.correlationId, readU32(t.payload)]), [
    [TICK, undefined, 0],
    [TICK, undefined, 1],
    [TICK, undefined, 2],
  ]);
});

test("push server: a broadcast reaches every connection, the sender included, and reports the count", async () => {
  await using server = new WireframeServer(pushApp());
  const { port } = await server.listen({ port: 0 });
  await using a = await WireframeClient.connect({ port });
  await using b = await WireframeClient.connect({ port });
  // b's request proves both connections are registered before a broadcasts.
  await deadline(b.request(1, text("ready")), "b ready");
  const reply = await deadline(a.request(BROADCAST, text("hello all")), "broadcast reply");
  assert.equal(reply.id, BROADCAST);
  assert.equal(readU32(reply.payload), 2);
  for (const client of [a, b]) {
    const [frame] = await take(client.pushes()[Symbol.asyncIterator](), 1);
    assert.equal(frame!.id, BROADCASTED);
    assert.equal(frame!.correlationId, undefined);
    assert.equal(str(frame!.payload), "hello all");
  }
});

test("push server: a connection that stops reading does not stall broadcasts to the others", async () => {
  await using server = new WireframeServer(pushApp());
  const { port } = await server.listen({ port: 0 });
  const transport = await runtimeTransport();
  const stalled = await transport.connect({ port }); // never reads
  await using sender = await WireframeClient.connect({ port });
  await deadline(sender.request(1, text("ready")), "sender ready"); // both now registered
  const payload = new Uint8Array(16 * 1024);
  const received = (async () => {
    let n = 0;
    for await (const _ of sender.pushes()) if (++n === 600) return n;
    return n;
  })();
  let lastCount = -1;
  // 600 × 16 KiB overflows the stalled socket's buffers and its 128-frame queue.
  for (let i = 0; i < 600; i++) {
    const reply = await deadline(sender.request(BROADCAST, payload), `broadcast ${i}`);
    lastCount = readU32(reply.payload);
  }
  assert.equal(
    lastCount,
    1,
    "the stalled connection's full queue drops the frame; only the sender counts",
  );
  assert.equal(await deadline(received, "the sender's own 600 pushes"), 600);
  stalled.close();
});

test("push server example: serves over a real process and exits 0 on SIGTERM", async () => {
  await using server = await startExample("push_server.ts");
  const client = await WireframeClient.connect({ hostname: server.hostname, port: server.port });
  try {
    const reply = await deadline(client.request(BROADCAST, text("x")), "broadcast reply");
    assert.equal(readU32(reply.payload), 1);
  } finally {
    await client.close();
  }
  assert.equal(await server.terminate(), 0);
});
