import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  CodecError,
  IncompleteFrameError,
  IncompleteHeaderError,
  LengthDelimitedCodec,
  type LengthDelimitedOptions,
} from "../../src/codec/mod.ts";
import { concat, cut, decodeAll, type Layout, type Size, wire } from "./_helpers.ts";

const NUM_RUNS = 200;

/** A valid layout plus strip; bodies are sized so every length field can carry them. */
const layoutArb = fc.record({
  lengthFieldLength: fc.constantFrom<Size>(1, 2, 3, 4, 8),
  byteOrder: fc.constantFrom("big" as const, "little" as const),
  lengthFieldOffset: fc.integer({ min: 0, max: 3 }),
  lengthAdjustment: fc.integer({ min: -8, max: 8 }),
  strip: fc.nat(),
});

function optionsOf(layout: Layout & { strip: number }): LengthDelimitedOptions {
  const { strip, ...rest } = layout;
  return {
    ...rest,
    initialBytesToStrip: strip % (rest.lengthFieldOffset + rest.lengthFieldLength + 1),
  };
}

/** Bodies of 0..200 bytes, at least max(0, adjustment) long so the length field is not negative. */
function bodiesArb(adjustment: number) {
  return fc.array(
    fc.uint8Array({ maxLength: 200 }).map((b) =>
      b.length >= adjustment ? b : concat([b, new Uint8Array(adjustment - b.length)])
    ),
    { maxLength: 12 },
  );
}

const scenarioArb = layoutArb.chain((layout) =>
  fc.record({
    layout: fc.constant(layout),
    bodies: bodiesArb(layout.lengthAdjustment),
    cuts: fc.array(fc.nat({ max: 3000 }), { maxLength: 40 }),
    oneByte: fc.boolean(),
  })
);

function frameOf(layout: Layout, body: Uint8Array, index: number): Uint8Array {
  const prefix = new Uint8Array(layout.lengthFieldOffset).fill(index & 0xff);
  return wire(layout, body, prefix);
}

test("property: encoded frames cut at arbitrary points decode to the same frames", () => {
  fc.assert(
    fc.property(scenarioArb, ({ layout, bodies, cuts, oneByte }) => {
      const options = optionsOf(layout);
      const codec = new LengthDelimitedCodec(options);
      const frames = bodies.map((b, i) => frameOf(layout, b, i));
      const data = concat(frames);
      const chunks = oneByte ? cut(data, [...data.keys()]) : cut(data, cuts);
      const { frames: decoded, error } = decodeAll(codec, chunks);
      assert.equal(error, undefined);
      const strip = options.initialBytesToStrip ?? 0;
      assert.deepEqual(decoded, frames.map((f) => Array.from(f.subarray(strip))));
    }),
    { numRuns: NUM_RUNS },
  );
});

test("property: the codec's encoder matches the reference framer and round-trips", () => {
  fc.assert(
    fc.property(
      layoutArb.chain((layout) =>
        fc.tuple(
          fc.constant({ ...layout, lengthFieldOffset: 0 }),
          bodiesArb(layout.lengthAdjustment),
        )
      ),
      fc.array(fc.nat({ max: 3000 }), { maxLength: 20 }),
      ([layout, bodies], cuts) => {
        const codec = new LengthDelimitedCodec({
          ...optionsOf(layout),
          initialBytesToStrip: undefined,
        });
        const encoded = bodies.map((b) => codec.encode(b));
        assert.deepEqual(encoded, bodies.map((b) => wire(layout, b)));
        const target = new Uint8Array(bodies.reduce((n, b) => n + codec.encodedLength(b), 0));
        let at = 0;
        for (const body of bodies) at += codec.encodeInto(body, target, at);
        assert.deepEqual(target, concat(encoded));
        const { frames, error } = decodeAll(codec, cut(target, cuts));
        assert.equal(error, undefined);
        assert.deepEqual(frames, bodies.map((b) => Array.from(b)));
      },
    ),
    { numRuns: NUM_RUNS },
  );
});

/** Any valid option set, with a small random maxFrameLength clamped into its allowed range. */
const soupOptionsArb = fc.record({
  lengthFieldLength: fc.constantFrom<Size>(1, 2, 3, 4, 8),
  byteOrder: fc.constantFrom("big" as const, "little" as const),
  lengthFieldOffset: fc.integer({ min: 0, max: 3 }),
  lengthAdjustment: fc.integer({ min: -6, max: 6 }),
  maxFrameLength: fc.integer({ min: 1, max: 600 }),
}).map((o) => {
  // maxFrameLength bounds the body: the declared length plus the adjustment.
  const smallest = Math.max(1, o.lengthAdjustment);
  const largest = 2 ** (8 * o.lengthFieldLength) - 1 + o.lengthAdjustment;
  return { ...o, maxFrameLength: Math.min(largest, Math.max(smallest, o.maxFrameLength)) };
});

