/**
 * Requests the client cannot encode reject with the encoder's own error, send
 * nothing, and leave the connection usable; only a connection that is really
 * gone gives ConnectionLostError (memory transport).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { WireframeApp } from "../../src/app/app.ts";
import { WireframeClient } from "../../src/client/client.ts";
import { ConnectionLostError } from "../../src/client/errors.ts";
import { EnvelopeError, type EnvelopeErrorReason } from "../../src/codec/envelope.ts";
import { FrameTooLargeError } from "../../src/codec/errors.ts";
import { LengthDelimitedCodec } from "../../src/codec/length_delimited.ts";
import type { FrameCodec } from "../../src/codec/types.ts";
import { MessageTooLargeError } from "../../src/fragment/errors.ts";
import { LenFlag32K } from "../../src/fragment/len_flag_32k.ts";
import { memoryTransport } from "../../src/transport/memory.ts";
import type { Connection, Transport } from "../../src/transport/types.ts";
import { captureLogger, deadline, frame, str, text } from "../e2e/_helpers.ts";
import { connectClient, serveMemory } from "../server/_memory.ts";
import { rawServer } from "./_raw_server.ts";

/** The default envelope's header: id u32, flags u8, then (when present) correlation u64. */
const BASE_HEADER = 5;
const CORRELATED_HEADER = BASE_HEADER + 8;
const MAX_FRAME = 1024;

const echoApp = () =>
  new WireframeApp()
    .logger(captureLogger().logger)
    .route(1, (request) => request.payload)
    .route(2, async function* (request) {
      yield request.payload;
      yield text("end");
    });

function isFrameTooLarge(frameLength: number) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof FrameTooLargeError, `got ${error}`);
    assert.equal(error.frameLength, frameLength);
    assert.equal(error.maxFrameLength, MAX_FRAME);
    assert.match(
      error.message,
      new RegExp(`${frameLength} bytes exceeds maxFrameLength ${MAX_FRAME}`),
    );
    return true;
  };
}

function isEnvelopeError(reason: EnvelopeErrorReason) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof EnvelopeError, `got ${error}`);
    assert.equal(error.reason, reason);
    return true;
  };
}

const oversize = new Uint8Array(MAX_FRAME);
const oversizeBody = CORRELATED_HEADER + MAX_FRAME;

test("a request over the codec's maxFrameLength rejects with FrameTooLargeError naming the limit and the size, and the next request succeeds", async () => {
  await using running = await serveMemory(echoApp());
  const client = await connectClient(running.port, { codec: { maxFrameLength: MAX_FRAME } });
  try {
    await assert.rejects(client.request(1, oversize), isFrameTooLarge(oversizeBody));
    const reply = await deadline(client.request(1, text("fits")), "the next request");
    assert.equal(str(reply.payload), "fits");
  } finally {
    await client.close();
  }
});

test("a request the envelope cannot carry rejects with EnvelopeError and the next request succeeds", async () => {
  await using running = await serveMemory(echoApp());
  const client = await connectClient(running.port);
  try {
    for (const id of [2 ** 32, -1, 1.5, Number.NaN]) {
      await assert.rejects(client.request(id, text("x")), isEnvelopeError("invalid-id"));
    }
    const notBytes = "text" as unknown as Uint8Array;
    await assert.rejects(client.request(1, notBytes), (error: unknown) => {
      isEnvelopeError("invalid-payload")(error);
      assert.match((error as Error).message, /must be a Uint8Array, got string/);
      return true;
    });
    const reply = await deadline(client.request(1, text("fits")), "the next request");
    assert.equal(str(reply.payload), "fits");
  } finally {
    await client.close();
  }
});

test("a request that cannot be encoded sends no byte and uses up no correlation id", async () => {
  await using server = await rawServer();
  const client = await connectClient(server.port, { codec: { maxFrameLength: MAX_FRAME } });
  try {
    await assert.rejects(client.request(1, oversize), FrameTooLargeError);
    await assert.rejects(client.request(2 ** 32, text("x")), EnvelopeError);
    await assert.rejects(client.send(1, oversize), FrameTooLargeError);
    const streamed = client.stream(1, oversize)[Symbol.asyncIterator]();
    await assert.rejects(streamed.next(), FrameTooLargeError);
    const pending = client.request(7, text("first sent"));
    const peer = await server.accept();
    const request = await peer.readFrame("the first request that could be encoded");
    assert.deepEqual([request.id, request.correlationId, str(request.payload)], [
      7,
      1n,
      "first sent",
    ]);
    await peer.write(frame(7, 1n, text("answer")));
    assert.equal(str((await deadline(pending, "its answer")).payload), "answer");
  } finally {
    await client.close();
  }
});

test("stream() of a request that cannot be encoded rejects its first next() with the encoder's error, and the next stream succeeds", async () => {
  await using running = await serveMemory(echoApp());
  const client = await connectClient(running.port, { codec: { maxFrameLength: MAX_FRAME } });
  try {
    const tooLarge = client.stream(2, oversize)[Symbol.asyncIterator]();
    await assert.rejects(tooLarge.next(), isFrameTooLarge(oversizeBody));
    const badId = client.stream(2 ** 32, text("x"))[Symbol.asyncIterator]();
    await assert.rejects(badId.next(), isEnvelopeError("invalid-id"));
    const isEnd = (frame: { payload: Uint8Array }) => str(frame.payload) === "end";
    const frames = await deadline(
      Array.fromAsync(client.stream(2, text("fits"), { isEnd })),
      "the next stream",
    );
    assert.deepEqual(frames.map((f) => str(f.payload)), ["fits", "end"]);
  } finally {
    await client.close();
  }
});

