import { test } from "node:test";
import assert from "node:assert/strict";
import {
  CodecError,
  FrameTooLargeError,
  IncompleteFrameError,
  IncompleteHeaderError,
  InvalidFrameLengthError,
  LengthDelimitedCodec,
} from "../../src/codec/mod.ts";
import { ascii, bytes, chunksOf, concat, decodeAll, type Size, uint, wire } from "./_helpers.ts";

const HELLO = ascii("HELLO, WORLD"); // 12 bytes, as in Netty's examples
const SIZES: Size[] = [1, 2, 3, 4, 8];

test("every length field size and byte order decodes frames of several sizes", () => {
  for (const lengthFieldLength of SIZES) {
    for (const byteOrder of ["big", "little"] as const) {
      const layout = { lengthFieldLength, byteOrder, lengthFieldOffset: 0, lengthAdjustment: 0 };
      const bodies = [0, 1, 12, 255].map((n) => new Uint8Array(n).fill(n & 0x7f));
      const data = concat(bodies.map((b) => wire(layout, b)));
      const codec = new LengthDelimitedCodec({ lengthFieldLength, byteOrder });
      for (const chunks of [[data], chunksOf(data, 1), chunksOf(data, 7)]) {
        const { frames, error } = decodeAll(codec, chunks);
        assert.equal(error, undefined, `${lengthFieldLength} ${byteOrder}`);
        assert.deepEqual(frames, bodies.map((b) => Array.from(b)));
      }
    }
  }
});

test("byte order is honoured: the same bytes mean different lengths", () => {
  const data = bytes(0x01, 0x00, ...new Uint8Array(256));
  const big = decodeAll(new LengthDelimitedCodec({ lengthFieldLength: 2 }), [data]);
  assert.equal(big.frames[0]?.length, 256);
  const little = decodeAll(
    new LengthDelimitedCodec({ lengthFieldLength: 2, byteOrder: "little" }),
    [data.subarray(0, 3)],
  );
  assert.deepEqual(little.frames, [[0]]);
});

test("3-byte and 8-byte fields read all their bytes in both orders", () => {
  const body = new Uint8Array(0x010203 & 0xffff).fill(1);
  for (const byteOrder of ["big", "little"] as const) {
    const c3 = new LengthDelimitedCodec({ lengthFieldLength: 3, byteOrder });
    const d3 = decodeAll(c3, [uint(0x010203, 3, byteOrder)]);
    assert.ok(d3.error instanceof IncompleteFrameError);
    assert.equal(d3.error.frameLength, 3 + 0x010203);
    const c8 = new LengthDelimitedCodec({ lengthFieldLength: 8, byteOrder });
    const d8 = decodeAll(c8, [uint(body.length, 8, byteOrder), body]);
    assert.deepEqual(d8.frames.map((f) => f.length), [body.length]);
  }
});

test("Netty example: 2-byte length, no strip, emits the whole frame", () => {
  const codec = new LengthDelimitedCodec({ lengthFieldLength: 2, initialBytesToStrip: 0 });
  const frame = concat([bytes(0x00, 0x0c), HELLO]);
  assert.deepEqual(decodeAll(codec, [frame]).frames, [Array.from(frame)]);
});

test("Netty example: 2-byte length, strip 2, emits the body", () => {
  const codec = new LengthDelimitedCodec({ lengthFieldLength: 2, initialBytesToStrip: 2 });
  assert.deepEqual(decodeAll(codec, [concat([bytes(0, 12), HELLO])]).frames, [Array.from(HELLO)]);
});

test("Netty example: length counts its own field (adjustment -2)", () => {
  const codec = new LengthDelimitedCodec({
    lengthFieldLength: 2,
    lengthAdjustment: -2,
    initialBytesToStrip: 0,
  });
  const frame = concat([bytes(0x00, 0x0e), HELLO]);
  assert.deepEqual(decodeAll(codec, [frame]).frames, [Array.from(frame)]);
});

test("Netty example: header bytes before a 3-byte length (offset 2)", () => {
  const codec = new LengthDelimitedCodec({
    lengthFieldOffset: 2,
    lengthFieldLength: 3,
    initialBytesToStrip: 0,
  });
  const frame = concat([bytes(0xca, 0xfe, 0x00, 0x00, 0x0c), HELLO]);
  assert.deepEqual(decodeAll(codec, [frame, frame]).frames, [frame, frame].map((f) => [...f]));
  const stripped = new LengthDelimitedCodec({ lengthFieldOffset: 2, lengthFieldLength: 3 });
  assert.deepEqual(decodeAll(stripped, [frame]).frames, [Array.from(HELLO)]);
});

