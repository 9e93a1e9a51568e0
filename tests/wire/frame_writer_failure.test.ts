// FrameWriter when a batch cannot be written: the sink is aborted, so the
// connection ends instead of waiting for answers to frames that never went out.
import { test } from "node:test";
import assert from "node:assert/strict";
import { defaultSerializer, type Serializer } from "../../src/codec/envelope.ts";
import { LengthDelimitedCodec } from "../../src/codec/length_delimited.ts";
import { FrameWriter } from "../../src/wire/frame_writer.ts";

/** A serializer that announces fewer bytes than it writes: a broken length contract. */
const lying: Serializer = {
  ...defaultSerializer,
  encodedLength: (envelope) => defaultSerializer.encodedLength!(envelope) - 1,
};

test("a batch that cannot be encoded aborts the sink with the error, and later sends throw it", async () => {
  let aborted: unknown;
  const written: Uint8Array[] = [];
  const sink = new WritableStream<Uint8Array>({
    write: (chunk) => void written.push(chunk.slice()),
    abort: (reason) => void (aborted = reason),
  });
  const writer = new FrameWriter({
    writer: sink.getWriter(),
    codec: new LengthDelimitedCodec(),
    serializer: lying,
  });
  writer.send({ id: 1, payload: Uint8Array.of(1, 2, 3) });
  const failure = await writer.flush().then(() => undefined, (error: unknown) => error);
  assert.ok(
    failure instanceof RangeError,
    `flush rejects with the encoding error (got ${failure})`,
  );
  assert.equal(aborted, failure, "the sink is aborted with that error");
  assert.deepEqual(written, [], "no partial batch reached the sink");
  assert.equal(writer.failed, true);
  assert.throws(() => writer.send({ id: 2, payload: new Uint8Array(0) }), (e) => e === failure);
});

test("a sink that fails by itself is not aborted over again", async () => {
  let aborts = 0;
  const broken = new Error("socket gone");
  const sink = new WritableStream<Uint8Array>({
    write: () => Promise.reject(broken),
    abort: () => void aborts++,
  });
  const writer = new FrameWriter({
    writer: sink.getWriter(),
    codec: new LengthDelimitedCodec(),
    serializer: defaultSerializer,
  });
  writer.send({ id: 1, payload: Uint8Array.of(1) });
  await assert.rejects(writer.flush(), (e) => e === broken);
  assert.equal(aborts, 0, "an errored stream ignores abort()");
});

test("closing over a sink the transport errored rejects with the transport's error", async () => {
  const reset = new Error("connection reset by peer");
  let controller!: WritableStreamDefaultController;
  const sink = new WritableStream<Uint8Array>({ start: (c) => void (controller = c) });
  const writer = new FrameWriter({
    writer: sink.getWriter(),
    codec: new LengthDelimitedCodec(),
    serializer: defaultSerializer,
  });
  controller.error(reset);
  await assert.rejects(writer.close(), (e) => e === reset, "not the stream's TypeError");
});
