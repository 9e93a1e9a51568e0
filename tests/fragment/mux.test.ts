import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  ConfigError,
  type FragmentMeta,
  MalformedFragmentError,
  MUX_HEADER_LENGTH,
  MUX_HEADER_LENGTH_WITH_TOTAL,
} from "../../src/fragment/mod.ts";
import {
  Fragmenter,
  fragmentsOf,
  MuxFragmentStrategy,
  pattern,
  rawMux,
  thrown,
} from "./_helpers.ts";

const mux = new MuxFragmentStrategy();
const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join(" ");

test("wire layout: msgId u32, seq u32, flags u8, payloadLen u32, totalLen u32 on seq 0", () => {
  const fragments = fragmentsOf(
    new Fragmenter(new MuxFragmentStrategy({ maxFragmentPayload: 2 })),
    Uint8Array.of(0xaa, 0xbb, 0xcc),
  );
  assert.deepEqual(fragments.map(hex), [
    "00 00 00 00 00 00 00 00 02 00 00 00 02 00 00 00 03 aa bb",
    "00 00 00 00 00 00 00 01 01 00 00 00 01 cc",
  ]);
  const meta = { msgId: 0x01020304, seq: 0x05060708, isFinal: true, payloadLen: 0x0a0b0c0d };
  const out = new Uint8Array(MUX_HEADER_LENGTH);
  assert.equal(mux.encodeHeaderInto(meta, out, out, 0), MUX_HEADER_LENGTH);
  assert.equal(hex(out), "01 02 03 04 05 06 07 08 01 0a 0b 0c 0d");
  assert.equal(mux.multiplexed, true);
});

test("sendTotalLen: false writes 13-byte headers only", () => {
  const plain = new MuxFragmentStrategy({ maxFragmentPayload: 2, sendTotalLen: false });
  const fragments = fragmentsOf(new Fragmenter(plain), pattern(5));
  assert.deepEqual(fragments.map((f) => f.length - MUX_HEADER_LENGTH), [2, 2, 1]);
  assert.equal(fragments[0]![8], 0);
});

test("decodeHeader reads every field, and totalLen when flagged", () => {
  assert.deepEqual(mux.decodeHeader(rawMux(7, 0, 2, 1, pattern(1), 10)), {
    kind: "header",
    headerLen: MUX_HEADER_LENGTH_WITH_TOTAL,
    meta: { msgId: 7, seq: 0, isFinal: false, payloadLen: 1, totalLen: 10 },
  });
  assert.deepEqual(mux.decodeHeader(rawMux(0xffff_ffff, 0xffff_fffe, 1, 0, pattern(0))), {
    kind: "header",
    headerLen: MUX_HEADER_LENGTH,
    meta: { msgId: 0xffff_ffff, seq: 0xffff_fffe, isFinal: true, payloadLen: 0 },
  });
});

test("decodeHeader needs 13 bytes, or 17 when totalLen is flagged", () => {
  const withTotal = rawMux(1, 0, 2, 0, pattern(0), 0);
  for (let n = 0; n < MUX_HEADER_LENGTH_WITH_TOTAL; n++) {
    assert.deepEqual(mux.decodeHeader(withTotal.subarray(0, n)), { kind: "need-more" }, String(n));
  }
  assert.equal(mux.decodeHeader(rawMux(1, 0, 1, 0, pattern(0))).kind, "header");
});

test("reserved flag bits are a malformed fragment", () => {
  for (const flags of [0x04, 0x80, 0xff]) {
    const err = thrown(() => mux.decodeHeader(rawMux(1, 0, flags, 0, pattern(0))));
    assert.ok(err instanceof MalformedFragmentError);
    assert.equal(err.reason, "reserved-flags");
  }
});

test("totalLen on a fragment other than seq 0 is a malformed fragment", () => {
  const err = thrown(() => mux.decodeHeader(rawMux(1, 3, 2, 0, pattern(0), 9)));
  assert.ok(err instanceof MalformedFragmentError);
  assert.equal(err.reason, "total-length");
});

test("decodeHeader(encodeHeaderInto(meta)) is meta for any u32 fields", () => {
  const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
  fc.assert(
    fc.property(
      u32,
      u32,
      fc.boolean(),
      u32,
      fc.option(u32, { nil: undefined }),
      (msgId, seq, isFinal, payloadLen, totalLen) => {
        const meta: FragmentMeta = { msgId, seq, isFinal, payloadLen, totalLen };
        const frame = new Uint8Array(0);
        const out = new Uint8Array(mux.headerLength(meta, frame) + 1);
        const n = mux.encodeHeaderInto(meta, frame, out, 1);
        const decoded = mux.decodeHeader(out.subarray(1));
        assert.equal(decoded.kind, "header");
        if (decoded.kind !== "header") return;
        assert.equal(decoded.headerLen, n);
        const sent = seq === 0 && !isFinal && totalLen !== undefined;
        const expected: FragmentMeta = { msgId, seq, isFinal, payloadLen };
        if (sent) expected.totalLen = totalLen;
        assert.deepEqual(decoded.meta, expected);
      },
    ),
    { numRuns: 200 },
  );
});

test("encodeHeaderInto rejects fields beyond u32 and writes nothing", () => {
  const out = new Uint8Array(MUX_HEADER_LENGTH_WITH_TOTAL);
  const base = { msgId: 1, seq: 0, isFinal: false, payloadLen: 1 };
  for (
    const meta of [{ ...base, msgId: 2 ** 32 }, { ...base, seq: -1 }, { ...base, totalLen: 1.5 }]
  ) {
    assert.throws(() => mux.encodeHeaderInto(meta, out, out, 0), RangeError);
  }
  assert.throws(() => mux.encodeHeaderInto(base, out, out, 5), RangeError);
  assert.deepEqual(out, new Uint8Array(MUX_HEADER_LENGTH_WITH_TOTAL));
});

test("options are validated: maxFragmentPayload range, sendTotalLen boolean", () => {
  for (
    const options of [{ maxFragmentPayload: 0 }, { maxFragmentPayload: 2 ** 31 }, {
      sendTotalLen: 1,
    }]
  ) {
    const err = thrown(() => new MuxFragmentStrategy(options as never));
    assert.ok(err instanceof ConfigError);
    assert.match(
      err.message,
      /^MuxFragmentStrategy: option "(maxFragmentPayload|sendTotalLen)" must be/,
    );
  }
  assert.equal(new MuxFragmentStrategy().maxFragmentPayload(pattern(1)), 65_536);
});
