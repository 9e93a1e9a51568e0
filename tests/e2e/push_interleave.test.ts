/**
 * Pushes during a response stream over real loopback sockets on the running
 * runtime's TCP transport: the push frames go out between the response's
 * frames, and a WireframeClient receives both, apart, while the stream is in
 * flight.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { WireframeApp } from "../../src/app/app.ts";
import { WireframeClient } from "../../src/client/client.ts";
import type { PushHandle } from "../../src/push/push_handle.ts";
import {
  captureLogger,
  deadline,
  frame,
  RawClient,
  readU32,
  serve,
  signal,
  u32,
} from "./_helpers.ts";

const STREAM = 1;
const PUSH = 70;
const END = 99;
const ROUNDS = 5;
/** The wire order both tests expect: each response frame, then the push it let through. */
const INTERLEAVED = Array.from({ length: ROUNDS }, (_, i) => [`r${i}`, `push ${100 + i}`]).flat();

test("over TCP, pushes made during a stream go out between its frames", async () => {
  const app = new WireframeApp()
    .logger(captureLogger().logger)
    .route(STREAM, async function* (_req, ctx) {
      for (let i = 0; i < ROUNDS; i++) {
        yield u32(i);
        // Queued before the next response frame is produced: it must go first.
        await ctx.push.push({ id: PUSH, payload: u32(100 + i) }, {
          priority: i % 2 ? "low" : "high",
        });
      }
    });
  await using running = await serve(app);
  await using raw = await RawClient.connect(running.port);
  await raw.write(frame(STREAM, 9n));
  const wire: string[] = [];
  for (let i = 0; i < ROUNDS * 2; i++) {
    const f = await raw.readFrame(`frame ${i}`);
    wire.push(
      f.correlationId === undefined ? `push ${readU32(f.payload)}` : `r${readU32(f.payload)}`,
    );
    if (f.correlationId !== undefined) assert.equal(f.correlationId, 9n);
  }
  assert.deepEqual(wire, INTERLEAVED);
});

test("over TCP, a WireframeClient receives pushes while a response stream is still in flight", async () => {
  const gates = Array.from({ length: ROUNDS }, () => signal());
  const handleSeen = signal<PushHandle>();
  const app = new WireframeApp()
    .logger(captureLogger().logger)
    .withProtocol({
      onConnectionSetup: (push) => handleSeen.resolve(push),
      streamEndFrame: () => ({ id: END, payload: new Uint8Array() }),
    })
    .route(STREAM, async function* () {
      for (let i = 0; i < ROUNDS; i++) {
        yield u32(i);
        await gates[i]!.promise; // the next frame waits until the client saw push i
      }
    });
  await using running = await serve(app);
  const client = await WireframeClient.connect({ port: running.port });
  try {
    const handle = await deadline(handleSeen.promise, "push handle");
    const responses = client.stream(STREAM, new Uint8Array(), { isEnd: (f) => f.id === END })
      [Symbol.asyncIterator]();
    const pushes = client.pushes()[Symbol.asyncIterator]();
    const seen: string[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const r = await deadline(responses.next(), `response frame ${i}`);
      assert.equal(r.done, false);
      seen.push(`r${readU32(r.value.payload)}`);
      // The stream is in flight (frame i+1 is not produced yet): push, and get the push.
      assert.equal(handle.tryPush({ id: PUSH, payload: u32(100 + i) }), "queued");
      const p = await deadline(pushes.next(), `push ${i}`);
      assert.equal(p.done, false);
      assert.equal(p.value.id, PUSH);
      assert.equal(p.value.correlationId, undefined);
      seen.push(`push ${readU32(p.value.payload)}`);
      gates[i]!.resolve();
    }
    const terminator = await deadline(responses.next(), "the stream's terminator");
    assert.equal(terminator.done, false);
    assert.equal(terminator.value.id, END);
    assert.equal((await deadline(responses.next(), "end of the stream")).done, true);
    assert.deepEqual(seen, INTERLEAVED);
  } finally {
    for (const gate of gates) gate.resolve();
    await client.close();
  }
});
