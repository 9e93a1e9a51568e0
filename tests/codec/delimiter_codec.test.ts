import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  ConfigError,
  DelimiterCodec,
  DelimiterInFrameError,
  FrameTooLargeError,
  LineCodec,
  UnterminatedFrameError,
} from "../../src/codec/mod.ts";
import { ascii, bytes, chunksOf, concat, cut, decodeAll } from "./_helpers.ts";

const str = (frames: number[][]) => frames.map((f) => new TextDecoder().decode(Uint8Array.from(f)));

function frames(codec: DelimiterCodec, chunks: readonly (string | Uint8Array)[]) {
  const { frames, error } = decodeAll(
    codec,
    chunks.map((c) => typeof c === "string" ? ascii(c) : c),
  );
  return error === undefined ? { frames: str(frames) } : { frames: str(frames), error };
}

// ---------------------------------------------------------------- options

test("a delimiter is a string (its UTF-8 bytes) or bytes, one or several; defaults as LineCodec's", () => {
  const codec = new DelimiterCodec({ delimiter: "\0" });
  assert.deepEqual(codec.delimiters, [bytes(0)]);
  assert.equal(codec.maxFrameLength, 8192);
  assert.equal(codec.stripDelimiter, true);
  const several = new DelimiterCodec({ delimiter: ["é", Uint8Array.of(0xff, 0xfe)] });
  assert.deepEqual(several.delimiters, [bytes(0xc3, 0xa9), bytes(0xff, 0xfe)]);
});

test("the delimiters are copied: changing the array given later changes nothing", () => {
  const given = Uint8Array.of(0x7c);
  const codec = new DelimiterCodec({ delimiter: given });
  given[0] = 0x2c;
  assert.deepEqual(frames(codec, ["a|b,c|"]).frames, ["a", "b,c"]);
});

test("a bad option is a ConfigError naming the option and what it accepts", () => {
  const rule =
    /must be a non-empty string or Uint8Array of at most 256 bytes, or an array of 1 to 16 of them/;
  const cases: [unknown, string, RegExp][] = [
    [{}, "delimiter", rule],
    [undefined, "delimiter", rule],
    [{ delimiter: "" }, "delimiter", rule],
    [{ delimiter: new Uint8Array(0) }, "delimiter", rule],
    [{ delimiter: new Uint8Array(257) }, "delimiter", rule],
    [{ delimiter: [] }, "delimiter", rule],
    [
      { delimiter: Array.from({ length: 17 }, (_, i) => String.fromCharCode(65 + i)) },
      "delimiter",
      rule,
    ],
    [{ delimiter: ["x", 3] }, "delimiter", rule],
    [{ delimiter: 10 }, "delimiter", rule],
    [
      { delimiter: "\n", maxFrameLength: 0 },
      "maxFrameLength",
      /must be an integer from 1 to 2147483647/,
    ],
    [{ delimiter: "\n", stripDelimiter: 1 }, "stripDelimiter", /must be a boolean/],
    [{ delimiter: "\n", lineEnding: "\n" }, "lineEnding", /is not a known option/],
    [{ delimiter: ["\n", Uint8Array.of(10)] }, "delimiter.1", /must not repeat another delimiter/],
    [{ delimiter: ["ab", "a"] }, "delimiter.0", /can never match: delimiter \[97\] ends inside it/],
    [{ delimiter: ["\n\n", "\n"] }, "delimiter.0", /can never match/],
  ];
  for (const [options, option, message] of cases) {
    assert.throws(() => new DelimiterCodec(options as never), (err) => {
      assert.ok(err instanceof ConfigError, String(err));
      assert.equal(err.option, option);
      assert.match(err.message, /^DelimiterCodec: option /);
      assert.match(err.message, message);
      return true;
    }, JSON.stringify(options));
  }
  // A delimiter that ends inside another at its last byte is fine: the longest wins.
  assert.deepEqual(frames(new DelimiterCodec({ delimiter: ["ab", "b"] }), ["xaby", "b"]).frames, [
    "x",
    "y",
  ]);
});

// ---------------------------------------------------------------- decoding

