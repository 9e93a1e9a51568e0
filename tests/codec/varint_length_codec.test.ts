import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  ConfigError,
  FrameTooLargeError,
  IncompleteFrameError,
  IncompleteHeaderError,
  InvalidFrameHeaderError,
  MalformedLengthError,
  varintLength,
  VarintLengthCodec,
  writeVarint,
} from "../../src/codec/mod.ts";

// The reference encoder, written from the MQTT 3.1.1 spec §2.2.3 (not from src/).
function remainingLength(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) byte |= 128;
    out.push(byte);
  } while (value > 0);
  return out;
}

function packet(header: number[], body: Uint8Array): Uint8Array {
  return Uint8Array.from([...header, ...remainingLength(body.length), ...body]);
}

function decodeAll(codec: VarintLengthCodec, chunks: Uint8Array[]): number[][] {
  const decoder = codec.createDecoder();
  const frames: number[][] = [];
  for (const chunk of chunks) decoder.decode(chunk, (f) => frames.push([...f]));
  decoder.finish();
  return frames;
}

describe("VarintLengthCodec", () => {
  it("decodes the spec's remaining-length boundaries: 0, 127, 128, 16383, 16384", () => {
    const codec = new VarintLengthCodec({ maxFrameLength: 20_000 });
    for (const n of [0, 127, 128, 16_383, 16_384]) {
      const wire = packet([0x30], new Uint8Array(n).fill(7));
      assert.deepEqual(decodeAll(codec, [wire]), [[...wire]], `body of ${n}`);
      assert.equal(varintLength(n), remainingLength(n).length);
    }
  });

  it("writeVarint writes what the spec's algorithm writes, up to 268,435,455", () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 268_435_455 }), (n) => {
      const out = new Uint8Array(4);
      const written = writeVarint(n, out, 0);
      assert.deepEqual([...out.subarray(0, written)], remainingLength(n));
    }));
  });

  it("splits any sequence of packets cut anywhere into the same whole packets", () => {
    const codec = new VarintLengthCodec({ fixedHeaderLength: 1 });
    const arbPacket = fc.tuple(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 300 }))
      .map(([h, body]) => packet([h], body));
    fc.assert(
      fc.property(fc.array(arbPacket, { maxLength: 8 }), fc.array(fc.nat(400)), (ps, cuts) => {
        const wire = Uint8Array.from(ps.flatMap((p) => [...p]));
        const points = [...new Set(cuts.map((c) => c % (wire.length + 1)))].sort((a, b) => a - b);
        const chunks: Uint8Array[] = [];
        let last = 0;
        for (const p of points) {
          chunks.push(wire.subarray(last, p));
          last = p;
        }
        chunks.push(wire.subarray(last));
        assert.deepEqual(decodeAll(codec, chunks), ps.map((p) => [...p]));
      }),
    );
  });

  it("frames inside one chunk are views of it (no copy)", () => {
    const wire = Uint8Array.of(0xc0, 0, 0xd0, 0);
    const views: Uint8Array[] = [];
    new VarintLengthCodec().createDecoder().decode(wire, (f) => views.push(f));
    assert.equal(views.length, 2);
    assert.ok(views.every((v) => v.buffer === wire.buffer));
  });

  it("a fifth continuation byte fails at once, even split byte by byte", () => {
    const codec = new VarintLengthCodec({ maxLengthBytes: 4 });
    const decoder = codec.createDecoder();
    for (const b of [0x30, 0x80, 0x80, 0x80]) decoder.decode(Uint8Array.of(b), () => {});
    assert.throws(() => decoder.decode(Uint8Array.of(0x80), () => {}), MalformedLengthError);
    // and the decoder stays failed
    assert.throws(() => decoder.decode(Uint8Array.of(0), () => {}), MalformedLengthError);
  });

  it("an oversize body is refused when the length is read, before any body byte", () => {
    const codec = new VarintLengthCodec({ maxFrameLength: 100 });
    const decoder = codec.createDecoder();
    assert.throws(() => decoder.decode(Uint8Array.of(0x30, 101), () => {}), (err) => {
      assert.ok(err instanceof FrameTooLargeError);
      assert.equal(err.frameLength, 101);
      return true;
    });
  });

  it("checkHeader sees the header and body length before the body, and its refusal is typed", () => {
    const seen: [number, number][] = [];
    const codec = new VarintLengthCodec({
      checkHeader: (header, length) => {
        seen.push([header[0]!, length]);
        return header[0] === 0x62 ? "flags" : undefined;
      },
    });
    const decoder = codec.createDecoder();
    decoder.decode(Uint8Array.of(0x60, 0), () => {});
    assert.throws(() => decoder.decode(Uint8Array.of(0x62, 0x80, 0x01), () => {}), (err) => {
      assert.ok(err instanceof InvalidFrameHeaderError);
      assert.deepEqual([...err.header], [0x62]);
      assert.equal(err.reason, "flags");
      return true;
    });
    assert.deepEqual(seen, [[0x60, 0], [0x62, 128]]);
  });

  it("finish inside a header or a body says which", () => {
    const codec = new VarintLengthCodec();
    const a = codec.createDecoder();
    a.decode(Uint8Array.of(0x30, 0x80), () => {});
    assert.throws(() => a.finish(), IncompleteHeaderError);
    const b = codec.createDecoder();
    b.decode(Uint8Array.of(0x30, 3, 1), () => {});
    assert.throws(() => b.finish(), IncompleteFrameError);
  });

  it("encode checks a whole frame: its length field must say its body's length", () => {
    const codec = new VarintLengthCodec({ maxFrameLength: 10 });
    assert.deepEqual(codec.encode(Uint8Array.of(0x30, 1, 9)), Uint8Array.of(0x30, 1, 9));
    assert.equal(codec.encodedLength(Uint8Array.of(0xc0, 0)), 2);
    assert.throws(() => codec.encode(Uint8Array.of(0x30, 2, 9)), MalformedLengthError);
    assert.throws(() => codec.encode(Uint8Array.of(0x30)), MalformedLengthError);
    assert.throws(() => codec.encode(packet([0x30], new Uint8Array(11))), FrameTooLargeError);
    const target = new Uint8Array(3);
    assert.throws(() => codec.encodeInto(Uint8Array.of(0x30, 2, 9, 9), target, 0), RangeError);
  });

  it("encodeCheckedInto (the writer's second step) writes what encodeInto does, for any frame encodedLength accepts", () => {
    const codec = new VarintLengthCodec({ maxFrameLength: 300 });
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 400 }),
        fc.nat(0xff),
        fc.boolean(),
        fc.nat(8),
        (body, header, lie, offset) => {
          const frame = packet([header], body);
          if (lie && frame.length > 1) frame[1] = frame[1]! ^ 1; // a length field that is wrong
          let size: number;
          try {
            size = codec.encodedLength(frame);
          } catch {
            return; // a frame it refuses is never handed to encodeCheckedInto
          }
          const checked = new Uint8Array(offset + size);
          const plain = new Uint8Array(offset + size);
          assert.equal(codec.encodeCheckedInto(frame, checked, offset), size);
          assert.equal(codec.encodeInto(frame, plain, offset), size);
          assert.deepEqual(checked, plain);
        },
      ),
    );
  });

  it("rejects options out of range, naming the option", () => {
    assert.throws(() => new VarintLengthCodec({ maxLengthBytes: 6 }), ConfigError);
    assert.throws(() => new VarintLengthCodec({ fixedHeaderLength: -1 }), ConfigError);
    assert.throws(
      () => new VarintLengthCodec({ maxLengthBytes: 1, maxFrameLength: 128 }),
      (err) => err instanceof ConfigError && /maxFrameLength/.test(err.message),
    );
    assert.equal(new VarintLengthCodec({ maxLengthBytes: 1 }).maxFrameLength, 127);
  });
});
