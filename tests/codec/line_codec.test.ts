import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  CodecError,
  ConfigError,
  DEFAULT_MAX_DELIMITED_LENGTH,
  DelimiterInFrameError,
  FrameDecoder,
  FrameEncoder,
  FrameTooLargeError,
  IncompleteFrameError,
  LineCodec,
  UnterminatedFrameError,
} from "../../src/codec/mod.ts";
import { ascii, bytes, chunksOf, collect, concat, cut, decodeAll, streamOf } from "./_helpers.ts";

const text = (frames: number[][]) =>
  frames.map((f) => new TextDecoder().decode(Uint8Array.from(f)));

function lines(codec: LineCodec, chunks: readonly (string | Uint8Array)[], spans = false) {
  const { frames, error } = decodeAll(
    codec,
    chunks.map((c) => typeof c === "string" ? ascii(c) : c),
    { spans },
  );
  return error === undefined ? { lines: text(frames) } : { lines: text(frames), error };
}

// ---------------------------------------------------------------- options

test("the defaults: 8 KiB lines, line ending stripped, encode appends CRLF", () => {
  const codec = new LineCodec();
  assert.equal(DEFAULT_MAX_DELIMITED_LENGTH, 8192);
  assert.equal(codec.maxFrameLength, 8192);
  assert.equal(codec.stripDelimiter, true);
  assert.equal(codec.lineEnding, "\r\n");
  assert.deepEqual(codec.encode(ascii("OK")), ascii("OK\r\n"));
});

test("a bad option is a ConfigError naming the option and what it accepts", () => {
  const cases: [unknown, string, RegExp][] = [
    [{ maxFrameLength: 0 }, "maxFrameLength", /must be an integer from 1 to 2147483647 \(got 0\)/],
    [{ maxFrameLength: 1.5 }, "maxFrameLength", /must be an integer/],
    [{ stripDelimiter: "yes" }, "stripDelimiter", /must be a boolean \(got "yes"\)/],
    [{ lineEnding: "\r" }, "lineEnding", /must be one of "\\r\\n", "\\n" \(got "\\r"\)/],
    [{ delimiter: "\n" }, "delimiter", /is not a known option/],
  ];
  for (const [options, option, message] of cases) {
    assert.throws(() => new LineCodec(options as never), (err) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.option, option);
      assert.match(err.message, /^LineCodec: option /);
      assert.match(err.message, message);
      return true;
    });
  }
});

// ---------------------------------------------------------------- decoding

test("LF and CRLF both end a line, and the line ending is stripped", () => {
  const codec = new LineCodec();
  assert.deepEqual(lines(codec, ["a\nb\r\n\nc\r\n\r\n"]), { lines: ["a", "b", "", "c", ""] });
});

test("a lone CR is part of the line; only the CR just before LF belongs to the ending", () => {
  const codec = new LineCodec();
  assert.deepEqual(lines(codec, ["a\rb\n\r\r\n\r\n"]).lines, ["a\rb", "\r", ""]);
});

test("stripDelimiter: false keeps each line's own ending, LF or CRLF", () => {
  const codec = new LineCodec({ stripDelimiter: false });
  assert.deepEqual(lines(codec, ["a\nb\r\n", "c\r", "\n"]).lines, ["a\n", "b\r\n", "c\r\n"]);
});

test("a CRLF split across chunks is one line ending, however the bytes arrive", () => {
  const codec = new LineCodec();
  const wire = ascii("HELO a\r\nMAIL FROM:<x>\r\n\r\nQUIT\r\n");
  for (let size = 1; size <= wire.length; size++) {
    assert.deepEqual(lines(codec, chunksOf(wire, size)), {
      lines: ["HELO a", "MAIL FROM:<x>", "", "QUIT"],
    }, `chunks of ${size}`);
  }
  const keep = new LineCodec({ stripDelimiter: false });
  assert.deepEqual(lines(keep, ["ab\r", "\n"]).lines, ["ab\r\n"]);
  assert.deepEqual(lines(keep, ["ab\r", "\r", "\n"]).lines, ["ab\r\r\n"]);
});

