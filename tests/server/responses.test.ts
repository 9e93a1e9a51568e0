/** Response shapes and frame id / correlation inheritance, over the memory transport. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { WireframeApp } from "../../src/app/app.ts";
import { Response, type ResponseFrame } from "../../src/response.ts";
import { captureLogger, concat, frame, readU32, text, u32 } from "../e2e/_helpers.ts";
import { connectRaw, serveMemory } from "./_memory.ts";

const p = (n: number) => u32(n);

test("response frames inherit the request's id and correlation id unless overridden", async () => {
  const app = new WireframeApp()
    .logger(captureLogger().logger)
    .route(5, () =>
      Response.vec([
        p(0), // inherits both
        { payload: p(1) }, // inherits both
        { id: 9, payload: p(2) }, // new id, inherited correlation
        { correlationId: 77n, payload: p(3) }, // inherited id, new correlation
        { id: 10, correlationId: null, payload: p(4) }, // no correlation: a push
      ]));
  await using running = await serveMemory(app);
  await using raw = await connectRaw(running.port);
  await raw.write(frame(5, 123n));
  const frames = [];
  for (let i = 0; i < 5; i++) frames.push(await raw.readFrame());
  assert.deepEqual(
    frames.map((f) => [f.id, f.correlationId, readU32(f.payload)]),
    [[5, 123n, 0], [5, 123n, 1], [9, 123n, 2], [5, 77n, 3], [10, undefined, 4]],
  );
});

test("a request without a correlation id gets responses without one", async () => {
  const app = new WireframeApp().logger(captureLogger().logger).route(1, (req) => req.payload);
  await using running = await serveMemory(app);
  await using raw = await connectRaw(running.port);
  await raw.write(frame(1, undefined, p(8)));
  const reply = await raw.readFrame();
  assert.deepEqual([reply.id, reply.correlationId, readU32(reply.payload)], [1, undefined, 8]);
});

test("single, vec, array, stream and empty responses put the right frames on the wire", async () => {
  const frames = (n: number) => Array.from({ length: n }, (_, i) => p(i));
  const app = new WireframeApp()
    .logger(captureLogger().logger)
    .route(1, () => Response.single(p(0)))
    .route(2, () => Response.vec(frames(3)))
    .route(3, () => frames(2)) // a plain array
    .route(4, () =>
      Response.stream(
        new ReadableStream<ResponseFrame>({
          start(controller) {
            for (const f of frames(3)) controller.enqueue(f);
            controller.close();
          },
        }),
      ))
    .route(5, async function* () {
      yield* frames(4);
    })
    .route(6, () =>
      Response.stream((async function* () {
        yield p(0);
      })()))
    .route(7, () => Response.empty())
    .route(8, () => undefined);
  await using running = await serveMemory(app);
  await using raw = await connectRaw(running.port);
  const counts: Record<number, number> = { 1: 1, 2: 3, 3: 2, 4: 3, 5: 4, 6: 1, 7: 0, 8: 0 };
  // Every request is followed by id 1 with a fresh correlation id as a marker, so an
  // empty response shows as "the next frame is already the marker's".
  let correlation = 1n;
  for (const [id, count] of Object.entries(counts).map(([k, v]) => [Number(k), v] as const)) {
    const request = correlation++;
    const marker = correlation++;
    await raw.write(concat(frame(id, request), frame(1, marker)));
    for (let i = 0; i < count; i++) {
      const got = await raw.readFrame(`frame ${i} of id ${id}`);
      assert.deepEqual([got.id, got.correlationId, readU32(got.payload)], [id, request, i]);
    }
    const next = await raw.readFrame(`marker after id ${id}`);
    assert.deepEqual([next.id, next.correlationId], [1, marker], `id ${id} sent ${count} frames`);
  }
});

test("streams are sent as they are produced, not buffered to the end", async () => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const app = new WireframeApp().logger(captureLogger().logger).route(1, async function* () {
    yield p(0);
    await gate; // the first frame must reach the client while the stream is still open
    yield p(1);
  });
  await using running = await serveMemory(app);
  await using raw = await connectRaw(running.port);
  await raw.write(frame(1, 1n));
  assert.equal(readU32((await raw.readFrame("the first frame before the gate")).payload), 0);
  release();
  assert.equal(readU32((await raw.readFrame()).payload), 1);
});

test("payloads carry arbitrary bytes, including an empty payload", async () => {
  const app = new WireframeApp().logger(captureLogger().logger).route(1, (req) => req.payload);
  await using running = await serveMemory(app);
  await using raw = await connectRaw(running.port);
  const big = new Uint8Array(200_000).map((_, i) => (i * 7) & 0xff);
  for (const [i, payload] of [new Uint8Array(0), text("x"), big].entries()) {
    await raw.write(frame(1, BigInt(i + 1), payload));
    assert.deepEqual((await raw.readFrame()).payload, payload);
  }
});