test("a multi-byte delimiter split across chunks ends the frame wherever the cut falls", () => {
  const codec = new DelimiterCodec({ delimiter: "\r\n.\r\n" });
  const wire = ascii("first\r\nline\r\n.\r\nsecond\r\n.\r\n");
  for (let size = 1; size <= wire.length; size++) {
    assert.deepEqual(frames(codec, chunksOf(wire, size)), {
      frames: ["first\r\nline", "second"],
    }, `chunks of ${size}`);
  }
});

test("a frame ends at the first byte that completes a delimiter; the longest one ending there wins", () => {
  const codec = new DelimiterCodec({ delimiter: ["\n", "\r\n"] });
  assert.deepEqual(frames(codec, ["a\r\nb\nc\r\r\n"]).frames, ["a", "b", "c\r"]);
  // Netty takes the delimiter that starts first; that is the same frame, since no delimiter may
  // end inside another (["b", "abc"] is a ConfigError).
  assert.throws(() => new DelimiterCodec({ delimiter: ["b", "abc"] }), ConfigError);
});

test("delimiters ending in different bytes are all found", () => {
  const codec = new DelimiterCodec({ delimiter: [";", "\0", "END"] });
  for (let size = 1; size <= 6; size++) {
    assert.deepEqual(frames(codec, chunksOf(ascii("a;b\0cENDdEN;eEND"), size)).frames, [
      "a",
      "b",
      "c",
      "dEN",
      "e",
    ]);
  }
});

test("a partial delimiter at a frame's end is not matched across into the next frame", () => {
  const codec = new DelimiterCodec({ delimiter: "--" });
  assert.deepEqual(frames(codec, ["a--", "-b--"]).frames, ["a", "-b"]);
  assert.deepEqual(frames(codec, ["----"]).frames, ["", ""]);
});

test("stripDelimiter: false keeps the delimiter that ended each frame", () => {
  const codec = new DelimiterCodec({ delimiter: [";", "END"], stripDelimiter: false });
  assert.deepEqual(frames(codec, ["a;bE", "ND"]).frames, ["a;", "bEND"]);
});

test("frames inside one chunk are views of it; a frame across chunks is copied once", () => {
  const decoder = new DelimiterCodec({ delimiter: "||" }).createDecoder();
  const chunk = ascii("ab||cd|");
  const got: Uint8Array[] = [];
  decoder.decode(chunk, (f) => got.push(f));
  assert.equal(got[0]!.buffer, chunk.buffer);
  assert.equal(decoder.buffered, 3);
  decoder.decode(ascii("|"), (f) => got.push(f));
  assert.deepEqual(str(got.map((f) => Array.from(f))), ["ab", "cd"]);
  assert.notEqual(got[1]!.buffer, chunk.buffer);
  assert.equal(got[1]!.byteLength, 2);
  assert.equal(decoder.buffered, 0);
});

test("maxFrameLength bounds the frame before the delimiter; the decoder holds < max + longest", () => {
  const codec = new DelimiterCodec({ delimiter: ["END", ";"], maxFrameLength: 4 });
  assert.deepEqual(frames(codec, ["abcdEND"]).frames, ["abcd"]);
  const exact = frames(codec, ["abcde;"]).error;
  assert.ok(exact instanceof FrameTooLargeError);
  assert.equal(exact.message, "frame of 5 bytes exceeds maxFrameLength 4");
  const decoder = codec.createDecoder();
  decoder.decode(ascii("abcdEN"), () => {}); // 6 = max + 3 - 1: "abcd" + "END" is still possible
  assert.equal(decoder.buffered, 6);
  assert.throws(() => decoder.decode(ascii("x"), () => {}), (err) => {
    assert.ok(err instanceof FrameTooLargeError);
    assert.equal(err.message, "frame of at least 5 bytes exceeds maxFrameLength 4");
    return true;
  });
});

test("1 MiB without a delimiter, in small chunks, fails at max + delimiter bytes", () => {
  const max = 1000;
  const decoder = new DelimiterCodec({ delimiter: "\r\n\r\n", maxFrameLength: max })
    .createDecoder();
  const chunk = ascii("ab\r\n".repeat(8)); // CRLFs, never two in a row
  let fed = 0;
  let peak = 0;
  let error: unknown;
  while (fed < 1024 * 1024 && error === undefined) {
    try {
      decoder.decode(chunk, () => assert.fail("no frame ends"));
      fed += chunk.length;
      peak = Math.max(peak, decoder.buffered);
    } catch (err) {
      error = err;
    }
  }
  assert.ok(error instanceof FrameTooLargeError);
  assert.ok(peak < max + 4, `held ${peak}`);
  assert.ok(fed < max + 4 && fed + chunk.length >= max + 4, `threw after ${fed} bytes`);
});