test("decodeSpans emits the same lines as decode", () => {
  const codec = new LineCodec();
  const chunks = ["one\r\ntw", "o\n", "thr", "ee\r", "\nfour\n"];
  assert.deepEqual(lines(codec, chunks, true), lines(codec, chunks));
  assert.deepEqual(lines(codec, chunks, true).lines, ["one", "two", "three", "four"]);
});

test("lines inside one chunk are views of it; a line across chunks is copied once", () => {
  const decoder = new LineCodec().createDecoder();
  const chunk = ascii("ab\r\ncd\nef");
  const views: Uint8Array[] = [];
  decoder.decode(chunk, (line) => views.push(line));
  assert.deepEqual(views.map((v) => [v.byteOffset, v.length]), [[0, 2], [4, 2]]);
  for (const view of views) assert.equal(view.buffer, chunk.buffer);
  const next = ascii("gh\r\n");
  decoder.decode(next, (line) => views.push(line));
  const straddling = views[2]!;
  assert.deepEqual(Array.from(straddling), Array.from(ascii("efgh")));
  assert.notEqual(straddling.buffer, chunk.buffer);
  assert.notEqual(straddling.buffer, next.buffer);
  assert.equal(straddling.byteLength, straddling.buffer.byteLength);
  const spans: [Uint8Array, number, number][] = [];
  const spanDecoder = new LineCodec().createDecoder();
  spanDecoder.decodeSpans!(chunk, (b, start, end) => spans.push([b, start, end]));
  assert.deepEqual(spans.map(([b, s, e]) => [b === chunk, s, e]), [[true, 0, 2], [true, 4, 6]]);
});

test("a chunk that is a view into a larger buffer yields views at the right offsets", () => {
  const backing = new Uint8Array(32).fill(0x7a);
  backing.set(ascii("hi\n"), 10);
  const decoder = new LineCodec().createDecoder();
  const got: Uint8Array[] = [];
  decoder.decode(backing.subarray(10, 13), (line) => got.push(line));
  assert.equal(got[0]!.buffer, backing.buffer);
  assert.equal(got[0]!.byteOffset, 10);
  assert.deepEqual(Array.from(got[0]!), Array.from(ascii("hi")));
});

test("a line of exactly maxFrameLength passes, with either ending, split anywhere", () => {
  const codec = new LineCodec({ maxFrameLength: 4 });
  for (const wire of [ascii("abcd\n"), ascii("abcd\r\n")]) {
    for (let size = 1; size <= wire.length; size++) {
      assert.deepEqual(lines(codec, chunksOf(wire, size)), { lines: ["abcd"] });
    }
  }
  assert.deepEqual(lines(codec, ["abc\r\r\n"]).lines, ["abc\r"]);
});

test("a line one byte too long fails with its exact length when its LF is in view", () => {
  const codec = new LineCodec({ maxFrameLength: 4 });
  const { error } = lines(codec, ["abcde\n"]);
  assert.ok(error instanceof FrameTooLargeError);
  assert.equal(error.frameLength, 5);
  assert.equal(error.atLeast, false);
  assert.equal(error.maxFrameLength, 4);
  assert.equal(error.message, "line of 5 bytes exceeds maxFrameLength 4");
  // With CRLF its LF is the 7th byte: the decoder stops at 6 and knows only a lower bound.
  const crlf = lines(codec, ["abcde\r\n"]).error;
  assert.ok(crlf instanceof FrameTooLargeError);
  assert.equal(crlf.message, "line of at least 5 bytes exceeds maxFrameLength 4");
});

test("a line without LF fails once max + 2 bytes are held, whatever the chunking", () => {
  const codec = new LineCodec({ maxFrameLength: 4 });
  const decoder = codec.createDecoder();
  decoder.decode(ascii("abcd\r"), () => {}); // max + 1 bytes: could still be "abcd" + CRLF
  assert.equal(decoder.buffered, 5);
  assert.throws(() => decoder.decode(ascii("x"), () => {}), (err) => {
    assert.ok(err instanceof FrameTooLargeError && err instanceof CodecError);
    assert.equal(err.code, "ERR_FRAME_TOO_LARGE");
    assert.equal(err.atLeast, true);
    assert.equal(err.frameLength, 5);
    assert.equal(err.message, "line of at least 5 bytes exceeds maxFrameLength 4");
    return true;
  });
  for (let size = 1; size <= 8; size++) {
    const { error } = lines(codec, chunksOf(ascii("abcdefgh\n"), size));
    assert.ok(error instanceof FrameTooLargeError);
    assert.equal(error.message, "line of at least 5 bytes exceeds maxFrameLength 4");
  }
});

