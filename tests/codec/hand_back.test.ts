/**
 * stop() and takeBuffered(): every built-in decoder can stop after a frame,
 * leaving the rest of the chunk undecoded, and hand back exactly the bytes
 * it holds (what a TLS upgrade that keeps the bytes behind its request needs).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { DelimiterCodec } from "../../src/codec/delimiter.ts";
import { LengthDelimitedCodec } from "../../src/codec/length_delimited.ts";
import type { FrameCodec } from "../../src/codec/types.ts";
import { VarintLengthCodec } from "../../src/codec/varint_length.ts";

const codecs: [string, FrameCodec][] = [
  ["LengthDelimitedCodec", new LengthDelimitedCodec({ lengthFieldLength: 1, maxFrameLength: 200 })],
  ["VarintLengthCodec", new VarintLengthCodec({ fixedHeaderLength: 1 })],
  ["DelimiterCodec", new DelimiterCodec({ delimiter: "\n" })],
];

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

for (const [name, codec] of codecs) {
  const wire = (s: string) => codec.encode(bodyOf(codec, s));
  // Bytes behind the frames that are no frame of this codec at all (a TLS record header).
  const foreign = Uint8Array.of(0x16, 0x03, 0x01, 0x02, 0x00, 0xff, 0xfe);

  test(`${name}: stop() inside emit leaves the rest of the chunk undecoded, and takeBuffered() gives it back as it came`, () => {
    const decoder = codec.createDecoder();
    const frames: string[] = [];
    const chunk = Uint8Array.of(...wire("one"), ...wire("two"), ...foreign);
    decoder.decode(chunk, (frame) => {
      frames.push(text(frame));
      decoder.stop!();
    });
    assert.deepEqual(frames, [text(frameOf(codec, "one"))]);
    const rest = Uint8Array.of(...wire("two"), ...foreign);
    assert.equal(decoder.buffered, rest.length);
    assert.deepEqual(decoder.takeBuffered!(), rest);
    assert.equal(decoder.buffered, 0);
  });

  test(`${name}: after a stop, the next decode call decodes the held rest first`, () => {
    const decoder = codec.createDecoder();
    const frames: string[] = [];
    decoder.decode(Uint8Array.of(...wire("one"), ...wire("two")), (frame) => {
      frames.push(text(frame));
      decoder.stop!();
    });
    decoder.decode(wire("three"), (frame) => frames.push(text(frame)));
    assert.deepEqual(frames, ["one", "two", "three"].map((s) => frameOf(codec, s)).map(text));
    decoder.finish();
  });

  test(`${name}: takeBuffered() hands back a partial frame held over several chunks, in order`, () => {
    const decoder = codec.createDecoder();
    const whole = wire("a frame split three ways");
    const parts = [whole.subarray(0, 2), whole.subarray(2, 5), whole.subarray(5, whole.length - 1)];
    for (const part of parts) decoder.decode(part, () => assert.fail("no frame is complete"));
    assert.deepEqual(decoder.takeBuffered!(), whole.subarray(0, whole.length - 1));
    // The decoder is as new: a whole frame decodes, and the end of input is clean.
    const frames: Uint8Array[] = [];
    decoder.decode(wire("next"), (frame) => frames.push(frame));
    assert.equal(frames.length, 1);
    decoder.finish();
  });
}

/** The frame `codec` emits for the body `s` (the varint codec keeps its header). */
function frameOf(codec: FrameCodec, s: string): Uint8Array {
  const frames: Uint8Array[] = [];
  codec.createDecoder().decode(codec.encode(bodyOf(codec, s)), (f) => frames.push(f));
  return frames[0]!;
}

/** What `codec` encodes for `s`: a varint frame is its whole packet (fixed header, length, body). */
function bodyOf(codec: FrameCodec, s: string): Uint8Array {
  const bytes = new TextEncoder().encode(s);
  return codec instanceof VarintLengthCodec ? Uint8Array.of(0x30, bytes.length, ...bytes) : bytes;
}