test("EOF inside a frame is an UnterminatedFrameError listing the delimiters", () => {
  const codec = new DelimiterCodec({ delimiter: [Uint8Array.of(0), Uint8Array.of(0xff, 0xfe)] });
  const { error } = frames(codec, [bytes(1, 0, 2, 0xff)]);
  assert.ok(error instanceof UnterminatedFrameError);
  assert.equal(error.received, 2);
  assert.equal(
    error.message,
    'input ended inside a frame: got 2 bytes and no "\\u0000" or <ff fe>',
  );
});

// ---------------------------------------------------------------- encoding

test("encode appends the first delimiter", () => {
  const codec = new DelimiterCodec({ delimiter: ["END", ";"] });
  assert.deepEqual(codec.encode(ascii("x")), ascii("xEND"));
  assert.equal(codec.encodedLength(ascii("x")), 4);
  const target = new Uint8Array(8);
  assert.equal(codec.encodeInto(ascii("ab"), target, 1), 5);
  assert.deepEqual(target, ascii("\0abEND\0\0"));
});

test("encode refuses a frame holding any delimiter, or whose end reads as one with the appended", () => {
  const codec = new DelimiterCodec({ delimiter: ["END", ";", "DEN"] });
  const target = new Uint8Array(16);
  const cases: [string, number, string][] = [["a;b", 1, ";"], ["xENDy", 1, "END"]];
  for (const [frame, index, delimiter] of cases) {
    for (
      const encode of [
        () => codec.encode(ascii(frame)),
        () => codec.encodeInto(ascii(frame), target, 0),
        () => codec.encodedLength(ascii(frame)),
      ]
    ) {
      assert.throws(encode, (err) => {
        assert.ok(err instanceof DelimiterInFrameError);
        assert.equal(err.index, index);
        assert.deepEqual(err.delimiter, ascii(delimiter));
        return true;
      });
    }
  }
  assert.ok(target.every((b) => b === 0));
  // "xEN" + "END" reads "xENEND": "END" ends at the last byte, so it round-trips.
  assert.deepEqual(frames(codec, [codec.encode(ascii("xEN"))]).frames, ["xEN"]);
  // "xD" + "END" = "xDEND": "DEN" ends before the appended "END" does.
  const tail = assertDelimiterError(() => codec.encode(ascii("xD")));
  assert.equal(tail.index, 1);
  assert.deepEqual(tail.delimiter, ascii("DEN"));
  assert.equal(
    tail.message,
    'frame of 2 bytes followed by "END" reads as the delimiter "DEN" at byte 1',
  );
});

test("a longer delimiter that would take the frame's last bytes with the appended one is refused", () => {
  const codec = new DelimiterCodec({ delimiter: ["\n", "\r\n"] });
  const err = assertDelimiterError(() => codec.encode(ascii("ab\r")));
  assert.deepEqual([err.index, Array.from(err.delimiter)], [2, [13, 10]]);
  assert.deepEqual(frames(codec, [codec.encode(ascii("a\rb"))]).frames, ["a\rb"]);
});

test("encode refuses a frame over maxFrameLength", () => {
  const codec = new DelimiterCodec({ delimiter: "\0", maxFrameLength: 2 });
  assert.throws(() => codec.encode(ascii("abc")), (err) => {
    assert.ok(err instanceof FrameTooLargeError);
    assert.equal(err.message, "frame of 3 bytes exceeds maxFrameLength 2");
    return true;
  });
});

function assertDelimiterError(fn: () => unknown): DelimiterInFrameError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof DelimiterInFrameError, String(err));
    return err;
  }
  assert.fail("expected a DelimiterInFrameError");
}

// ---------------------------------------------------------------- properties

/**
 * An independent reference framer: try every end position from the frame's
 * start, first the longest delimiter; fail once the window is full.
 */
