/**
 * Line framing, Netty's `LineBasedFrameDecoder` with an encoder: a frame
 * ends at `\n`, and a `\r` just before it is part of the line ending.
 *
 * @module
 */
import { z } from "zod";
import { intInRange, oneOf, parseOptions } from "../_internal/options.ts";
import { DEFAULT_MAX_DELIMITED_LENGTH, MAX_FRAME_LIMIT } from "./delimiter.ts";
import { DelimiterDecoder } from "./delimiter_decoder.ts";
import { DelimiterSet } from "./delimiter_set.ts";
import type { FrameCodec, FrameDecoderState } from "./types.ts";

/**
 * Options of {@link LineCodec}; all optional.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LineCodec, type LineOptions } from "@wireframe/wireframe/codec";
 *
 * const options: LineOptions = { maxFrameLength: 1000, lineEnding: "\n" };
 * assert.deepEqual(new LineCodec(options).encode(Uint8Array.of(0x61)), Uint8Array.of(0x61, 10));
 * ```
 */
export interface LineOptions {
  /**
   * Longest line, its line ending not counted: 1 to 2^31-1. Default 8 KiB
   * ({@link DEFAULT_MAX_DELIMITED_LENGTH}).
   */
  maxFrameLength?: number;
  /** Leave the line ending (`\r\n` or `\n`) out of decoded lines. Default true. */
  stripDelimiter?: boolean;
  /**
   * What encode appends to each line: `"\r\n"` (the line ending of SMTP,
   * Redis, IRC, HTTP) or `"\n"`. Decoding accepts both either way. Default
   * `"\r\n"`.
   */
  lineEnding?: "\r\n" | "\n";
}

const schema = z.strictObject({
  maxFrameLength: intInRange(1, MAX_FRAME_LIMIT).default(DEFAULT_MAX_DELIMITED_LENGTH),
  stripDelimiter: z.boolean({ error: "must be a boolean" }).default(true),
  lineEnding: oneOf(["\r\n", "\n"]).default("\r\n"),
});

const CRLF = Uint8Array.of(13, 10);
const LF = Uint8Array.of(10);

/**
 * Lines of text (or bytes) ended by `\n` or `\r\n`, for text protocols. Lines
 * within one chunk decode as views (no copy); lines that straddle chunks are
 * copied once. A line longer than `maxFrameLength` fails with
 * `FrameTooLargeError` as soon as `maxFrameLength + 2` bytes have arrived
 * without a `\n`, so no more than that is ever buffered. A lone `\r` is part
 * of the line. Bytes are not decoded as text: use `TextDecoder` on a line.
 *
 * Encode appends `lineEnding` and refuses (`DelimiterInFrameError`) a line
 * holding a `\n`, or, with the `"\n"` ending, one that ends in `\r` (the peer
 * would strip it): either would not arrive as the line that was sent.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LineCodec } from "@wireframe/wireframe/codec";
 *
 * const codec = new LineCodec({ maxFrameLength: 1000 });
 * const text = new TextEncoder();
 * assert.deepEqual(codec.encode(text.encode("EHLO x")), text.encode("EHLO x\r\n"));
 *
 * const lines: string[] = [];
 * const decoder = codec.createDecoder();
 * const onLine = (line: Uint8Array) => lines.push(new TextDecoder().decode(line));
 * decoder.decode(text.encode("HELO a\r\nNOOP\nQU"), onLine);
 * decoder.decode(text.encode("IT\r\n"), onLine);
 * decoder.finish(); // throws if the input ended inside a line
 * assert.deepEqual(lines, ["HELO a", "NOOP", "QUIT"]);
 * ```
 */
export class LineCodec implements FrameCodec {
  /** Longest line accepted or written, its line ending not counted. */
  readonly maxFrameLength: number;
  /** Whether decoded lines leave out their line ending. */
  readonly stripDelimiter: boolean;
  /** What encode appends to each line. */
  readonly lineEnding: "\r\n" | "\n";
  readonly #set: DelimiterSet;

  /**
   * Validate `options` and apply defaults.
   *
   * @param options see {@link LineOptions}
   * @throws {ConfigError} if an option is out of range
   */
  constructor(options?: LineOptions) {
    const o = parseOptions("LineCodec", schema, options);
    this.maxFrameLength = o.maxFrameLength;
    this.stripDelimiter = o.stripDelimiter;
    this.lineEnding = o.lineEnding;
    const appended = o.lineEnding === "\n" ? LF : CRLF;
    this.#set = new DelimiterSet([CRLF, LF], appended, o.maxFrameLength, o.stripDelimiter, "line");
  }

  /** Fresh decoding state for one byte stream. */
  createDecoder(): FrameDecoderState {
    return new DelimiterDecoder(this.#set);
  }

  /**
   * `line.length` plus the line ending's. Throws as
   * {@link LineCodec.encodeInto} for a line that cannot be sent.
   */
  encodedLength(line: Uint8Array): number {
    return this.#set.encodedLength(line);
  }

  /**
   * Write `line` and `lineEnding` into `target` at `offset`; returns the
   * bytes written.
   *
   * @throws {FrameTooLargeError} if `line` is longer than `maxFrameLength`
   * @throws {DelimiterInFrameError} if `line` holds a `\n`, or ends in `\r`
   *   with the `"\n"` line ending: nothing is written
   * @throws {RangeError} if `target` has no room; nothing is written
   */
  encodeInto(line: Uint8Array, target: Uint8Array, offset: number): number {
    return this.#set.encodeInto(line, target, offset);
  }

  /**
   * {@link LineCodec.encodeInto} without its checks, for a line that
   * `encodedLength` accepted and that has not changed since: a frame writer
   * sizes each frame when it queues it, so the line is scanned once.
   */
  encodeCheckedInto(line: Uint8Array, target: Uint8Array, offset: number): number {
    return this.#set.writeInto(line, target, offset);
  }

  /** Encode `line` into a new buffer: the line, then `lineEnding`. Throws as {@link LineCodec.encodeInto}. */
  encode(line: Uint8Array): Uint8Array {
    return this.#set.encode(line);
  }
}