test("1 MiB without a newline, fed in small chunks, fails at max + 2 bytes and never holds more", () => {
  const max = 8192;
  const decoder = new LineCodec({ maxFrameLength: max }).createDecoder();
  const chunk = new Uint8Array(100).fill(0x61);
  let fed = 0;
  let peak = 0;
  let error: unknown;
  while (fed < 1024 * 1024) {
    try {
      decoder.decode(chunk, () => assert.fail("no line ends"));
    } catch (err) {
      error = err;
      break;
    }
    fed += chunk.length;
    peak = Math.max(peak, decoder.buffered);
  }
  assert.ok(error instanceof FrameTooLargeError);
  assert.equal(error.atLeast, true);
  assert.ok(peak <= max + 1, `held ${peak} bytes`);
  // It threw in the chunk that brought the bytes held to max + 2.
  assert.ok(fed < max + 2 && fed + chunk.length >= max + 2, `threw after ${fed} bytes`);
  assert.throws(() => decoder.decode(chunk, () => {}), (err) => err === error);
});

test("a line that ends earlier in the chunk passes even if the rest of the chunk is huge", () => {
  const codec = new LineCodec({ maxFrameLength: 4 });
  const huge = concat([ascii("ok\n"), new Uint8Array(1000).fill(0x61)]);
  const decoder = codec.createDecoder();
  const got: string[] = [];
  assert.throws(
    () => decoder.decode(huge, (line) => got.push(new TextDecoder().decode(line))),
    FrameTooLargeError,
  );
  assert.deepEqual(got, ["ok"]);
});

test("EOF mid-line is an UnterminatedFrameError, an IncompleteFrameError; a clean EOF is fine", () => {
  const codec = new LineCodec();
  assert.deepEqual(lines(codec, []), { lines: [] });
  assert.deepEqual(lines(codec, ["a\r\n", new Uint8Array(0)]), { lines: ["a"] });
  for (const chunks of [["a\r\nQUIT"], ["a\r\nQU", "IT"], ["QUI", "T"]]) {
    const { error } = lines(codec, chunks);
    assert.ok(error instanceof UnterminatedFrameError);
    assert.ok(error instanceof IncompleteFrameError);
    assert.equal(error.code, "ERR_INCOMPLETE_FRAME");
    assert.equal(error.received, 4);
    assert.equal(error.frameLength, 5);
    assert.deepEqual(error.delimiters, [bytes(13, 10), bytes(10)]);
    assert.equal(error.message, 'input ended inside a line: got 4 bytes and no "\\r\\n" or "\\n"');
  }
  const cr = lines(codec, ["ab\r"]).error;
  assert.ok(cr instanceof UnterminatedFrameError);
  assert.equal(cr.received, 3);
});

test("after an error the decoder is failed and rethrows the same error", () => {
  const decoder = new LineCodec({ maxFrameLength: 2 }).createDecoder();
  let first: unknown;
  try {
    decoder.decode(ascii("abc\n"), () => {});
  } catch (err) {
    first = err;
  }
  assert.ok(first instanceof FrameTooLargeError);
  assert.throws(() => decoder.decode(ascii("a\n"), () => {}), (err) => err === first);
  assert.throws(() => decoder.finish(), (err) => err === first);
  assert.equal(decoder.buffered, 0);

  const boom = new Error("boom");
  const throwing = new LineCodec().createDecoder();
  assert.throws(() =>
    throwing.decode(ascii("a\n"), () => {
      throw boom;
    }), (err) => err === boom);
  assert.throws(() => throwing.decode(ascii("b\n"), () => {}), (err) => err === boom);
});