function reference(
  delimiters: readonly Uint8Array[],
  max: number,
  strip: boolean,
  wire: Uint8Array,
): { frames: number[][]; failed: boolean } {
  const sorted = [...delimiters].sort((a, b) => b.length - a.length);
  const longest = sorted[0]!.length;
  const out: number[][] = [];
  let start = 0;
  scan: while (start < wire.length) {
    for (let end = start + 1; end <= wire.length; end++) {
      if (end - start > max + longest) return { frames: out, failed: true };
      for (const d of sorted) {
        if (end - start < d.length) continue;
        if (d.every((b, i) => wire[end - d.length + i] === b)) {
          const length = end - d.length - start;
          if (length > max) return { frames: out, failed: true };
          out.push(Array.from(wire.subarray(start, strip ? end - d.length : end)));
          start = end;
          continue scan;
        }
      }
    }
    return { frames: out, failed: true }; // input ended inside a frame
  }
  return { frames: out, failed: false };
}

/** Small alphabets, so delimiters occur and overlap often. */
const alphabet = [0x61, 0x62, 0x63];
const delimitersArb = fc.uniqueArray(
  fc.array(fc.constantFrom(...alphabet), { minLength: 1, maxLength: 3 }).map((a) => a.join(",")),
  { minLength: 1, maxLength: 3 },
).map((keys) => keys.map((k) => Uint8Array.from(k.split(",").map(Number))));

function codecOrUndefined(delimiter: Uint8Array[], maxFrameLength: number, strip: boolean) {
  try {
    return new DelimiterCodec({ delimiter, maxFrameLength, stripDelimiter: strip });
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return undefined; // e.g. a delimiter that can never match
  }
}

test("property: any input decodes as the reference framer says, however it is chunked", () => {
  fc.assert(
    fc.property(
      delimitersArb,
      fc.integer({ min: 1, max: 8 }),
      fc.boolean(),
      fc.uint8Array({ maxLength: 120 }).map((b) => b.map((x) => alphabet[x % 3]!)),
      fc.array(fc.nat({ max: 120 }), { maxLength: 30 }),
      (delimiters, max, strip, wire, cuts) => {
        const codec = codecOrUndefined(delimiters, max, strip);
        if (codec === undefined) return;
        const want = reference(delimiters, max, strip, wire);
        const got = decodeAll(codec, cut(wire, cuts), { spans: cuts.length % 2 === 0 });
        assert.deepEqual(got.frames, want.frames);
        assert.equal(got.error !== undefined, want.failed, String(got.error));
      },
    ),
    { numRuns: 500 },
  );
});

test("property: whatever encode accepts decodes back to the same frames", () => {
  fc.assert(
    fc.property(
      delimitersArb,
      fc.array(fc.uint8Array({ maxLength: 10 }).map((b) => b.map((x) => alphabet[x % 3]!)), {
        maxLength: 10,
      }),
      fc.array(fc.nat({ max: 200 }), { maxLength: 20 }),
      (delimiters, input, cuts) => {
        const codec = codecOrUndefined(delimiters, 10, true);
        if (codec === undefined) return;
        const sent = input.filter((frame) => {
          try {
            codec.encodedLength(frame);
            return true;
          } catch (err) {
            assert.ok(err instanceof DelimiterInFrameError, String(err));
            return false;
          }
        });
        const wire = concat(sent.map((frame) => codec.encode(frame)));
        assert.deepEqual(decodeAll(codec, cut(wire, cuts)), {
          frames: sent.map((f) => Array.from(f)),
        });
      },
    ),
    { numRuns: 500 },
  );
});

test("encodeCheckedInto (the writer's second step) writes what encodeInto does, for any frame encodedLength accepts", () => {
  const codecs = [
    new LineCodec(),
    new LineCodec({ lineEnding: "\n" }),
    new DelimiterCodec({ delimiter: ["\r\n.\r\n", ";"] }),
  ];
  fc.assert(
    fc.property(
      fc.constantFrom(...codecs),
      fc.uint8Array({ maxLength: 200 }).map((b) => b.map((x) => [10, 13, 46, 59, 97][x % 5]!)),
      fc.nat(8),
      (codec, frame, offset) => {
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
