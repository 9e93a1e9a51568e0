import { test } from "node:test";
import assert from "node:assert/strict";
import { LengthDelimitedCodec } from "../../src/codec/mod.ts";
import { bytes, concat } from "./_helpers.ts";

const codec = new LengthDelimitedCodec();

function decodeViews(chunks: Uint8Array[]): Uint8Array[] {
  const decoder = codec.createDecoder();
  const frames: Uint8Array[] = [];
  for (const chunk of chunks) decoder.decode(chunk, (frame) => frames.push(frame));
  decoder.finish();
  return frames;
}

test("frames that fit in one chunk are views of that chunk, not copies", () => {
  const chunk = concat([
    codec.encode(bytes(1, 2, 3)),
    codec.encode(bytes()),
    codec.encode(bytes(9)),
  ]);
  const frames = decodeViews([chunk]);
  assert.equal(frames.length, 3);
  assert.deepEqual(frames.map((f) => f.byteOffset), [4, 11, 15]);
  for (const frame of frames) assert.equal(frame.buffer, chunk.buffer);
  chunk[4] = 42; // a view sees later writes to the chunk
  assert.equal(frames[0]?.[0], 42);
});

test("views respect a chunk that is itself a view into a larger buffer", () => {
  const backing = new Uint8Array(64).fill(0xee);
  backing.set(codec.encode(bytes(7, 8)), 10);
  const [frame] = decodeViews([backing.subarray(10, 16)]);
  assert.ok(frame);
  assert.equal(frame.buffer, backing.buffer);
  assert.equal(frame.byteOffset, 14);
  assert.deepEqual(Array.from(frame), [7, 8]);
});

test("a frame that straddles chunks is copied once into a fresh buffer", () => {
  const data = concat([codec.encode(bytes(1, 2, 3, 4, 5, 6)), codec.encode(bytes(7))]);
  const first = data.slice(0, 7);
  const second = data.slice(7);
  const frames = decodeViews([first, second]);
  assert.deepEqual(frames.map((f) => Array.from(f)), [[1, 2, 3, 4, 5, 6], [7]]);
  const [straddling, whole] = frames;
  assert.ok(straddling && whole);
  assert.notEqual(straddling.buffer, first.buffer);
  assert.notEqual(straddling.buffer, second.buffer);
  assert.equal(straddling.byteLength, straddling.buffer.byteLength);
  // The next frame lies wholly inside the second chunk, so it is a view again.
  assert.equal(whole.buffer, second.buffer);
});

test("a straddling frame is exactly its body: the declared length is not allocated up front", () => {
  const decoder = codec.createDecoder();
  decoder.decode(bytes(0, 0, 0, 3, 1), () => {});
  assert.equal(decoder.buffered, 5);
  const frames: Uint8Array[] = [];
  decoder.decode(bytes(2), (f) => frames.push(f));
  decoder.decode(bytes(3, 0, 0), (f) => frames.push(f));
  assert.equal(frames.length, 1);
  assert.equal(frames[0]?.buffer.byteLength, 3);
  assert.equal(decoder.buffered, 2);
});