test("buffered reports the bytes held for the partial line", () => {
  const decoder = new LineCodec().createDecoder();
  assert.equal(decoder.buffered, 0);
  decoder.decode(ascii("ab"), () => {});
  assert.equal(decoder.buffered, 2);
  decoder.decode(ascii("c\r"), () => {});
  assert.equal(decoder.buffered, 4);
  decoder.decode(ascii("\nxy"), () => {});
  assert.equal(decoder.buffered, 2);
  decoder.decode(ascii("\n"), () => {});
  assert.equal(decoder.buffered, 0);
});

// ---------------------------------------------------------------- encoding

test('lineEnding "\\n" appends LF; encodedLength and encodeInto agree with encode', () => {
  for (const [lineEnding, ending] of [["\r\n", "\r\n"], ["\n", "\n"]] as const) {
    const codec = new LineCodec({ lineEnding });
    const line = ascii("PING");
    assert.deepEqual(codec.encode(line), ascii(`PING${ending}`));
    assert.equal(codec.encodedLength(line), 4 + ending.length);
    const target = new Uint8Array(20).fill(0xee);
    assert.equal(codec.encodeInto(line, target, 3), 4 + ending.length);
    assert.deepEqual(target.subarray(3, 3 + 4 + ending.length), codec.encode(line));
    assert.equal(target[2], 0xee);
    assert.equal(target[3 + 4 + ending.length], 0xee);
  }
});

test("encode refuses a line holding LF, before writing anything", () => {
  const codec = new LineCodec();
  const target = new Uint8Array(16).fill(0xee);
  for (
    const encode of [
      () => codec.encode(ascii("a\nb")),
      () => codec.encodedLength(ascii("a\nb")),
      () => codec.encodeInto(ascii("a\nb"), target, 0),
    ]
  ) {
    assert.throws(encode, (err) => {
      assert.ok(err instanceof DelimiterInFrameError && err instanceof CodecError);
      assert.equal(err.code, "ERR_DELIMITER_IN_FRAME");
      assert.equal(err.index, 1);
      assert.deepEqual(err.delimiter, bytes(10));
      assert.equal(err.frameLength, 3);
      assert.equal(err.message, 'frame of 3 bytes holds the delimiter "\\n" at byte 1');
      return true;
    });
  }
  assert.ok(target.every((b) => b === 0xee));
  const crlf = assertThrowsDelimiter(() => codec.encode(ascii("ab\r\n")));
  assert.deepEqual([crlf.index, Array.from(crlf.delimiter)], [2, [13, 10]]);
});

test('a line ending in CR is refused with the "\\n" ending (the peer would strip it), sent with CRLF', () => {
  const lf = new LineCodec({ lineEnding: "\n" });
  const err = assertThrowsDelimiter(() => lf.encode(ascii("ab\r")));
  assert.equal(err.index, 2);
  assert.deepEqual(err.delimiter, bytes(13, 10));
  assert.equal(
    err.message,
    'frame of 3 bytes followed by "\\n" reads as the delimiter "\\r\\n" at byte 2',
  );
  const crlf = new LineCodec();
  assert.deepEqual(lines(crlf, [crlf.encode(ascii("ab\r"))]).lines, ["ab\r"]);
  assert.deepEqual(lines(lf, [lf.encode(ascii("a\rb"))]).lines, ["a\rb"]);
});

test("encode refuses a line over maxFrameLength and names it a line", () => {
  const codec = new LineCodec({ maxFrameLength: 3 });
  assert.deepEqual(codec.encode(ascii("abc")), ascii("abc\r\n"));
  assert.throws(() => codec.encodedLength(ascii("abcd")), (err) => {
    assert.ok(err instanceof FrameTooLargeError);
    assert.equal(err.message, "line of 4 bytes exceeds maxFrameLength 3");
    assert.equal(err.atLeast, false);
    return true;
  });
  assert.throws(() => codec.encodeInto(ascii("ab"), new Uint8Array(3), 0), RangeError);
});

test("the length codec's FrameTooLargeError message is unchanged", () => {
  const err = new FrameTooLargeError(2000, 1024);
  assert.equal(err.message, "frame body of 2000 bytes exceeds maxFrameLength 1024");
  assert.equal(err.atLeast, false);
});

