import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ConfigError,
  type FrameCodec,
  FrameDecoder,
  FrameEncoder,
  FrameTooLargeError,
  IncompleteFrameError,
  IncompleteHeaderError,
  LengthDelimitedCodec,
} from "../../src/codec/mod.ts";
import { bytes, chunksOf, collect, concat, streamOf } from "./_helpers.ts";

const codec = new LengthDelimitedCodec();
const data = concat([codec.encode(bytes(1, 2)), codec.encode(bytes()), codec.encode(bytes(3))]);
const plain = (chunks: Uint8Array[]) => chunks.map((c) => Array.from(c));

test("FrameDecoder splits a byte stream into frames whatever the chunking", async () => {
  for (const size of [1, 3, data.length]) {
    const { chunks, error } = await collect(
      streamOf(chunksOf(data, size)).pipeThrough(new FrameDecoder()),
    );
    assert.equal(error, undefined);
    assert.deepEqual(plain(chunks), [[1, 2], [], [3]]);
  }
});

test("FrameDecoder accepts options or a codec, and exposes the codec", () => {
  assert.equal(new FrameDecoder().codec.maxFrameLength, 1_048_576);
  const fromOptions = new FrameDecoder({ maxFrameLength: 8192 });
  assert.ok(fromOptions.codec instanceof LengthDelimitedCodec);
  assert.equal(fromOptions.codec.maxFrameLength, 8192);
  assert.equal(new FrameDecoder(codec).codec, codec);
});

test("FrameDecoder errors the stream with IncompleteHeaderError at EOF mid-header", async () => {
  const { chunks, error } = await collect(
    streamOf([data, bytes(0, 0)]).pipeThrough(new FrameDecoder()),
  );
  assert.deepEqual(plain(chunks), [[1, 2], [], [3]]);
  assert.ok(error instanceof IncompleteHeaderError);
  assert.equal(error.received, 2);
});

test("FrameDecoder errors the stream with IncompleteFrameError at EOF mid-frame", async () => {
  const { chunks, error } = await collect(
    streamOf([data.subarray(0, 5)]).pipeThrough(new FrameDecoder()),
  );
  assert.deepEqual(chunks, []);
  assert.ok(error instanceof IncompleteFrameError);
  assert.equal(error.received, 5);
  assert.equal(error.frameLength, 6);
});

test("FrameDecoder closes cleanly on an empty stream", async () => {
  const { chunks, error } = await collect(streamOf([]).pipeThrough(new FrameDecoder()));
  assert.deepEqual({ chunks, error }, { chunks: [], error: undefined });
});

test("FrameDecoder errors both sides on an oversized frame", async () => {
  const decoder = new FrameDecoder({ maxFrameLength: 16 });
  const writer = decoder.writable.getWriter();
  const reading = collect(decoder.readable);
  await assert.rejects(writer.write(bytes(0, 0, 1, 0)), FrameTooLargeError);
  const { error } = await reading;
  assert.ok(error instanceof FrameTooLargeError);
  await assert.rejects(writer.write(bytes(0)), FrameTooLargeError);
});

test("FrameDecoder drives any FrameCodec", async () => {
  const perChunk: FrameCodec = {
    maxFrameLength: 100,
    createDecoder: () => ({
      buffered: 0,
      decode: (chunk, emit) => emit(chunk.subarray(1)),
      finish: () => {},
    }),
    encodedLength: (frame) => frame.length + 1,
    encodeInto: (frame, target, offset) => {
      target[offset] = 0;
      target.set(frame, offset + 1);
      return frame.length + 1;
    },
    encode: (frame) => concat([bytes(0), frame]),
  };
  const decoded = await collect(
    streamOf([bytes(0, 1), bytes(0, 2, 3)]).pipeThrough(
      new FrameDecoder(perChunk),
    ),
  );
  assert.deepEqual(plain(decoded.chunks), [[1], [2, 3]]);
  const encoded = await collect(streamOf([bytes(7)]).pipeThrough(new FrameEncoder(perChunk)));
  assert.deepEqual(plain(encoded.chunks), [[0, 7]]);
});

test("FrameEncoder then FrameDecoder round-trips frames", async () => {
  const frames = [bytes(1, 2, 3), bytes(), new Uint8Array(300).fill(7)];
  const options = { lengthFieldLength: 2, byteOrder: "little" } as const;
  const { chunks, error } = await collect(
    streamOf(frames).pipeThrough(new FrameEncoder(options)).pipeThrough(new FrameDecoder(options)),
  );
  assert.equal(error, undefined);
  assert.deepEqual(plain(chunks), plain(frames));
});

test("FrameEncoder emits one chunk per frame with the default header", async () => {
  const { chunks } = await collect(streamOf([bytes(0x68, 0x69)]).pipeThrough(new FrameEncoder()));
  assert.deepEqual(plain(chunks), [[0, 0, 0, 2, 0x68, 0x69]]);
});

test("FrameEncoder output chunks never overlap, across slabs and for large frames", async () => {
  const frames = Array.from(
    { length: 150 },
    (_, i) => new Uint8Array(1000 + (i % 3) * 2000).fill(i),
  );
  const { chunks, error } = await collect(streamOf(frames).pipeThrough(new FrameEncoder()));
  assert.equal(error, undefined);
  assert.deepEqual(plain(chunks), frames.map((f) => Array.from(codec.encode(f))));
  let shared = 0;
  for (let i = 1; i < chunks.length; i++) {
    const [a, b] = [chunks[i - 1], chunks[i]];
    assert.ok(a && b);
    if (a.buffer !== b.buffer) continue;
    shared++;
    assert.ok(a.byteOffset + a.byteLength <= b.byteOffset, "pooled chunks must not overlap");
  }
  assert.ok(shared > 0);
  const big = await collect(streamOf([new Uint8Array(5000)]).pipeThrough(new FrameEncoder()));
  assert.equal(big.chunks[0]?.byteLength, 5004);
});

test("FrameEncoder errors the stream on a frame it cannot encode", async () => {
  const { chunks, error } = await collect(
    streamOf([bytes(1), new Uint8Array(20)]).pipeThrough(new FrameEncoder({ maxFrameLength: 16 })),
  );
  assert.deepEqual(plain(chunks), [[0, 0, 0, 1, 1]]);
  assert.ok(error instanceof FrameTooLargeError);
});

test("FrameEncoder refuses a lengthFieldOffset at construction", () => {
  for (
    const input of [{ lengthFieldOffset: 3 }, new LengthDelimitedCodec({ lengthFieldOffset: 3 })]
  ) {
    assert.throws(() => new FrameEncoder(input), (err) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.option, "lengthFieldOffset");
      assert.equal(
        err.message,
        'FrameEncoder: option "lengthFieldOffset" must be 0 to encode (got 3)',
      );
      return true;
    });
  }
});