test("Netty example: extra header after the length (adjustment +2)", () => {
  const codec = new LengthDelimitedCodec({
    lengthFieldLength: 3,
    lengthAdjustment: 2,
    initialBytesToStrip: 0,
  });
  const frame = concat([bytes(0x00, 0x00, 0x0c, 0xca, 0xfe), HELLO]);
  assert.deepEqual(decodeAll(codec, chunksOf(frame, 2)).frames, [Array.from(frame)]);
});

test("Netty example: offset 1, adjustment +1, strip 3 keeps the second header byte", () => {
  const codec = new LengthDelimitedCodec({
    lengthFieldOffset: 1,
    lengthFieldLength: 2,
    lengthAdjustment: 1,
    initialBytesToStrip: 3,
  });
  const frame = concat([bytes(0xca, 0x00, 0x0c, 0xfe), HELLO]);
  assert.deepEqual(decodeAll(codec, [frame]).frames, [[0xfe, ...HELLO]]);
});

test("Netty example: offset 1, length counts the whole frame (adjustment -3), strip 3", () => {
  const codec = new LengthDelimitedCodec({
    lengthFieldOffset: 1,
    lengthFieldLength: 2,
    lengthAdjustment: -3,
    initialBytesToStrip: 3,
  });
  const frame = concat([bytes(0xca, 0x00, 0x10, 0xfe), HELLO]);
  assert.deepEqual(decodeAll(codec, chunksOf(frame, 1)).frames, [[0xfe, ...HELLO]]);
});

test("a partial strip inside the header works when the header straddles chunks", () => {
  const codec = new LengthDelimitedCodec({ lengthFieldOffset: 2, initialBytesToStrip: 1 });
  const frame = concat([bytes(0xaa, 0xbb, 0, 0, 0, 2, 7, 8)]);
  for (const size of [1, 2, 3, 5]) {
    assert.deepEqual(decodeAll(codec, chunksOf(frame, size)).frames, [[0xbb, 0, 0, 0, 2, 7, 8]]);
  }
});

test("an oversized length fails as soon as the header is readable, before any body byte", () => {
  const codec = new LengthDelimitedCodec({ maxFrameLength: 1024 });
  const decoder = codec.createDecoder();
  assert.throws(() => decoder.decode(bytes(0x7f, 0xff, 0xff, 0xff), () => {}), (err) => {
    assert.ok(err instanceof FrameTooLargeError);
    assert.equal(err.code, "ERR_FRAME_TOO_LARGE");
    assert.equal(err.frameLength, 0x7fffffff);
    assert.equal(err.maxFrameLength, 1024);
    assert.equal(err.message, "frame body of 2147483647 bytes exceeds maxFrameLength 1024");
    return true;
  });
  const split = codec.createDecoder();
  split.decode(bytes(0x00, 0x01), () => {});
  assert.equal(split.buffered, 2);
  assert.throws(() => split.decode(bytes(0x00, 0x00), () => {}), FrameTooLargeError);
});

test("maxFrameLength bounds the body (the declared length, adjusted), not the header", () => {
  const codec = new LengthDelimitedCodec({ maxFrameLength: 10 });
  assert.deepEqual(decodeAll(codec, [concat([bytes(0, 0, 0, 10), new Uint8Array(10)])]).frames, [
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
  ]);
  assert.ok(decodeAll(codec, [bytes(0, 0, 0, 11)]).error instanceof FrameTooLargeError);
  const adjusted = new LengthDelimitedCodec({
    maxFrameLength: 5,
    lengthFieldOffset: 1,
    lengthAdjustment: 2,
  });
  assert.deepEqual(decodeAll(adjusted, [bytes(9, 0, 0, 0, 3, 1, 2, 3, 4, 5)]), {
    frames: [[1, 2, 3, 4, 5]],
  });
  assert.ok(decodeAll(adjusted, [bytes(9, 0, 0, 0, 4)]).error instanceof FrameTooLargeError);
});

test("8-byte lengths above 2^53 are rejected as oversize, not wrapped", () => {
  for (const byteOrder of ["big", "little"] as const) {
    const codec = new LengthDelimitedCodec({ lengthFieldLength: 8, byteOrder });
    const huge = 2n ** 53n + 1n;
    const { error } = decodeAll(codec, [uint(huge, 8, byteOrder)]);
    assert.ok(error instanceof FrameTooLargeError);
    assert.equal(error.message, `frame body of ${huge} bytes exceeds maxFrameLength 1048576`);
    assert.ok(error.frameLength > Number.MAX_SAFE_INTEGER);
    const max = decodeAll(codec, [uint(2n ** 64n - 1n, 8, byteOrder)]).error;
    assert.ok(max instanceof FrameTooLargeError);
    assert.match(max.message, /^frame body of 18446744073709551615 bytes/);
    // 2^32 + 5 would read as 5 if only the low word were used.
    const wrap = decodeAll(codec, [uint(2n ** 32n + 5n, 8, byteOrder), new Uint8Array(5)]);
    assert.ok(wrap.error instanceof FrameTooLargeError);
    assert.equal(wrap.error.frameLength, 2 ** 32 + 5);
    assert.deepEqual(wrap.frames, []);
  }
});

