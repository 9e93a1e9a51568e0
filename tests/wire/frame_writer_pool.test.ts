// FrameWriter's pooled write buffers: over a transport that lets go of written
// chunks, batches are encoded into one reused buffer; over any other, every
// batch is a buffer of its own (the memory transport hands chunks to the peer).
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { defaultSerializer, type Envelope } from "../../src/codec/envelope.ts";
import { LengthDelimitedCodec } from "../../src/codec/length_delimited.ts";
import { LineCodec } from "../../src/codec/line.ts";
import { writeChunks } from "../../src/_internal/chunk_pool.ts";
import { FrameWriter } from "../../src/wire/frame_writer.ts";
import { decodeWire } from "../connection/_actor.ts";

/** A sink that keeps a copy of each chunk and the chunk's buffer, as written. */
function recordingSink(fail?: Error, writeTakes: "a turn" | "a microtask" | "no time" = "a turn") {
  const copies: Uint8Array[] = [];
  const buffers: ArrayBufferLike[] = [];
  const stream = new WritableStream<Uint8Array>({
    async write(chunk) {
      copies.push(chunk.slice());
      buffers.push(chunk.buffer);
      // A socket write takes a while, or (Bun's, Deno's while the kernel has room) no time at all.
      if (writeTakes === "a turn") await new Promise((resolve) => setTimeout(resolve, 0));
      else if (writeTakes === "a microtask") await Promise.resolve();
      if (fail) throw fail;
    },
  });
  return { copies, buffers, stream };
}

function writerOver(stream: WritableStream<Uint8Array>, releasesWrittenChunks?: boolean) {
  return new FrameWriter({
    writer: stream.getWriter(),
    codec: new LengthDelimitedCodec(),
    serializer: defaultSerializer,
    transport: { close() {}, releasesWrittenChunks },
  });
}

/** Send `batches`, one batch per turn of the loop (so each is a write of its own). */
async function sendInBatches(writer: FrameWriter, batches: readonly Envelope[][]): Promise<void> {
  for (const batch of batches) {
    for (const frame of batch) await writer.send(frame);
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  await writer.flush();
}

const envelopes = fc.array(
  fc.array(
    fc.record({
      id: fc.nat(0xffff),
      correlationId: fc.option(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), { nil: undefined }),
      payload: fc.uint8Array({ maxLength: 3000 }),
    }),
    { minLength: 1, maxLength: 8 },
  ),
  { minLength: 1, maxLength: 6 },
);

test("over a transport that releases written chunks, the batches reuse one buffer and arrive intact", async () => {
  await fc.assert(
    fc.asyncProperty(envelopes, async (batches) => {
      const { copies, buffers, stream } = recordingSink();
      await sendInBatches(writerOver(stream, true), batches);
      assert.deepEqual(decodeWire(copies), batches.flat().map(normalise));
      assert.equal(new Set(buffers).size, 1, "every write came from the same pooled buffer");
    }),
    { numRuns: 50 },
  );
});

test("over a transport that keeps chunks (unset flag), every write has a buffer of its own", async () => {
  const { copies, buffers, stream } = recordingSink();
  const batches = [[frame(1, 10)], [frame(2, 20)], [frame(3, 30)]];
  await sendInBatches(writerOver(stream), batches);
  assert.deepEqual(decodeWire(copies), batches.flat().map(normalise));
  assert.equal(new Set(buffers).size, 3);
  assert.ok(
    buffers.every((b) => b.byteLength < writeChunks.size),
    "sized to the batch, not pooled",
  );
});

test("a pooled buffer is zeroed before reuse: bytes a serializer skips are not the last batch's", async () => {
  // A line codec over raw bodies: the second, shorter line must not carry the first one's tail.
  const { copies, stream } = recordingSink();
  const writer = new FrameWriter({
    writer: stream.getWriter(),
    codec: new LineCodec(),
    serializer: { encode: (e) => e.payload, decode: (body) => ({ id: 0, payload: body }) },
    transport: { close() {}, releasesWrittenChunks: true },
  });
  await writer.send({ id: 0, payload: new TextEncoder().encode("a long first line") });
  await writer.flush();
  await writer.send({ id: 0, payload: new TextEncoder().encode("short") });
  await writer.flush();
  assert.deepEqual(copies.map((c) => new TextDecoder().decode(c)), [
    "a long first line\r\n",
    "short\r\n",
  ]);
});

test("a batch larger than a pooled buffer gets a buffer of its own, and a failed write's buffer is not reused", async () => {
  const broken = new Error("socket gone");
  const { buffers, stream } = recordingSink(broken);
  const writer = writerOver(stream, true);
  writer.send(frame(1, 10));
  await assert.rejects(writer.flush(), (e) => e === broken);
  const failedBuffer = buffers[0]!;
  assert.equal(failedBuffer.byteLength, writeChunks.size, "the small batch was pooled");
  for (let i = 0; i < 40; i++) {
    assert.notEqual(writeChunks.take(), failedBuffer, "never handed out again");
  }

  const big = recordingSink();
  await sendInBatches(writerOver(big.stream, true), [[frame(2, writeChunks.size)]]);
  assert.equal(big.buffers.length, 1);
  assert.ok(big.buffers[0]!.byteLength > writeChunks.size, "its own buffer");
});

function frame(id: number, size: number): Envelope {
  return { id, correlationId: BigInt(id), payload: new Uint8Array(size).fill(id) };
}

/** An envelope as the wire decodes it back. */
function normalise(envelope: Envelope): Envelope {
  const { id, correlationId, payload } = envelope;
  return correlationId === undefined ? { id, payload } : { id, correlationId, payload };
}

for (const [sink, producer] of [["a microtask", 0], ["no time", 8]] as const) {
  test(`a producer still going has its frames coalesced: far fewer writes than frames (writes take ${sink}, ${producer} awaits per frame)`, async () => {
    const { copies, stream } = recordingSink(undefined, sink);
    const writer = writerOver(stream, true);
    const FRAMES = 2_000;
    // One small frame per run of microtasks, as an async generator's response stream produces
    // them; with writes that complete at once (Bun's), each write is over before the next frame.
    async function* rows() {
      for (let i = 0; i < FRAMES; i++) {
        for (let hop = 0; hop < producer; hop++) await Promise.resolve();
        yield frame(1, 40);
      }
    }
    for await (const row of rows()) await writer.send(row);
    await writer.flush();
    assert.equal(decodeWire(copies).length, FRAMES, "every frame arrived");
    assert.ok(
      copies.length <= FRAMES / 20,
      `${copies.length} writes for ${FRAMES} frames: a write per handful of frames`,
    );
  });
}
