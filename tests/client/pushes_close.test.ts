/** WireframeClient pushes() and close() (memory transport). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { WireframeApp } from "../../src/app/app.ts";
import { ClientClosedError, ConnectionLostError } from "../../src/client/errors.ts";
import type { Envelope } from "../../src/codec/envelope.ts";
import {
  captureLogger,
  deadline,
  frame,
  readU32,
  signal,
  str,
  text,
  u32,
} from "../e2e/_helpers.ts";
import { connectClient, serveMemory } from "../server/_memory.ts";
import { rawServer } from "./_raw_server.ts";

test("pushes() yields the frames without a correlation id, in order, apart from responses", async () => {
  const app = new WireframeApp().logger(captureLogger().logger).route(1, () => [
    { id: 7, correlationId: null, payload: u32(0) }, // a push
    u32(100), // the response
    { id: 7, correlationId: null, payload: u32(1) }, // another push
  ]);
  await using running = await serveMemory(app);
  const client = await connectClient(running.port);
  try {
    const reply = await client.request(1, new Uint8Array());
    assert.equal(readU32(reply.payload), 100);
    const pushes: Envelope[] = [];
    for await (const push of client.pushes()) {
      pushes.push(push);
      if (pushes.length === 2) break;
    }
    assert.deepEqual(pushes.map((p) => [p.id, p.correlationId, readU32(p.payload)]), [
      [7, undefined, 0],
      [7, undefined, 1],
    ]);
  } finally {
    await client.close();
  }
});

test("pushes() ends when the server closes the connection", async () => {
  await using server = await rawServer();
  const client = await connectClient(server.port);
  try {
    const peer = await server.accept();
    await peer.write(frame(3, undefined, text("a")));
    await peer.write(frame(3, undefined, text("b")));
    await peer.closeWrite();
    const seen: string[] = [];
    for await (const push of client.pushes()) seen.push(str(push.payload));
    assert.deepEqual(seen, ["a", "b"]);
  } finally {
    await client.close();
  }
});

test("close() waits for outstanding responses before closing", async () => {
  const gate = signal();
  const started = signal();
  const app = new WireframeApp().logger(captureLogger().logger).route(1, async (req) => {
    started.resolve();
    await gate.promise;
    return req.payload;
  });
  await using running = await serveMemory(app);
  const client = await connectClient(running.port, { closeTimeoutMs: 60_000 });
  try {
    const pending = client.request(1, text("slow"));
    await deadline(started.promise, "handler started");
    let closed = false;
    const closing = client.close().then(() => (closed = true));
    await assert.rejects(client.request(1, text("new")), ClientClosedError);
    assert.equal(closed, false);
    gate.resolve();
    assert.equal(str((await pending).payload), "slow");
    await deadline(closing, "close()");
    await deadline(client.closed, "client.closed");
  } finally {
    gate.resolve();
    await client.close();
  }
});

test("close() stops waiting after closeTimeoutMs and fails what is still outstanding", async () => {
  const app = new WireframeApp().logger(captureLogger().logger).route(
    1,
    () => new Promise<undefined>(() => {}), // never answers
  );
  await using running = await serveMemory(app);
  const client = await connectClient(running.port, { closeTimeoutMs: 10 });
  const pending = client.request(1, text("forever"));
  await deadline(client.close(), "close() after its timeout");
  await assert.rejects(pending, ConnectionLostError);
});
