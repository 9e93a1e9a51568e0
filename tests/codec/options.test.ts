import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ConfigError,
  DEFAULT_MAX_FRAME_LENGTH,
  FrameDecoder,
  LengthDelimitedCodec,
  type LengthDelimitedOptions,
} from "../../src/codec/mod.ts";

function rejects(options: unknown, option: string, message: string): void {
  assert.throws(() => new LengthDelimitedCodec(options as LengthDelimitedOptions), (err) => {
    assert.ok(err instanceof ConfigError, String(err));
    assert.equal(err.code, "ERR_CONFIG");
    assert.equal(err.option, option);
    assert.equal(err.message, `LengthDelimitedCodec: option "${option}" ${message}`);
    return true;
  });
}

test("defaults: 4-byte big-endian length, no offset or adjustment, strip header, 1 MiB", () => {
  const codec = new LengthDelimitedCodec();
  assert.equal(DEFAULT_MAX_FRAME_LENGTH, 1_048_576);
  assert.deepEqual(
    {
      lengthFieldLength: codec.lengthFieldLength,
      byteOrder: codec.byteOrder,
      lengthFieldOffset: codec.lengthFieldOffset,
      lengthAdjustment: codec.lengthAdjustment,
      initialBytesToStrip: codec.initialBytesToStrip,
      maxFrameLength: codec.maxFrameLength,
    },
    {
      lengthFieldLength: 4,
      byteOrder: "big",
      lengthFieldOffset: 0,
      lengthAdjustment: 0,
      initialBytesToStrip: 4,
      maxFrameLength: 1_048_576,
    },
  );
  assert.equal(new LengthDelimitedCodec(undefined).maxFrameLength, 1_048_576);
});

test("initialBytesToStrip defaults to lengthFieldOffset + lengthFieldLength", () => {
  assert.equal(new LengthDelimitedCodec({ lengthFieldLength: 2 }).initialBytesToStrip, 2);
  assert.equal(
    new LengthDelimitedCodec({ lengthFieldOffset: 3, lengthFieldLength: 8 }).initialBytesToStrip,
    11,
  );
  assert.equal(new LengthDelimitedCodec({ initialBytesToStrip: 0 }).initialBytesToStrip, 0);
});

test("default maxFrameLength shrinks to what a small length field can declare", () => {
  assert.equal(new LengthDelimitedCodec({ lengthFieldLength: 1 }).maxFrameLength, 255);
  assert.equal(new LengthDelimitedCodec({ lengthFieldLength: 2 }).maxFrameLength, 65_535);
  assert.equal(
    new LengthDelimitedCodec({ lengthFieldLength: 2, lengthFieldOffset: 2, lengthAdjustment: -2 })
      .maxFrameLength,
    65_535 - 2,
  );
  assert.equal(new LengthDelimitedCodec({ lengthFieldLength: 3 }).maxFrameLength, 1_048_576);
  assert.equal(new LengthDelimitedCodec({ lengthFieldLength: 8 }).maxFrameLength, 1_048_576);
});

test("every option accepts its boundary values", () => {
  for (const lengthFieldLength of [1, 2, 3, 4, 8] as const) {
    for (const byteOrder of ["big", "little"] as const) {
      assert.equal(new LengthDelimitedCodec({ lengthFieldLength, byteOrder }).byteOrder, byteOrder);
    }
  }
  new LengthDelimitedCodec({ lengthFieldOffset: 65_535 });
  new LengthDelimitedCodec({ lengthAdjustment: 65_535 });
  new LengthDelimitedCodec({ lengthAdjustment: -65_535 });
  new LengthDelimitedCodec({ maxFrameLength: 2 ** 31 - 1 });
  new LengthDelimitedCodec({ maxFrameLength: 1 });
  new LengthDelimitedCodec({ lengthFieldLength: 1, maxFrameLength: 255 });
  new LengthDelimitedCodec({ lengthFieldOffset: 2, initialBytesToStrip: 6 });
});