test("an adjusted length below zero is an InvalidFrameLengthError", () => {
  const codec = new LengthDelimitedCodec({ lengthAdjustment: -4 });
  const { error } = decodeAll(codec, [bytes(0, 0, 0, 3)]);
  assert.ok(error instanceof InvalidFrameLengthError);
  assert.equal(error.code, "ERR_INVALID_FRAME_LENGTH");
  assert.equal(error.lengthFieldValue, 3);
  assert.equal(error.lengthAdjustment, -4);
  assert.equal(
    error.message,
    "length field 3 with lengthAdjustment -4 gives -1 bytes after the length field (must be >= 0)",
  );
  assert.deepEqual(decodeAll(codec, [bytes(0, 0, 0, 4)]).frames, [[]]);
});

test("EOF inside the header is IncompleteHeaderError; inside the body IncompleteFrameError", () => {
  const codec = new LengthDelimitedCodec({ lengthFieldOffset: 1 });
  const header = decodeAll(codec, [bytes(9, 0, 0)]).error;
  assert.ok(header instanceof IncompleteHeaderError);
  assert.equal(header.code, "ERR_INCOMPLETE_HEADER");
  assert.equal(header.received, 3);
  assert.equal(header.headerLength, 5);
  assert.equal(header.message, "input ended inside a frame header: got 3 of 5 header bytes");
  const body = decodeAll(codec, [bytes(9, 0, 0, 0, 4, 1), bytes(2)]).error;
  assert.ok(body instanceof IncompleteFrameError);
  assert.equal(body.code, "ERR_INCOMPLETE_FRAME");
  assert.equal(body.received, 7);
  assert.equal(body.frameLength, 9);
  assert.equal(body.message, "input ended inside a frame: got 7 of 9 bytes");
  const headerOnly = decodeAll(codec, [bytes(9, 0, 0, 0, 4)]).error;
  assert.ok(headerOnly instanceof IncompleteFrameError);
  assert.equal(headerOnly.received, 5);
});

test("a clean EOF is not an error, with or without input", () => {
  const codec = new LengthDelimitedCodec();
  assert.deepEqual(decodeAll(codec, []), { frames: [] });
  assert.deepEqual(decodeAll(codec, [bytes(0, 0, 0, 1, 5), new Uint8Array(0)]), { frames: [[5]] });
});

test("buffered reports the bytes held for a partial frame", () => {
  const decoder = new LengthDelimitedCodec().createDecoder();
  assert.equal(decoder.buffered, 0);
  decoder.decode(bytes(0, 0), () => {});
  assert.equal(decoder.buffered, 2);
  decoder.decode(bytes(0, 3, 1), () => {});
  assert.equal(decoder.buffered, 5);
  decoder.decode(bytes(2, 3, 0, 0), () => {});
  assert.equal(decoder.buffered, 2);
});

test("after an error the decoder is poisoned and rethrows the same error", () => {
  const decoder = new LengthDelimitedCodec({ maxFrameLength: 8 }).createDecoder();
  let first: unknown;
  try {
    decoder.decode(bytes(0, 0, 0, 9), () => {});
  } catch (err) {
    first = err;
  }
  assert.ok(first instanceof FrameTooLargeError);
  assert.throws(() => decoder.decode(bytes(0, 0, 0, 0), () => {}), (err) => err === first);
  assert.throws(() => decoder.finish(), (err) => err === first);

  const eof = new LengthDelimitedCodec().createDecoder();
  eof.decode(bytes(0), () => {});
  assert.throws(() => eof.finish(), IncompleteHeaderError);
  assert.throws(() => eof.decode(bytes(0, 0, 0), () => {}), IncompleteHeaderError);
});

test("an emit callback that throws poisons the decoder with its error", () => {
  const decoder = new LengthDelimitedCodec().createDecoder();
  const boom = new Error("boom");
  assert.throws(() =>
    decoder.decode(bytes(0, 0, 0, 0), () => {
      throw boom;
    }), (err) => err === boom);
  assert.throws(() => decoder.decode(bytes(0, 0, 0, 0), () => {}), (err) => err === boom);
});

test("every framing error is a CodecError", () => {
  for (
    const err of [
      new FrameTooLargeError(10, 5),
      new InvalidFrameLengthError(1, -2),
      new IncompleteHeaderError(1, 4),
      new IncompleteFrameError(5, 9),
    ]
  ) {
    assert.ok(err instanceof CodecError);
    assert.ok(err instanceof Error);
    assert.equal(err.name, err.constructor.name);
  }
});
