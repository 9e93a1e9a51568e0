/** A response stream's source is released when its connection goes away (memory transport). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { WireframeApp } from "../../src/app/app.ts";
import type { ResponseFrame } from "../../src/response.ts";
import { captureLogger, deadline, frame, readU32, signal, u32 } from "../e2e/_helpers.ts";
import { connectRaw, serveMemory } from "./_memory.ts";

test("a generator's finally runs when the client disconnects mid-stream", async () => {
  const finalized = signal<number>();
  const app = new WireframeApp().logger(captureLogger().logger).route(1, async function* () {
    let produced = 0;
    try {
      while (true) yield u32(produced++); // endless, as fast as the socket takes it
    } finally {
      finalized.resolve(produced);
    }
  });
  await using running = await serveMemory(app);
  await using raw = await connectRaw(running.port);
  await raw.write(frame(1, 1n));
  assert.equal(readU32((await raw.readFrame()).payload), 0);
  assert.equal(readU32((await raw.readFrame()).payload), 1);
  raw.close();
  const produced = await deadline(finalized.promise, "the generator's finally");
  assert.ok(produced >= 2);
  // The server is fine afterwards.
  await using next = await connectRaw(running.port);
  await next.write(frame(1, 1n));
  assert.equal(readU32((await next.readFrame()).payload), 0);
});

test("a ReadableStream source is cancelled when the client disconnects mid-stream", async () => {
  const cancelled = signal<unknown>();
  const app = new WireframeApp().logger(captureLogger().logger).route(1, () => {
    let i = 0;
    return new ReadableStream<ResponseFrame>({
      pull: (controller) => controller.enqueue(u32(i++)),
      cancel: (reason) => cancelled.resolve(reason),
    });
  });
  await using running = await serveMemory(app);
  await using raw = await connectRaw(running.port);
  await raw.write(frame(1, 1n));
  assert.equal(readU32((await raw.readFrame()).payload), 0);
  raw.close();
  await deadline(cancelled.promise, "the stream's cancel()");
});

test("a stream waiting on ctx.signal is released when the client goes away", async () => {
  const waiting = signal();
  const finalized = signal<boolean>();
  const app = new WireframeApp().logger(captureLogger().logger).route(1, async function* (_r, ctx) {
    let resumed = false;
    try {
      yield u32(0);
      waiting.resolve();
      await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve, { once: true }));
      resumed = true;
      yield u32(1); // the connection is gone: this frame goes nowhere and ends the generator
      throw new Error("unreachable: the generator is closed at the yield");
    } finally {
      finalized.resolve(resumed);
    }
  });
  await using running = await serveMemory(app);
  await using raw = await connectRaw(running.port);
  await raw.write(frame(1, 1n));
  await raw.readFrame();
  await deadline(waiting.promise, "generator waiting");
  raw.close();
  assert.equal(await deadline(finalized.promise, "the generator's finally"), true);
  assert.equal(running.server.stats().handlerErrors, 0);
});