test("send() of a frame that cannot be encoded rejects with the encoder's error, and the next send arrives", async () => {
  await using server = await rawServer();
  const client = await connectClient(server.port, { codec: { maxFrameLength: MAX_FRAME } });
  try {
    await assert.rejects(client.send(1, oversize), isFrameTooLarge(BASE_HEADER + MAX_FRAME));
    await assert.rejects(client.send(2 ** 32, text("x")), isEnvelopeError("invalid-id"));
    await assert.rejects(
      client.send(1, text("x"), { correlationId: 5 as unknown as bigint }),
      isEnvelopeError("invalid-correlation"),
    );
    await client.send(3, text("fits"));
    const peer = await server.accept();
    const sent = await peer.readFrame("the frame that could be encoded");
    assert.deepEqual([sent.id, sent.correlationId, str(sent.payload)], [3, undefined, "fits"]);
  } finally {
    await client.close();
  }
});

test("with fragmentation, a message over maxMessageSize rejects with MessageTooLargeError, and the next request succeeds", async () => {
  const limits = { maxMessageSize: 4096 };
  const strategy = new LenFlag32K({ maxFragmentPayload: 1000 });
  const app = echoApp().fragmentation(strategy, limits);
  await using running = await serveMemory(app);
  const client = await connectClient(running.port, { fragmentation: { strategy, limits } });
  try {
    const big = new Uint8Array(4096);
    const isTooLarge = (header: number) => (error: unknown): boolean => {
      assert.ok(error instanceof MessageTooLargeError, `got ${error}`);
      assert.equal(error.messageSize, header + big.length);
      assert.equal(error.maxMessageSize, 4096);
      return true;
    };
    await assert.rejects(client.request(1, big), isTooLarge(CORRELATED_HEADER));
    await assert.rejects(client.send(1, big), isTooLarge(BASE_HEADER));
    const streamed = client.stream(2, big)[Symbol.asyncIterator]();
    await assert.rejects(streamed.next(), isTooLarge(CORRELATED_HEADER));
    // Several fragments, then one: both paths still work on the same client.
    const several = new Uint8Array(3000).fill(7);
    const echoed = await deadline(client.request(1, several), "a three-fragment request");
    assert.deepEqual(echoed.payload, several);
    assert.equal(
      str((await deadline(client.request(1, text("one")), "a small one")).payload),
      "one",
    );
  } finally {
    await client.close();
  }
});

test("with fragmentation, a fragment over the codec's maxFrameLength rejects with FrameTooLargeError and the next request succeeds", async () => {
  // Fragments of up to 2000 bytes do not fit 1 KiB frames: only small messages can be sent.
  const strategy = new LenFlag32K({ maxFragmentPayload: 2000 });
  const codec = { maxFrameLength: MAX_FRAME };
  const app = echoApp().codec(codec).fragmentation(strategy);
  await using running = await serveMemory(app);
  const client = await connectClient(running.port, { codec, fragmentation: { strategy } });
  try {
    await assert.rejects(client.request(1, new Uint8Array(1500)), FrameTooLargeError);
    await assert.rejects(client.request(1, new Uint8Array(5000)), FrameTooLargeError);
    const reply = await deadline(client.request(1, text("fits")), "the next request");
    assert.equal(str(reply.payload), "fits");
  } finally {
    await client.close();
  }
});

/** The memory transport, but every write fails while reading carries on. */
function failingWrites(): Transport {
  return {
    listen: memoryTransport.listen,
    async connect(options) {
      const inner = await memoryTransport.connect(options);
      const conn: Connection = {
        readable: inner.readable,
        writable: new WritableStream({
          write() {
            throw new Error("the write side broke");
          },
        }),
        localAddr: inner.localAddr,
        remoteAddr: inner.remoteAddr,
        closed: inner.closed,
        close: () => inner.close(),
      };
      return conn;
    },
  };
}

test("a request whose write fails rejects with ConnectionLostError carrying the write error, and so do later ones", async () => {
  await using running = await serveMemory(echoApp());
  const client = await WireframeClient.connect({
    port: running.port,
    transport: failingWrites(),
  });
  try {
    await assert.rejects(deadline(client.request(1, text("q")), "the request"), (error) => {
      assert.ok(error instanceof ConnectionLostError, `got ${error}`);
      assert.equal((error.cause as Error).message, "the write side broke");
      return true;
    });
    await deadline(client.closed, "client.closed");
    await assert.rejects(client.request(1, text("q")), ConnectionLostError);
    await assert.rejects(client.send(1, text("q")), ConnectionLostError);
    await assert.rejects(
      client.stream(1, text("q"))[Symbol.asyncIterator]().next(),
      ConnectionLostError,
    );
  } finally {
    await client.close();
  }
});

test("with a codec that has no header fast path, an oversize request still rejects with FrameTooLargeError and the next request succeeds", async () => {
  const inner = new LengthDelimitedCodec({ maxFrameLength: MAX_FRAME });
  // Only the required FrameCodec methods: the writer frames each body as a whole.
  const codec: FrameCodec = {
    maxFrameLength: inner.maxFrameLength,
    createDecoder: () => inner.createDecoder(),
    encodedLength: (frame) => inner.encodedLength(frame),
    encodeInto: (frame, target, offset) => inner.encodeInto(frame, target, offset),
    encode: (frame) => inner.encode(frame),
  };
  await using running = await serveMemory(echoApp());
  const client = await connectClient(running.port, { codec });
  try {
    await assert.rejects(
      deadline(client.request(1, oversize), "the oversize request"),
      isFrameTooLarge(oversizeBody),
    );
    const reply = await deadline(client.request(1, text("fits")), "the next request");
    assert.equal(str(reply.payload), "fits");
  } finally {
    await client.close();
  }
});
