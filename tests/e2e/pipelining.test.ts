/** Real loopback sockets: pipelining, byte-by-byte delivery, large payloads. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { WireframeClient } from "../../src/client/client.ts";
import { COUNT, ECHO, echoApp } from "../../examples/echo_server.ts";
import { captureLogger, concat, frame, RawClient, readU32, serve, u32 } from "./_helpers.ts";

const app = () => echoApp().logger(captureLogger().logger);

test("100 requests written in one write are answered in order with their correlation ids", async () => {
  await using running = await serve(app());
  await using raw = await RawClient.connect(running.port);
  const n = 100;
  await raw.write(
    concat(...Array.from({ length: n }, (_, i) => frame(ECHO, BigInt(i + 1), u32(i)))),
  );
  for (let i = 0; i < n; i++) {
    const reply = await raw.readFrame(`reply ${i}`);
    assert.deepEqual([reply.id, reply.correlationId, readU32(reply.payload)], [
      ECHO,
      BigInt(i + 1),
      i,
    ]);
  }
  assert.equal(running.server.stats().requests, n);
});

test("frames delivered one byte at a time are decoded and answered", async () => {
  await using running = await serve(app());
  await using raw = await RawClient.connect(running.port);
  const bytes = concat(
    frame(ECHO, 1n, u32(11)),
    frame(COUNT, 2n, u32(3)),
    frame(ECHO, 3n, u32(33)),
  );
  for (const byte of bytes) await raw.write(Uint8Array.of(byte));
  const replies = [];
  for (let i = 0; i < 5; i++) replies.push(await raw.readFrame());
  assert.deepEqual(
    replies.map((r) => [r.id, r.correlationId, readU32(r.payload)]),
    [[ECHO, 1n, 11], [COUNT, 2n, 0], [COUNT, 2n, 1], [COUNT, 2n, 2], [ECHO, 3n, 33]],
  );
});

test("a large payload crosses many socket chunks both ways intact", async () => {
  await using running = await serve(app());
  const client = await WireframeClient.connect({ port: running.port });
  try {
    const payload = new Uint8Array(768 * 1024).map((_, i) => (i * 31 + (i >>> 9)) & 0xff);
    const reply = await client.request(ECHO, payload);
    assert.equal(reply.payload.length, payload.length);
    assert.deepEqual(reply.payload, payload);
  } finally {
    await client.close();
  }
});

test("a long streamed response arrives complete and in order", async () => {
  await using running = await serve(app());
  const client = await WireframeClient.connect({ port: running.port });
  try {
    const n = 5_000;
    let expected = 0;
    for await (
      const f of client.stream(COUNT, u32(n), { isEnd: (f) => readU32(f.payload) === n - 1 })
    ) {
      assert.equal(readU32(f.payload), expected++);
    }
    assert.equal(expected, n);
  } finally {
    await client.close();
  }
});