type SoupOptions = Layout & { maxFrameLength: number };

// Pure noise mostly fails on the first header, so half the soups are valid
// frames with a few bytes overwritten: those reach deep into the decoder.
function soupArb(options: SoupOptions) {
  const corrupted = fc.tuple(
    bodiesArb(options.lengthAdjustment),
    fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 3 }),
  ).map(([bodies, flips]) => {
    const data = concat(bodies.map((b) => wire(options, b)));
    for (const [at, value] of flips) if (data.length > 0) data[at % data.length] = value;
    return data;
  });
  return fc.oneof(fc.uint8Array({ maxLength: 400 }), corrupted);
}

test("property: any byte soup decodes or fails with a typed CodecError, chunking-invariant", () => {
  fc.assert(
    fc.property(
      soupOptionsArb.chain((o) => fc.tuple(fc.constant(o), soupArb(o))),
      fc.array(fc.nat({ max: 3000 }), { maxLength: 30 }),
      ([options, soup], cuts) => {
        const codec = new LengthDelimitedCodec(options);
        const whole = decodeAll(codec, [soup]);
        const pieces = decodeAll(codec, cut(soup, cuts));
        for (const { error } of [whole, pieces]) {
          if (error !== undefined) assert.ok(error instanceof CodecError, String(error));
        }
        assert.deepEqual(pieces.frames, whole.frames);
        assert.equal(pieces.error?.constructor, whole.error?.constructor);
        for (const frame of whole.frames) assert.ok(frame.length <= options.maxFrameLength);
      },
    ),
    { numRuns: NUM_RUNS * 2 },
  );
});

test("property: decodeSpans emits the same frames and fails the same way as decode", () => {
  fc.assert(
    fc.property(
      soupOptionsArb.chain((o) => fc.tuple(fc.constant(o), soupArb(o))),
      fc.array(fc.nat({ max: 3000 }), { maxLength: 30 }),
      fc.nat(3),
      ([options, soup], cuts, strip) => {
        const codec = new LengthDelimitedCodec({
          ...options,
          initialBytesToStrip: strip % (options.lengthFieldOffset + options.lengthFieldLength + 1),
        });
        const chunks = cut(soup, cuts);
        const views = decodeAll(codec, chunks);
        const spans = decodeAll(codec, chunks, { spans: true });
        assert.deepEqual(spans.frames, views.frames);
        assert.equal(spans.error?.constructor, views.error?.constructor);
      },
    ),
    { numRuns: NUM_RUNS * 2 },
  );
});

test("property: a truncated stream fails exactly per where the cut falls", () => {
  fc.assert(
    fc.property(
      scenarioArb.filter(({ bodies }) => bodies.length > 0),
      fc.double({ min: 0, max: 1, noNaN: true }),
      ({ layout, bodies, cuts }, where) => {
        const options = optionsOf(layout);
        const codec = new LengthDelimitedCodec(options);
        const frames = bodies.map((b, i) => frameOf(layout, b, i));
        const data = concat(frames);
        const end = Math.floor(where * data.length);
        const { frames: decoded, error } = decodeAll(codec, cut(data.subarray(0, end), cuts));
        // Locate the frame the cut falls in.
        let start = 0;
        let index = 0;
        while (index < frames.length && start + (frames[index]?.length ?? 0) <= end) {
          start += frames[index]?.length ?? 0;
          index++;
        }
        const strip = options.initialBytesToStrip ?? 0;
        assert.deepEqual(decoded, frames.slice(0, index).map((f) => Array.from(f.subarray(strip))));
        const header = layout.lengthFieldOffset + layout.lengthFieldLength;
        const into = end - start;
        if (into === 0) assert.equal(error, undefined);
        else if (into < header) {
          assert.ok(error instanceof IncompleteHeaderError, String(error));
          assert.equal(error.received, into);
          assert.equal(error.headerLength, header);
        } else {
          assert.ok(error instanceof IncompleteFrameError, String(error));
          assert.equal(error.received, into);
          assert.equal(error.frameLength, frames[index]?.length);
        }
      },
    ),
    { numRuns: NUM_RUNS },
  );
});
