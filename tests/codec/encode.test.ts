import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ConfigError,
  FrameTooLargeError,
  InvalidFrameLengthError,
  LengthDelimitedCodec,
} from "../../src/codec/mod.ts";
import { bytes, concat, decodeAll, type Size, uint, wire } from "./_helpers.ts";

const SIZES: Size[] = [1, 2, 3, 4, 8];

test("encode writes the length field in every size and byte order, then the body", () => {
  for (const lengthFieldLength of SIZES) {
    for (const byteOrder of ["big", "little"] as const) {
      const codec = new LengthDelimitedCodec({ lengthFieldLength, byteOrder });
      const body = new Uint8Array(200).map((_, i) => i);
      const layout = { lengthFieldLength, byteOrder, lengthFieldOffset: 0, lengthAdjustment: 0 };
      assert.deepEqual(codec.encode(body), wire(layout, body));
      assert.deepEqual(codec.encode(bytes()), uint(0, lengthFieldLength, byteOrder));
    }
  }
  assert.deepEqual(
    new LengthDelimitedCodec().encode(bytes(0x68, 0x69)),
    bytes(0, 0, 0, 2, 0x68, 0x69),
  );
});

test("encode subtracts lengthAdjustment from the body length", () => {
  const selfCounting = new LengthDelimitedCodec({ lengthFieldLength: 2, lengthAdjustment: -2 });
  assert.deepEqual(selfCounting.encode(bytes(9, 9, 9)), bytes(0, 5, 9, 9, 9));
  const extraHeader = new LengthDelimitedCodec({ lengthFieldLength: 2, lengthAdjustment: 2 });
  assert.deepEqual(extraHeader.encode(bytes(0xca, 0xfe, 1)), bytes(0, 1, 0xca, 0xfe, 1));
});

test("encodedLength is header plus body", () => {
  assert.equal(new LengthDelimitedCodec().encodedLength(new Uint8Array(10)), 14);
  assert.equal(new LengthDelimitedCodec({ lengthFieldLength: 8 }).encodedLength(bytes()), 8);
});

test("encodeInto coalesces several frames into one buffer", () => {
  const codec = new LengthDelimitedCodec({ lengthFieldLength: 2, byteOrder: "little" });
  const bodies = [bytes(1), bytes(), bytes(2, 3, 4)];
  const target = new Uint8Array(bodies.reduce((n, b) => n + codec.encodedLength(b), 0) + 1);
  let at = 1;
  for (const body of bodies) at += codec.encodeInto(body, target, at);
  assert.equal(at, target.length);
  assert.deepEqual(target, concat([bytes(0), ...bodies.map((b) => codec.encode(b))]));
  assert.deepEqual(decodeAll(codec, [target.subarray(1)]).frames, [[1], [], [2, 3, 4]]);
});

test("encodeInto throws RangeError and writes nothing when the target is too small", () => {
  const codec = new LengthDelimitedCodec();
  const target = new Uint8Array(6);
  assert.throws(() => codec.encodeInto(bytes(1, 2, 3), target, 0), RangeError);
  assert.throws(() => codec.encodeInto(bytes(1), target, 2), RangeError);
  assert.throws(() => codec.encodeInto(bytes(1), target, -1), RangeError);
  assert.deepEqual(target, new Uint8Array(6));
  assert.equal(codec.encodeInto(bytes(1, 2), target, 0), 6);
});

test("a body longer than maxFrameLength (the header not counted) is FrameTooLargeError", () => {
  const codec = new LengthDelimitedCodec({ maxFrameLength: 10 });
  assert.equal(codec.encode(new Uint8Array(10)).length, 14);
  for (
    const attempt of [
      () => codec.encode(new Uint8Array(11)),
      () => codec.encodeInto(new Uint8Array(11), new Uint8Array(100), 0),
      () => codec.headerLength(11),
    ]
  ) {
    assert.throws(attempt, (err) => {
      assert.ok(err instanceof FrameTooLargeError);
      assert.equal(err.frameLength, 11);
      assert.equal(err.maxFrameLength, 10);
      return true;
    });
  }
});

test("a frame too long for a 1-byte length field is FrameTooLargeError", () => {
  const codec = new LengthDelimitedCodec({ lengthFieldLength: 1 });
  assert.deepEqual(codec.encode(new Uint8Array(255)).subarray(0, 1), bytes(255));
  assert.throws(() => codec.encode(new Uint8Array(256)), FrameTooLargeError);
});

test("a body shorter than a positive lengthAdjustment is InvalidFrameLengthError", () => {
  const codec = new LengthDelimitedCodec({ lengthAdjustment: 2 });
  assert.throws(() => codec.encode(bytes(1)), (err) => {
    assert.ok(err instanceof InvalidFrameLengthError);
    assert.equal(err.lengthFieldValue, -1);
    assert.equal(err.lengthAdjustment, 2);
    return true;
  });
});

test("a codec with a lengthFieldOffset can decode but not encode", () => {
  const codec = new LengthDelimitedCodec({ lengthFieldOffset: 2 });
  const message = 'LengthDelimitedCodec: option "lengthFieldOffset" must be 0 to encode (got 2)';
  for (
    const attempt of [
      () => codec.encode(bytes(1)),
      () => codec.encodeInto(bytes(1), new Uint8Array(10), 0),
      () => codec.encodedLength(bytes(1)),
    ]
  ) {
    assert.throws(attempt, (err) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.option, "lengthFieldOffset");
      assert.equal(err.message, message);
      return true;
    });
  }
});

test("encode then decode round-trips with strip 0 (header kept) and default strip", () => {
  const body = bytes(5, 6, 7);
  const whole = new LengthDelimitedCodec({ lengthFieldLength: 3, initialBytesToStrip: 0 });
  assert.deepEqual(decodeAll(whole, [whole.encode(body)]).frames, [[0, 0, 3, 5, 6, 7]]);
  const partial = new LengthDelimitedCodec({ lengthFieldLength: 3, initialBytesToStrip: 1 });
  assert.deepEqual(decodeAll(partial, [partial.encode(body)]).frames, [[0, 3, 5, 6, 7]]);
  const plain = new LengthDelimitedCodec({ lengthAdjustment: -4 });
  assert.deepEqual(decodeAll(plain, [plain.encode(body)]).frames, [[5, 6, 7]]);
});
