// FrameWriter's pooled write buffers: over a transport that lets go of written
// chunks, big batches are encoded into one reused buffer and small ones carved
// out of a shared slab; over any other, every batch is a buffer of its own (the
// memory transport copies chunks into its pipe, but a transport may hand them on).
import { test } from "node:test";
import assert from "node:assert/strict";
import { setImmediate } from "node:timers";
import fc from "fast-check";
import { defaultSerializer, type Envelope } from "../../src/codec/envelope.ts";
import { LengthDelimitedCodec } from "../../src/codec/length_delimited.ts";
import { concatBytes as concat } from "../../src/_internal/bytes.ts";
import type { Serializer } from "../../src/codec/envelope.ts";
import { writeChunks } from "../../src/_internal/chunk_pool.ts";
import { FrameWriter } from "../../src/wire/frame_writer.ts";
import { decodeWire } from "../connection/_actor.ts";

/** A sink that keeps a copy of each chunk and the chunk's buffer, as written. */
function recordingSink(fail?: Error, writeTakes: "a turn" | "a microtask" | "no time" = "a turn") {
  const copies: Uint8Array[] = [];
  const buffers: ArrayBufferLike[] = [];
  const offsets: number[] = [];
  const stream = new WritableStream<Uint8Array>({
    async write(chunk) {
      copies.push(chunk.slice());
      buffers.push(chunk.buffer);
      offsets.push(chunk.byteOffset);
      // A socket write takes a while, or (Bun's, Deno's while the kernel has room) no time at all.
      if (writeTakes === "a turn") await new Promise((resolve) => setTimeout(resolve, 0));
      else if (writeTakes === "a microtask") await Promise.resolve();
      if (fail) throw fail;
    },
  });
  return { copies, buffers, offsets, stream };
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

/** Batches from this size on are written from a pooled buffer (frame_writer.ts). */
const POOL_FROM = 4 * 1024;

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

test("over a transport that releases written chunks, the batches of 4 KiB or more reuse one buffer, smaller ones are carved from a shared slab, never the same bytes twice, and all arrive intact", async () => {
  await fc.assert(
    fc.asyncProperty(envelopes, async (batches) => {
      const { copies, buffers, offsets, stream } = recordingSink();
      await sendInBatches(writerOver(stream, true), batches);
      assert.deepEqual(decodeWire(copies), batches.flat().map(normalise));
      const pooled = buffers.filter((_, i) => copies[i]!.length >= POOL_FROM);
      assert.ok(new Set(pooled).size <= 1, "every big write came from the same pooled buffer");
      const carved = new Map<ArrayBufferLike, [number, number][]>();
      buffers.forEach((buffer, i) => {
        if (copies[i]!.length >= POOL_FROM) return;
        assert.ok(!pooled.includes(buffer), "a small batch is not written from the pooled buffer");
        assert.ok(buffer.byteLength > copies[i]!.length, "a small batch: a view of a slab");
        const regions = carved.get(buffer) ?? [];
        const [from, to] = [offsets[i]!, offsets[i]! + copies[i]!.length];
        for (const [a, b] of regions) assert.ok(to <= a || from >= b, "regions never overlap");
        carved.set(buffer, [...regions, [from, to]]);
      });
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

test("a pooled buffer is zeroed before reuse: a byte the serializer leaves unset is not the last batch's", async () => {
  // A body of a flags byte left at zero (as a fresh buffer has it), then the payload.
  const serializer: Serializer = {
    encode: (e) => concat([Uint8Array.of(0), e.payload]),
    decode: (body) => ({ id: body[0]!, payload: body.subarray(1) }),
    encodedLength: (e) => 1 + e.payload.length,
    encodeInto(e, target, offset) {
      target.set(e.payload, offset + 1);
      return 1 + e.payload.length;
    },
  };
  const { copies, buffers, stream } = recordingSink();
  const writer = new FrameWriter({
    writer: stream.getWriter(),
    codec: new LengthDelimitedCodec(),
    serializer,
    transport: { close() {}, releasesWrittenChunks: true },
  });
  const payload = (size: number, byte: number) => new Uint8Array(size).fill(byte);
  // Each batch sent within one tick: one write each.
  writer.send({ id: 0, payload: payload(20, 0xff) });
  writer.send({ id: 0, payload: payload(6000, 0xff) });
  await writer.flush();
  writer.send({ id: 0, payload: payload(3, 1) });
  writer.send({ id: 0, payload: payload(5000, 1) });
  await writer.flush();
  assert.equal(buffers.length, 2);
  assert.equal(new Set(buffers).size, 1, "both batches from one pooled buffer");
  // The second batch's second flags byte sits where the first batch had payload bytes (0xff).
  const decoder = new LengthDelimitedCodec().createDecoder();
  const flags: number[] = [];
  decoder.decode(copies[1]!, (body) => void flags.push(body[0]!));
  assert.deepEqual(flags, [0, 0]);
});

test("a batch larger than a pooled buffer gets a buffer of its own, and a failed write's buffer is not reused", async () => {
  const broken = new Error("socket gone");
  const { buffers, stream } = recordingSink(broken);
  const writer = writerOver(stream, true);
  writer.send(frame(1, POOL_FROM));
  await assert.rejects(writer.flush(), (e) => e === broken);
  const failedBuffer = buffers[0]!;
  assert.equal(failedBuffer.byteLength, writeChunks.size, "the batch was pooled");
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

test("frames that answer input just read are written at once: told of each read, the writer never waits a turn, over a sink whose writes take no time", async () => {
  const { copies, stream } = recordingSink(undefined, "no time");
  const writer = writerOver(stream, true);
  // If the writer waited a turn for more frames, this immediate would run first.
  let turned = false;
  setImmediate(() => turned = true);
  for (let i = 0; i < 100; i++) {
    writer.inputRead(); // a request was read: its answer follows
    await writer.send(frame(1, 40));
    await writer.flush();
  }
  assert.equal(turned, false, "a response waited for a turn");
  assert.equal(copies.length, 100, "a write per answer");
});

test("more queued than a pooled buffer holds goes out from that buffer, in writes of the frames that fit it, in order", async () => {
  const { copies, buffers, stream } = recordingSink();
  const writer = writerOver(stream, true);
  // Five frames of 16 KiB queued in one tick: 80 KiB, more than one pooled buffer.
  const frames = [1, 2, 3, 4, 5].map((id) => frame(id, 16 * 1024));
  for (const f of frames) writer.send(f);
  await writer.flush();
  assert.deepEqual(decodeWire(copies), frames.map(normalise));
  assert.ok(copies.length >= 2, `${copies.length} writes: the queue did not fit one buffer`);
  assert.ok(
    copies.every((c) => c.length <= writeChunks.size),
    "no write larger than a pooled buffer",
  );
  assert.equal(new Set(buffers).size, 1, "every write from the one pooled buffer");
  assert.equal(buffers[0]!.byteLength, writeChunks.size);
});