test("lengthFieldLength must be 1, 2, 3, 4 or 8", () => {
  rejects({ lengthFieldLength: 5 }, "lengthFieldLength", "must be one of 1, 2, 3, 4, 8 (got 5)");
  rejects(
    { lengthFieldLength: "4" },
    "lengthFieldLength",
    'must be one of 1, 2, 3, 4, 8 (got "4")',
  );
});

test("byteOrder must be big or little", () => {
  rejects({ byteOrder: "BE" }, "byteOrder", 'must be one of "big", "little" (got "BE")');
});

test("lengthFieldOffset must be an integer from 0 to 65535", () => {
  for (const bad of [-1, 65_536, 1.5]) {
    rejects(
      { lengthFieldOffset: bad },
      "lengthFieldOffset",
      `must be an integer from 0 to 65535 (got ${bad})`,
    );
  }
});

test("lengthAdjustment must be an integer from -65535 to 65535", () => {
  for (const bad of [-65_536, 65_536, 0.5]) {
    rejects(
      { lengthAdjustment: bad },
      "lengthAdjustment",
      `must be an integer from -65535 to 65535 (got ${bad})`,
    );
  }
});

test("maxFrameLength must be an integer from 1 to 2^31-1", () => {
  for (const bad of [0, -5, 2 ** 31, 100.5, Number.POSITIVE_INFINITY]) {
    rejects(
      { maxFrameLength: bad },
      "maxFrameLength",
      `must be an integer from 1 to 2147483647 (got ${bad})`,
    );
  }
});

test("initialBytesToStrip may not exceed the header length", () => {
  rejects(
    { initialBytesToStrip: 5 },
    "initialBytesToStrip",
    "must be an integer from 0 to 4 (lengthFieldOffset + lengthFieldLength) (got 5)",
  );
  rejects(
    { lengthFieldOffset: 1, lengthFieldLength: 2, initialBytesToStrip: 4 },
    "initialBytesToStrip",
    "must be an integer from 0 to 3 (lengthFieldOffset + lengthFieldLength) (got 4)",
  );
  rejects(
    { initialBytesToStrip: -1 },
    "initialBytesToStrip",
    "must be an integer from 0 to 65543 (got -1)",
  );
});

test("maxFrameLength must be representable by the length field", () => {
  rejects(
    { lengthFieldLength: 1, maxFrameLength: 257 },
    "maxFrameLength",
    "must be at most 255, the largest body a 1-byte length field can declare (got 257)",
  );
  rejects(
    { lengthFieldLength: 2, lengthFieldOffset: 1, lengthAdjustment: 3, maxFrameLength: 70_000 },
    "maxFrameLength",
    "must be at most 65538, the largest body a 2-byte length field can declare (got 70000)",
  );
});

test("maxFrameLength must admit at least the smallest body a positive adjustment implies", () => {
  rejects(
    { lengthAdjustment: 10, maxFrameLength: 9 },
    "maxFrameLength",
    "must be at least 10 (lengthAdjustment) (got 9)",
  );
  assert.equal(
    new LengthDelimitedCodec({ lengthAdjustment: 10, maxFrameLength: 10 }).maxFrameLength,
    10,
  );
});

test("lengthAdjustment must leave some valid frame length", () => {
  rejects(
    { lengthFieldLength: 1, lengthAdjustment: -256 },
    "lengthAdjustment",
    "must be at least -255 with a 1-byte length field (got -256)",
  );
  // Only empty bodies are left: the field must equal 255 and adjusts to 0.
  assert.equal(
    new LengthDelimitedCodec({ lengthFieldLength: 1, lengthAdjustment: -255 }).maxFrameLength,
    0,
  );
});

test("unknown options are rejected with the list of known ones", () => {
  assert.throws(
    () => new LengthDelimitedCodec({ maxFrameSize: 10 } as LengthDelimitedOptions),
    (err) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.option, "maxFrameSize");
      assert.match(err.message, /is not a known option \(known: lengthFieldLength, byteOrder/);
      return true;
    },
  );
});

test("FrameDecoder validates its options the same way", () => {
  assert.throws(() => new FrameDecoder({ maxFrameLength: -1 }), (err) => {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.option, "maxFrameLength");
    assert.match(err.message, /must be an integer from 1 to 2147483647 \(got -1\)/);
    return true;
  });
});
