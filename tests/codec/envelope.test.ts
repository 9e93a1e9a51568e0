import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { defaultSerializer, EnvelopeError } from "../../src/codec/envelope.ts";

const hex = (bytes: Uint8Array) => [...bytes].map((b) => b.toString(16).padStart(2, "0")).join(" ");

test("envelope without correlation: id u32be, flags 0, payload", () => {
  const body = defaultSerializer.encode({ id: 0x01020304, payload: new Uint8Array([9, 8]) });
  assert.equal(hex(body), "01 02 03 04 00 09 08");
});

test("envelope with correlation: flags bit 0 and a u64be correlation id", () => {
  const body = defaultSerializer.encode({
    id: 1,
    correlationId: 0x0102030405060708n,
    payload: new Uint8Array([7]),
  });
  assert.equal(hex(body), "00 00 00 01 01 01 02 03 04 05 06 07 08 07");
});

test("envelope decode is zero-copy: the payload is a view of the body", () => {
  const body = defaultSerializer.encode({
    id: 5,
    correlationId: 3n,
    payload: new Uint8Array([1, 2, 3]),
  });
  const env = defaultSerializer.decode(body);
  assert.equal(env.payload.buffer, body.buffer);
  assert.deepEqual([...env.payload], [1, 2, 3]);
});

test("envelope round-trips any id, correlation and payload", () => {
  fc.assert(fc.property(
    fc.integer({ min: 0, max: 0xffff_ffff }),
    fc.option(fc.bigInt({ min: 0n, max: 0xffff_ffff_ffff_ffffn }), { nil: undefined }),
    fc.uint8Array({ maxLength: 64 }),
    (id, correlationId, payload) => {
      const env = defaultSerializer.decode(
        defaultSerializer.encode({ id, correlationId, payload }),
      );
      assert.equal(env.id, id);
      assert.equal(env.correlationId, correlationId);
      assert.deepEqual([...env.payload], [...payload]);
    },
  ));
});

test("envelope decode rejects a body shorter than its header", () => {
  for (
    const body of [
      new Uint8Array(0),
      new Uint8Array(4),
      Uint8Array.of(0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0),
    ]
  ) {
    assert.throws(() => defaultSerializer.decode(body), (err: unknown) => {
      assert.ok(err instanceof EnvelopeError);
      assert.equal(err.reason, "too-short");
      assert.equal(err.code, "ERR_MALFORMED_ENVELOPE");
      return true;
    });
  }
});

test("envelope decode rejects reserved flag bits", () => {
  for (const flags of [0x02, 0x80, 0xff]) {
    assert.throws(
      () => defaultSerializer.decode(Uint8Array.of(0, 0, 0, 1, flags, 0, 0, 0, 0, 0, 0, 0, 0)),
      (err: unknown) => err instanceof EnvelopeError && err.reason === "reserved-flags",
    );
  }
});

test("envelope decode of any byte soup returns an envelope or throws EnvelopeError", () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 32 }), (body) => {
    try {
      const env = defaultSerializer.decode(body);
      assert.ok(env.payload.length <= body.length);
    } catch (err) {
      assert.ok(err instanceof EnvelopeError);
    }
  }));
});

test("envelope encode rejects ids and correlation ids that do not fit", () => {
  const payload = new Uint8Array(0);
  for (const id of [-1, 2 ** 32, 1.5, Number.NaN]) {
    assert.throws(() => defaultSerializer.encode({ id, payload }), { reason: "invalid-id" });
  }
  for (const correlationId of [-1n, 2n ** 64n]) {
    assert.throws(() => defaultSerializer.encode({ id: 1, correlationId, payload }), {
      reason: "invalid-correlation",
    });
  }
});

test("envelope decodeSpan of bytes[start, end) is decode of a view of it, its payload a view of bytes", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 8 }),
      fc.uint8Array({ maxLength: 40 }),
      fc.uint8Array({ maxLength: 8 }),
      (before, body, after) => {
        const bytes = Uint8Array.of(...before, ...body, ...after);
        const [start, end] = [before.length, before.length + body.length];
        const decode = (f: () => unknown) => {
          try {
            return f();
          } catch (error) {
            assert.ok(error instanceof EnvelopeError);
            return `${error.reason}: ${error.message}`;
          }
        };
        const spanned = decode(() => defaultSerializer.decodeSpan!(bytes, start, end));
        assert.deepEqual(spanned, decode(() => defaultSerializer.decode(body)));
        if (typeof spanned === "object") {
          const { payload } = spanned as { payload: Uint8Array };
          assert.equal(payload.buffer, bytes.buffer);
          assert.equal(payload.byteOffset + payload.length, end);
        }
      },
    ),
  );
});