function assertThrowsDelimiter(fn: () => unknown): DelimiterInFrameError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof DelimiterInFrameError, String(err));
    return err;
  }
  assert.fail("expected a DelimiterInFrameError");
}

// ---------------------------------------------------------------- streams

test("FrameDecoder and FrameEncoder take a LineCodec", async () => {
  const codec = new LineCodec();
  const encoded = await collect(
    streamOf([ascii("a"), ascii("bc")]).pipeThrough(new FrameEncoder(codec)),
  );
  assert.deepEqual(concat(encoded.chunks), ascii("a\r\nbc\r\n"));
  const decoded = await collect(
    streamOf(chunksOf(ascii("a\r\nbc\nd"), 2)).pipeThrough(
      new FrameDecoder(codec),
    ),
  );
  assert.deepEqual(decoded.chunks.map((c) => Array.from(c)), [[0x61], [0x62, 0x63]]);
  assert.ok(decoded.error instanceof UnterminatedFrameError);
});

// ---------------------------------------------------------------- properties

/** A line without LF (CRs anywhere, also at the end: CRLF encoding keeps them). */
const lineArb = fc.uint8Array({ maxLength: 40 }).map((b) => b.map((x) => x === 10 ? 13 : x));

test("property: lines split into any chunks decode back to the same lines", () => {
  fc.assert(
    fc.property(
      fc.array(lineArb, { maxLength: 20 }),
      fc.array(fc.nat({ max: 1000 }), { maxLength: 30 }),
      fc.boolean(),
      (input, cuts, spans) => {
        const codec = new LineCodec({ maxFrameLength: 40 });
        const wire = concat(input.map((line) => codec.encode(line)));
        const { frames, error } = decodeAll(codec, cut(wire, cuts), { spans });
        assert.equal(error, undefined);
        assert.deepEqual(frames, input.map((line) => Array.from(line)));
      },
    ),
    { numRuns: 300 },
  );
});

test("property: LF-terminated lines (no trailing CR) round-trip, and CRLF input decodes the same", () => {
  const noTrailingCr = lineArb.filter((b) => b[b.length - 1] !== 13);
  fc.assert(
    fc.property(
      fc.array(noTrailingCr, { maxLength: 20 }),
      fc.array(fc.boolean(), { minLength: 20, maxLength: 20 }),
      fc.array(fc.nat({ max: 1000 }), { maxLength: 30 }),
      (input, crlf, cuts) => {
        const codec = new LineCodec({ lineEnding: "\n", maxFrameLength: 40 });
        const mixed = concat(
          input.map((line, i) => concat([line, crlf[i] ? bytes(13, 10) : bytes(10)])),
        );
        assert.deepEqual(decodeAll(codec, cut(mixed, cuts)), {
          frames: input.map((l) => Array.from(l)),
        });
      },
    ),
    { numRuns: 300 },
  );
});

test("property: any bytes decode the same however they are chunked, and nothing over the window is held", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 300 }).map((b) =>
        b.map((x) => x % 4 === 0 ? 10 : x % 4 === 1 ? 13 : 97)
      ),
      fc.array(fc.nat({ max: 300 }), { maxLength: 30 }),
      fc.integer({ min: 1, max: 12 }),
      (wire, cuts, max) => {
        const codec = new LineCodec({ maxFrameLength: max, stripDelimiter: false });
        const whole = decodeAll(codec, [wire]);
        const decoder = codec.createDecoder();
        const frames: number[][] = [];
        let error: unknown;
        try {
          for (const chunk of cut(wire, cuts)) {
            decoder.decode(chunk, (f) => frames.push(Array.from(f)));
            assert.ok(decoder.buffered <= max + 1);
          }
          decoder.finish();
        } catch (err) {
          error = err;
        }
        assert.deepEqual(frames, whole.frames);
        assert.equal(String(error), String(whole.error));
        // With the ending kept, the frames are the input, up to where it failed.
        assert.deepEqual(
          concat(frames.map((f) => Uint8Array.from(f))),
          wire.subarray(0, frames.flat().length),
        );
      },
    ),
    { numRuns: 300 },
  );
});
