/**
 * The frame writer's part of the slow-consumer guard: the bytes it holds are
 * counted in the connection's water marks, and a write that never completes
 * fails the writer with a DrainTimeoutError and closes the transport.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { defaultSerializer } from "../../src/codec/envelope.ts";
import { LengthDelimitedCodec } from "../../src/codec/length_delimited.ts";
import { WaterMarks } from "../../src/_internal/water_marks.ts";
import { DrainTimeoutError } from "../../src/wire/errors.ts";
import { FrameWriter } from "../../src/wire/frame_writer.ts";
import { deadline, signal } from "../e2e/_helpers.ts";

/** A sink whose writes complete only when the test says so, and whose transport close fails them. */
function stallingSink() {
  const writes: { bytes: number; done: () => void; fail: (e: unknown) => void }[] = [];
  const started = signal();
  let closes = 0;
  let controller!: WritableStreamDefaultController;
  const sink = new WritableStream<Uint8Array>({
    start: (c) => void (controller = c),
    write: (chunk) =>
      new Promise<void>((done, fail) => {
        writes.push({ bytes: chunk.length, done, fail });
        started.resolve();
      }),
  });
  const transport = {
    close() {
      closes++;
      const error = new Error("closed");
      controller.error(error);
      for (const write of writes.splice(0)) write.fail(error);
    },
  };
  return { sink, writes, started, transport, closes: () => closes };
}

test("a write that takes no bytes for drainTimeoutMs fails the writer with a DrainTimeoutError and closes the transport", async () => {
  const { sink, started, transport, closes } = stallingSink();
  const writer = new FrameWriter({
    writer: sink.getWriter(),
    codec: new LengthDelimitedCodec(),
    serializer: defaultSerializer,
    highWaterMark: 1_000,
    drainTimeoutMs: 20,
    transport,
    connectionId: 9,
  });
  writer.send({ id: 1, payload: new Uint8Array(600) });
  await deadline(started.promise, "the first write");
  const waiting = writer.send({ id: 1, payload: new Uint8Array(2_000) }); // above 1,000: wait
  assert.ok(waiting, "back-pressure");
  const failure = await deadline(
    waiting.then(() => undefined, (e: unknown) => e),
    "the drain timeout",
  );
  assert.ok(failure instanceof DrainTimeoutError, `${failure}`);
  assert.equal(failure.code, "ERR_DRAIN_TIMEOUT");
  assert.equal(failure.connectionId, 9);
  assert.equal(failure.timeoutMs, 20);
  assert.ok(failure.pendingBytes > 2_600, `in flight and queued: ${failure.pendingBytes}`);
  assert.equal(closes(), 1);
  assert.equal(writer.failed, true);
  assert.equal(writer.failure, failure, "the writer's reason, not the transport's");
  assert.throws(() => writer.send({ id: 1, payload: new Uint8Array(1) }), (e) => e === failure);
  await assert.rejects(writer.flush(), (e) => e === failure);
});

test("a write that stalls after others completed fails the writer at the drain timeout too", async () => {
  const { sink, writes, transport, closes } = stallingSink();
  const writer = new FrameWriter({
    writer: sink.getWriter(),
    codec: new LengthDelimitedCodec(),
    serializer: defaultSerializer,
    drainTimeoutMs: 20,
    transport,
  });
  // Three writes the peer takes at once (the timer is armed by the first), then one it never takes.
  for (let i = 0; i < 4; i++) {
    writer.send({ id: 1, payload: new Uint8Array(10) });
    while (writes.length === 0) await new Promise((resolve) => setTimeout(resolve, 0));
    if (i < 3) writes.shift()!.done();
  }
  const failure = await deadline(writer.flush().then(() => undefined, (e: unknown) => e), "drain");
  assert.ok(failure instanceof DrainTimeoutError, `${failure}`);
  assert.equal(closes(), 1);
});

test("the writer counts the bytes it holds, queued and in flight, in the connection's water marks", async () => {
  const { sink, writes, started } = stallingSink();
  const marks = new WaterMarks({ highWaterMark: 10_000, lowWaterMark: 1_000 });
  const writer = new FrameWriter({
    writer: sink.getWriter(),
    codec: new LengthDelimitedCodec(),
    serializer: defaultSerializer,
    marks,
  });
  writer.send({ id: 1, payload: new Uint8Array(100) });
  const framed = marks.bytes;
  assert.ok(framed > 100, "framed bytes: payload, envelope, length prefix");
  await deadline(started.promise, "the first write");
  writer.send({ id: 1, payload: new Uint8Array(100) });
  assert.equal(marks.bytes, 2 * framed, "one in flight, one queued");
  assert.equal(writer.bufferedBytes, 2 * framed);
  writes.shift()!.done();
  while (writes.length === 0) await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(marks.bytes, framed, "the written batch is uncounted");
  writes.shift()!.done();
  await writer.flush();
  assert.equal(marks.bytes, 0);
});
