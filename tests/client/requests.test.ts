/** WireframeClient requests: correlation, concurrency, timeouts, fire-and-forget (memory transport). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { setImmediate } from "node:timers";
import { WireframeApp } from "../../src/app/app.ts";
import type { Envelope } from "../../src/codec/envelope.ts";
import { ClientClosedError } from "../../src/client/errors.ts";
import {
  captureLogger,
  deadline,
  frame,
  readU32,
  signal,
  str,
  text,
  u32,
  waitFor,
} from "../e2e/_helpers.ts";
import { connectClient, serveMemory } from "../server/_memory.ts";
import { rawServer } from "./_raw_server.ts";

const echo = () => new WireframeApp().logger(captureLogger().logger).route(1, (r) => r.payload);

test("correlation ids start at 1 and every request takes the next one", async () => {
  const seen: (bigint | undefined)[] = [];
  const app = echo().route(2, (req) => {
    seen.push(req.correlationId);
    return req.payload;
  });
  await using running = await serveMemory(app);
  const client = await connectClient(running.port);
  try {
    const replies = [];
    for (let i = 0; i < 3; i++) replies.push(await client.request(2, u32(i)));
    assert.deepEqual(seen, [1n, 2n, 3n]);
    assert.deepEqual(replies.map((r) => [r.id, r.correlationId, readU32(r.payload)]), [
      [2, 1n, 0],
      [2, 2n, 1],
      [2, 3n, 2],
    ]);
  } finally {
    await client.close();
  }
});

test("concurrent requests each resolve with their own response", async () => {
  await using running = await serveMemory(echo());
  const client = await connectClient(running.port);
  try {
    const replies = await Promise.all(
      Array.from({ length: 100 }, (_, i) => client.request(1, u32(i))),
    );
    assert.deepEqual(
      replies.map((r) => readU32(r.payload)),
      Array.from({ length: 100 }, (_, i) => i),
    );
  } finally {
    await client.close();
  }
});

test("responses are matched by correlation id, not by arrival order", async () => {
  await using server = await rawServer();
  const client = await connectClient(server.port);
  try {
    const pending = [1, 2, 3].map((i) => client.request(1, u32(i)));
    const peer = await server.accept();
    const requests: Envelope[] = [];
    for (let i = 0; i < 3; i++) requests.push(await peer.readFrame());
    for (const req of requests.reverse()) {
      await peer.write(frame(1, req.correlationId, u32(readU32(req.payload) * 10)));
    }
    const replies = await Promise.all(pending);
    assert.deepEqual(replies.map((r) => readU32(r.payload)), [10, 20, 30]);
  } finally {
    await client.close();
  }
});

test("a request aborted by its signal rejects with the signal's reason; the late reply is ignored", async () => {
  const gate = signal();
  const started = signal();
  const app = echo().route(2, async (req) => {
    started.resolve();
    await gate.promise;
    return req.payload;
  });
  await using running = await serveMemory(app);
  const client = await connectClient(running.port);
  try {
    const timeout = AbortSignal.timeout(20);
    // That timer is unref'd and the memory transport holds no handle: on Node 22 nothing else
    // would keep the event loop alive until it fires (the test would end "still pending").
    const keepAlive = setInterval(() => {}, 60_000);
    timeout.addEventListener("abort", () => clearInterval(keepAlive), { once: true });
    const late = client.request(2, text("late"), { signal: timeout });
    await deadline(started.promise, "handler started");
    await assert.rejects(late, (error: unknown) => {
      assert.equal(error, timeout.reason);
      assert.equal((error as Error).name, "TimeoutError");
      return true;
    });
    gate.resolve(); // the late response now arrives and must be ignored, not mismatched
    assert.equal(str((await client.request(1, text("next"))).payload), "next");
    assert.equal(str((await client.request(1, text("again"))).payload), "again");
  } finally {
    gate.resolve();
    await client.close();
  }
});

test("an already-aborted signal rejects at once with its reason", async () => {
  await using running = await serveMemory(echo());
  const client = await connectClient(running.port);
  try {
    const controller = new AbortController();
    const reason = new Error("caller gave up");
    controller.abort(reason);
    await assert.rejects(client.request(1, text("x"), { signal: controller.signal }), reason);
    assert.equal(str((await client.request(1, text("y"))).payload), "y");
  } finally {
    await client.close();
  }
});

test("send() is fire-and-forget, with or without a correlation id", async () => {
  const received: Envelope[] = [];
  const app = echo().route(5, (req) => {
    received.push({ id: req.id, correlationId: req.correlationId, payload: req.payload.slice() });
  });
  await using running = await serveMemory(app);
  const client = await connectClient(running.port);
  try {
    await client.send(5, text("plain"));
    await client.send(5, text("tagged"), { correlationId: 900n });
    await waitFor(() => received.length === 2, "the server to receive both frames");
    assert.deepEqual(received.map((r) => [r.correlationId, str(r.payload)]), [
      [undefined, "plain"],
      [900n, "tagged"],
    ]);
    // Requests still start at correlation id 1: send() does not consume ids.
    assert.equal((await client.request(1, text("r"))).correlationId, 1n);
  } finally {
    await client.close();
  }
});

test("request() and send() after close() reject with ClientClosedError", async () => {
  await using running = await serveMemory(echo());
  const client = await connectClient(running.port);
  await client.close();
  await assert.rejects(client.request(1, text("x")), ClientClosedError);
  await assert.rejects(client.send(1, text("x")), ClientClosedError);
  assert.throws(() => client.stream(1, text("x")), ClientClosedError);
});

test("request after request over a transport that never turns the event loop: no answer waits a turn (only a producer that writes without reading is coalesced)", async () => {
  await using running = await serveMemory(echo());
  const client = await connectClient(running.port);
  try {
    // The memory transport completes reads and writes on microtasks: if no
    // writer waited a turn for more frames, this immediate has not run yet.
    let turned = false;
    setImmediate(() => turned = true);
    // Fewer frames than a fairness slice (YIELD_AFTER_FRAMES), which may yield a turn by design.
    for (let i = 0; i < 50; i++) {
      assert.equal(readU32((await client.request(1, u32(i))).payload), i);
    }
    assert.equal(turned, false, "an answer (or the next request) waited for a turn");
  } finally {
    await client.close();
  }
});
